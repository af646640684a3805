import ArgumentParser
import KofuConfiguration
import Foundation
import KofuJSON
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
        let settings: KofuConfig
        do {
            settings = try KofuConfig.load(path: config)
        } catch {
            Self.fail("\(config): \(error)")
        }
        guard case .sqlite(let folder) = settings.replica else {
            Self.fail("replica.url: the PostgreSQL replica is not available yet; use replica.path")
        }
        guard let handle = FileHandle(forReadingAtPath: batch) else { Self.fail("cannot read batch file \(batch)") }
        let data = (try? handle.read(upToCount: Self.maxBytes + 1)) ?? Data()
        try? handle.close()
        guard data.count <= Self.maxBytes else {
            refuse(Problem(status: 413, code: "PAYLOAD_TOO_LARGE", title: "The batch is over 64 MiB"))
        }
        let decoded: SyncBatch
        do {
            decoded = try SyncBatch.decode([UInt8](data))
        } catch {
            if error.tooLarge { refuse(Problem(status: 413, code: "PAYLOAD_TOO_LARGE", title: error.message)) }
            if error.isMalformedBatch { refuse(Problem(status: 400, code: "MALFORMED_REQUEST", title: error.message)) }
            refuse(Problem.invalidEvent(error))
        }
        do {
            let store = try SQLiteReplica(folder: folder)
            let result = try store.apply(decoded, at: Date())
            print(String(decoding: serialize(.object(JSONObject([
                ("applied", .number(JSONNumber(result.applied))), ("skipped", .number(JSONNumber(result.skipped))),
                ("lastSeq", .number(JSONNumber(result.lastSeq))),
            ])!)), as: UTF8.self))
        } catch let error as ApplyError {
            switch error {
            case .sequenceGap(let expected):
                var problem = Problem(status: 409, code: "SEQUENCE_GAP", title: "The first new event must be seq \(expected)")
                problem.extra = [("expected", .number(JSONNumber(expected)))]
                refuse(problem)
            case .invalid(let invalid): refuse(Problem.invalidEvent(invalid))
            case .store(let message): Self.fail(message)
            }
        } catch {
            Self.fail("\(error)")
        }
    }

    func refuse(_ problem: Problem) -> Never {
        print(String(decoding: problem.json, as: UTF8.self))
        Self.exit(withError: ExitCode(1))
    }
}

/// An RFC 9457 problem document with the members of center-api.md's Errors.
struct Problem {
    let status: Int
    let code: String
    let title: String
    var extra: [(String, JSONValue)] = []

    static let kioskMessage = "お取り扱いできません。市役所の窓口にお問い合わせください。"

    init(status: Int, code: String, title: String) {
        self.status = status
        self.code = code
        self.title = title
    }

    static func invalidEvent(_ e: InvalidEvent) -> Problem {
        var p = Problem(status: 422, code: "INVALID_EVENT", title: "Invalid event: \(e.field): \(e.message)")
        p.extra = [("index", e.index.map { .number(JSONNumber($0)) } ?? .null),
                   ("seq", e.seq.map { .number(JSONNumber($0)) } ?? .null), ("field", .string(e.field))]
        return p
    }

    var json: [UInt8] {
        let members: [(key: String, value: JSONValue)] = [
            ("type", .string("urn:kofu:problem:" + code.lowercased().replacingOccurrences(of: "_", with: "-"))),
            ("title", .string(title)), ("status", .number(JSONNumber(status))), ("code", .string(code)),
            ("kioskMessage", .string(Problem.kioskMessage)), ("requestId", .string(UUID().uuidString.lowercased())),
        ] + extra.map { (key: $0.0, value: $0.1) }
        return serialize(.object(JSONObject(members)!))
    }
}
