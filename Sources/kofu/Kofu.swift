import ArgumentParser
#if canImport(Glibc)
@preconcurrency import Glibc
#endif
import Foundation
import KofuConfiguration

@main
struct Kofu: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kofu",
        abstract: "The municipal backend of コンビニ交付: renders 住民票の写し and 印鑑登録証明書 as PDF.",
        discussion: """
            Exit status: 0 success, 1 a refused input or failed check, 2 a usage error.
            See README.md for the configuration file and the two listeners.
            """,
        subcommands: [Serve.self, Demo.self, Loadtest.self, Config.self, Sync.self, Reseed.self, Audit.self, Suspend.self, Resume.self, Bench.self])

    /// ArgumentParser exits 64 on a usage error; operations.md wants 2 (and 1 for a refused input).
    static func main() {
        // Line-buffered standard output, so that a caller reading a pipe or file (demo paths,
        // loadtest reports) sees each line when it is printed.
        setvbuf(stdout, nil, _IOLBF, 0)
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            let code = exitCode(for: error)
            if code == .success {
                print(fullMessage(for: error))
                Foundation.exit(0)
            }
            FileHandleStderr.write(fullMessage(for: error) + "\n")
            Foundation.exit(code == .validationFailure ? 2 : code.rawValue)
        }
    }
}

extension ParsableCommand {
    /// The configuration named by `--config`, or exit 1 naming the file and the fault.
    static func loadConfiguration(_ path: String) -> KofuConfig {
        do {
            return try KofuConfig.load(path: path)
        } catch {
            fail("\(path): \(error)")
        }
    }

    static func fail(_ message: String) -> Never {
        var stderr = StandardError()
        print("kofu: \(message)", to: &stderr)
        Self.exit(withError: ExitCode(1))
    }
}

struct StandardError: TextOutputStream {
    mutating func write(_ string: String) {
        FileHandleStderr.write(string)
    }
}
