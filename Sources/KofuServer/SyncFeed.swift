import Foundation
import KofuJSON
import Replica

/// POST /v1/sync/batches and GET /v1/sync/status as functions of bytes, shared by the sync
/// listener and `kofu sync apply` so that both give the same answers.
public enum SyncFeed {
    public static let maxBodyBytes = 64 * 1024 * 1024

    public enum Answer: Sendable {
        case applied(ApplyResult)
        case refused(Problem)
        /// A store failure: the batch is not applied; the operator message is for the log only.
        case failed(String)
    }

    public static func apply(_ body: [UInt8], to store: any ReplicaStore, at now: Date) -> Answer {
        guard body.count <= maxBodyBytes else { return .refused(Problem(code: "PAYLOAD_TOO_LARGE")) }
        let batch: SyncBatch
        do {
            batch = try SyncBatch.decode(body)
        } catch {
            if error.tooLarge { return .refused(Problem(code: "PAYLOAD_TOO_LARGE")) }
            if error.isMalformedBatch {
                return .refused(Problem(code: "MALFORMED_REQUEST", extra: [("detail", .string(error.message))]))
            }
            return .refused(invalidEvent(index: error.index, seq: error.seq, field: error.field, message: error.message))
        }
        do {
            return .applied(try store.apply(batch, at: now))
        } catch {
            switch error {
            case .sequenceGap(let expected):
                return .refused(Problem(code: "SEQUENCE_GAP", extra: [("expected", .number(JSONNumber(expected)))]))
            case .invalid(let e):
                return .refused(invalidEvent(index: e.index, seq: e.seq, field: e.field, message: e.message))
            case .store(let message):
                return .failed(message)
            }
        }
    }

    static func invalidEvent(index: Int?, seq: Int64?, field: String, message: String) -> Problem {
        Problem(code: "INVALID_EVENT", extra: [
            ("index", index.map { .number(JSONNumber($0)) } ?? .null),
            ("seq", seq.map { .number(JSONNumber($0)) } ?? .null),
            ("field", .string(field)),
            ("detail", .string(message)),
        ])
    }

    public static func json(_ result: ApplyResult) -> [UInt8] {
        serialize(.object(JSONObject([
            ("applied", .number(JSONNumber(result.applied))), ("skipped", .number(JSONNumber(result.skipped))),
            ("lastSeq", .number(JSONNumber(result.lastSeq))),
        ])!))
    }

    public static func json(_ s: SyncStatus) -> [UInt8] {
        serialize(.object(JSONObject([
            ("lastSeq", .number(JSONNumber(s.lastSeq))),
            ("residents", .number(JSONNumber(s.residents))),
            ("households", .number(JSONNumber(s.households))),
            ("seals", .number(JSONNumber(s.seals))),
            ("cards", .number(JSONNumber(s.cards))),
            ("restrictions", .number(JSONNumber(s.restrictions))),
            ("logicallyDeleted", .number(JSONNumber(s.logicallyDeleted))),
            ("lastAppliedAt", s.lastAppliedAt.map { .string($0) } ?? .null),
            ("reseededAt", s.reseededAt.map { .string($0) } ?? .null),
        ])!))
    }
}
