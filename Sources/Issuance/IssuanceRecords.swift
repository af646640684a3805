import Foundation
import KofuJSON
import Replica

/// Where a server keeps what outlives a request: the idempotency answers, the issuances'
/// outcomes and the audit chain. One server: `LocalIssuanceRecords` (the SQLite state file in
/// `[replica] path` and `audit.log` in `[audit] path`). Several servers: `SharedIssuanceRecords`
/// (PostgreSQL, `[replica] url`), where a requestId answered by one server is answered the same by
/// every other.
public protocol IssuanceRecords: Sendable {
    func answer(requestId: String) throws -> StoredAnswer?
    /// Makes the audit records and the answers durable (audit first: nothing is answered
    /// unaudited) and returns, for each answer, the one kept for its requestId: its own, or the
    /// one another server recorded first (then its audit record is not appended).
    func commit(_ items: [(audit: JSONObject?, answer: StoredAnswer)], createdAt: Int64) throws -> [StoredAnswer]
    func issuance(_ id: String) throws -> IssuanceOutcomeState?
    /// Appends `audit` and sets the outcome if none is recorded yet; returns the state after.
    func setOutcome(_ id: String, outcome: String, recordedAt: String, audit: JSONObject) throws -> IssuanceOutcomeState?
    @discardableResult func purge(now: Int64) throws -> Int
}

/// One server's records: `IssuanceStateStore` and `AuditLog`, as before there were several.
public struct LocalIssuanceRecords: IssuanceRecords {
    let state: IssuanceStateStore
    let audit: AuditLog

    public init(state: IssuanceStateStore, audit: AuditLog) {
        self.state = state
        self.audit = audit
    }

    public func answer(requestId: String) throws -> StoredAnswer? { try state.answer(requestId: requestId) }

    public func commit(_ items: [(audit: JSONObject?, answer: StoredAnswer)], createdAt: Int64) throws -> [StoredAnswer] {
        let records = items.compactMap(\.audit)
        if !records.isEmpty { try audit.append(records) }
        try state.record(items.map(\.answer), createdAt: createdAt)
        return items.map(\.answer)
    }

    public func issuance(_ id: String) throws -> IssuanceOutcomeState? { try state.issuance(id) }

    public func setOutcome(_ id: String, outcome: String, recordedAt: String, audit record: JSONObject) throws -> IssuanceOutcomeState? {
        try audit.append([record])
        return try state.setOutcome(id, outcome: outcome, recordedAt: recordedAt)
    }

    public func purge(now: Int64) throws -> Int { try state.purge(now: now) }
}

/// The records of several servers, in PostgreSQL (`PostgresIssuanceState`); the audit lines are
/// made by `AuditLog.line`, so `kofu audit verify` checks them as it checks `audit.log`.
public struct SharedIssuanceRecords: IssuanceRecords {
    public let store: PostgresIssuanceState

    public init(store: PostgresIssuanceState) { self.store = store }

    public func answer(requestId: String) throws -> StoredAnswer? { try store.answer(requestId: requestId) }

    public func commit(_ items: [(audit: JSONObject?, answer: StoredAnswer)], createdAt: Int64) throws -> [StoredAnswer] {
        try store.commit(items.map { (answer: $0.answer, audit: $0.audit) }, createdAt: createdAt) { AuditLog.line(seq: $0, prev: $1, record: $2) }
    }

    public func issuance(_ id: String) throws -> IssuanceOutcomeState? { try store.issuance(id) }

    public func setOutcome(_ id: String, outcome: String, recordedAt: String, audit: JSONObject) throws -> IssuanceOutcomeState? {
        try store.setOutcome(id, outcome: outcome, recordedAt: recordedAt, audit: audit) { AuditLog.line(seq: $0, prev: $1, record: $2) }
    }

    public func purge(now: Int64) throws -> Int { try store.purge(now: now) }

    /// `kofu audit verify` for the chain in the database.
    public static func verify(_ store: PostgresIssuanceState) -> AuditLog.Verification {
        do {
            let (log, head) = try store.auditExport()
            if log.isEmpty && head == nil { return AuditLog.Verification(records: 0, fault: nil) }
            return AuditLog.verify(log: log, head: head, headName: "the audit head row (\(store.namespace).audit_head)")
        } catch {
            return AuditLog.Verification(records: 0, fault: "\(error)")
        }
    }
}
