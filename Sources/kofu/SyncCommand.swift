import ArgumentParser
import KofuConfiguration
import Foundation
import KofuJSON
import KofuServer
import Replica

struct Sync: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "The sync feed from the command line.",
        subcommands: [SyncApply.self])
}

struct SyncApply: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply",
        abstract: "Apply one sync batch file to the replica, with the rules of POST /v1/sync/batches.",
        discussion: """
            Prints the answer's JSON object ({"applied", "skipped", "lastSeq"}) and exits 0 when the batch \
            is applied and durable; prints the problem document (SEQUENCE_GAP with expected, INVALID_EVENT \
            with index, seq and field, …) and exits 1 when it is refused, in which case nothing of it was \
            applied. The batch is never read from standard input.
            """)

    @Option(help: "The configuration file (TOML).")
    var config: String

    @Argument(help: "The batch file: the same JSON as the body of POST /v1/sync/batches.")
    var batch: String

    static let maxBytes = 64 * 1024 * 1024

    func run() throws {
        let settings = Self.loadConfiguration(config)
        guard let handle = FileHandle(forReadingAtPath: batch) else { Self.fail("cannot read batch file \(batch)") }
        let data = (try? handle.read(upToCount: SyncFeed.maxBodyBytes + 1)) ?? Data()
        try? handle.close()
        let store: any ReplicaStore
        do {
            store = try ReplicaStores.open(settings.replica)
        } catch {
            Self.fail("\(ReplicaStores.describe(settings.replica)): \(error)")
        }
        // The same function the sync listener answers with: the same answers and problem documents.
        switch SyncFeed.apply([UInt8](data), to: store, at: Date()) {
        case .applied(let result): print(String(decoding: SyncFeed.json(result), as: UTF8.self))
        case .refused(let problem): refuse(problem)
        case .failed(let message): Self.fail(message)
        }
    }

    func refuse(_ problem: Problem) -> Never {
        print(String(decoding: problem.json, as: UTF8.self))
        Self.exit(withError: ExitCode(1))
    }
}
