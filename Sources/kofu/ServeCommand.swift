import ArgumentParser
import Foundation
import Issuance
import KofuConfiguration
import KofuServer
import Logging

struct Serve: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run the Center API listener and the sync listener until SIGTERM or SIGINT.",
        discussion: """
            Reads and validates the whole configuration first and exits 1 naming the key or file when \
            anything is wrong, before any listener opens. Without [tls] both listeners must be on loopback \
            addresses (plain HTTP, development mode, announced on standard error). On SIGTERM or SIGINT \
            the server accepts no new connection, answers every request in flight and exits 0. The log is \
            written to standard error, one event per line; it never holds resident data.
            Templates/ is looked up beside the executable (../share/kofu/Templates), then in the checkout \
            it was built from, or given with --templates.
            """)

    @Option(help: "The configuration file (TOML).")
    var config: String

    @Option(help: "The folder holding juminhyo.json and inkan.json (default: found automatically).")
    var templates: String?

    func run() throws {
        let settings = Self.loadConfiguration(config)
        guard let templatesDirectory = locateTemplates(templates) else {
            Self.fail("cannot find Templates/ (juminhyo.json); pass --templates")
        }
        let logger = makeLogger()
        let server: KofuServer
        do {
            server = try KofuServer(config: settings, templatesDirectory: templatesDirectory, logger: logger)
        } catch {
            Self.fail("\(config): \(error)")
        }
        let failure = runBlocking {
            try await server.run(onListening: { name, port in
                logger.info("listening", metadata: ["listener": .string(name), "port": .string(String(port))])
            })
        }
        if let failure { Self.fail("\(failure)") }
    }
}

/// One line per event on standard error.
func makeLogger() -> Logger {
    var logger = Logger(label: "kofu", factory: { StreamLogHandler.standardError(label: $0) })
    logger.logLevel = .info
    return logger
}

/// Runs an async body from a synchronous command and waits for it; returns its error, if any.
func runBlocking(_ body: @escaping @Sendable () async throws -> Void) -> (any Error)? {
    final class Box: @unchecked Sendable { var error: (any Error)? }
    let box = Box()
    let done = DispatchSemaphore(value: 0)
    Task {
        do { try await body() } catch { box.error = error }
        done.signal()
    }
    done.wait()
    return box.error
}

func locateTemplates(_ explicit: String?) -> String? {
    if let explicit { return explicit }
    let exe = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
    let installed = exe.deletingLastPathComponent().appendingPathComponent("share/kofu/Templates").path
    if FileManager.default.fileExists(atPath: installed + "/juminhyo.json") { return installed }
    return locateRoot(nil).map { $0 + "/Templates" }
}
