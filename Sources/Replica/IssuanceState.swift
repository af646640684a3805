internal import CSQLite
import Foundation

/// An answered Center API request, kept for idempotency (center-api.md "Idempotency and replay").
///
/// The body of an answer (the eligibility JSON or the certificate PDF) is resident data, which is
/// why this store lives in the replica's folder and nowhere else. A body is only needed while a
/// byte-identical request can still be fresh (`issuedAt` ± the clock skew), so it is erased
/// (`secure_delete`) once `bodyExpiresAt` has passed; the rest of the record (hashes, 交付番号)
/// stays for 24 h so that a reused requestId is still recognised.
public struct StoredAnswer: Sendable, Equatable {
    public let requestId: String
    public let endpoint: String
    public let payloadSHA256: [UInt8]
    public let certSHA256: String
    public let status: Int
    public let issuanceId: String?
    public let kind: String?
    public let pageCount: Int
    public let copies: Int
    public let body: [UInt8]?
    /// Unix seconds after which the body is erased.
    public let bodyExpiresAt: Int64
    /// Unix seconds at which the whole record is removed.
    public let expiresAt: Int64

    public init(requestId: String, endpoint: String, payloadSHA256: [UInt8], certSHA256: String, status: Int,
                issuanceId: String?, kind: String?, pageCount: Int, copies: Int, body: [UInt8]?,
                bodyExpiresAt: Int64, expiresAt: Int64) {
        self.requestId = requestId
        self.endpoint = endpoint
        self.payloadSHA256 = payloadSHA256
        self.certSHA256 = certSHA256
        self.status = status
        self.issuanceId = issuanceId
        self.kind = kind
        self.pageCount = pageCount
        self.copies = copies
        self.body = body
        self.bodyExpiresAt = bodyExpiresAt
        self.expiresAt = expiresAt
    }
}

/// The final state of an issuance as far as the center reported it.
public struct IssuanceOutcomeState: Sendable, Equatable {
    public let issuanceId: String
    public let outcome: String?
    public let recordedAt: String?
}

/// Answers for idempotency and the issuances' outcomes, in `<replica>/issuance-state.sqlite`.
/// Kept across reseeds (a reseed replaces only the replica store files). Every write is one
/// transaction, durable (WAL, synchronous=FULL) when the call returns.
public final class IssuanceStateStore: @unchecked Sendable {
    public static let fileName = "issuance-state.sqlite"
    private let connection: SQLiteConnection
    private let lock = NSLock()
    /// Lookups use a connection of their own, so that they never wait for a commit's fsync (WAL:
    /// readers and the writer do not block each other).
    private let reader: SQLiteConnection
    private let readerLock = NSLock()

    public init(folder: String) throws(StoreError) {
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(message: "cannot create \(folder): \(error)")
        }
        connection = try SQLiteConnection(path: folder + "/" + Self.fileName)
        try connection.execute("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA secure_delete=ON;
            CREATE TABLE IF NOT EXISTS answers (request_id TEXT PRIMARY KEY, endpoint TEXT NOT NULL,
                payload_sha256 BLOB NOT NULL, cert_sha256 TEXT NOT NULL, status INTEGER NOT NULL,
                issuance_id TEXT, kind TEXT, page_count INTEGER NOT NULL, copies INTEGER NOT NULL, body BLOB,
                body_expires_at INTEGER NOT NULL, expires_at INTEGER NOT NULL);
            CREATE INDEX IF NOT EXISTS answers_body_expiry ON answers (body_expires_at) WHERE body IS NOT NULL;
            CREATE INDEX IF NOT EXISTS answers_expiry ON answers (expires_at);
            CREATE TABLE IF NOT EXISTS issuances (id TEXT PRIMARY KEY, kind TEXT NOT NULL, created_at INTEGER NOT NULL,
                outcome TEXT, recorded_at TEXT);
            """)
        reader = try SQLiteConnection(path: folder + "/" + Self.fileName, readOnly: true)
    }

    public func answer(requestId: String) throws(StoreError) -> StoredAnswer? {
        readerLock.lock()
        defer { readerLock.unlock() }
        let s = try reader.cached("""
            SELECT endpoint, payload_sha256, cert_sha256, status, issuance_id, kind, page_count, copies, body,
                body_expires_at, expires_at FROM answers WHERE request_id = ?
            """).bind([.text(requestId)])
        defer { s.reset() }
        guard try s.step() else { return nil }
        return StoredAnswer(requestId: requestId, endpoint: s.text(0), payloadSHA256: s.blob(1), certSHA256: s.text(2),
                            status: Int(s.int(3)), issuanceId: s.isNull(4) ? nil : s.text(4), kind: s.isNull(5) ? nil : s.text(5),
                            pageCount: Int(s.int(6)), copies: Int(s.int(7)), body: s.isNull(8) ? nil : s.blob(8),
                            bodyExpiresAt: s.int(9), expiresAt: s.int(10))
    }

    /// Records answers (and their issuances) in one durable transaction. An answer whose
    /// requestId is already recorded keeps the first record.
    public func record(_ answers: [StoredAnswer], createdAt: Int64) throws(StoreError) {
        lock.lock()
        defer { lock.unlock() }
        do {
            try connection.transaction {
                let insert = try connection.cached("""
                    INSERT OR IGNORE INTO answers VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    """)
                let issuance = try connection.cached("INSERT OR IGNORE INTO issuances VALUES (?, ?, ?, NULL, NULL)")
                for a in answers {
                    try insert.run([
                        .text(a.requestId), .text(a.endpoint), .blob(a.payloadSHA256), .text(a.certSHA256), .int(Int64(a.status)),
                        a.issuanceId.map { .text($0) } ?? .null, a.kind.map { .text($0) } ?? .null,
                        .int(Int64(a.pageCount)), .int(Int64(a.copies)), a.body.map { .blob($0) } ?? .null,
                        .int(a.bodyExpiresAt), .int(a.expiresAt),
                    ])
                    if let id = a.issuanceId, let kind = a.kind {
                        try issuance.run([.text(id), .text(kind), .int(createdAt)])
                    }
                }
            }
        } catch {
            throw StoreError(message: "\(error)")
        }
    }

    public func issuance(_ id: String) throws(StoreError) -> IssuanceOutcomeState? {
        lock.lock()
        defer { lock.unlock() }
        let s = try connection.prepare("SELECT outcome, recorded_at FROM issuances WHERE id = ?").bind([.text(id)])
        guard try s.step() else { return nil }
        return IssuanceOutcomeState(issuanceId: id, outcome: s.isNull(0) ? nil : s.text(0),
                                    recordedAt: s.isNull(1) ? nil : s.text(1))
    }

    /// Sets the outcome if none is recorded yet; returns the state after the call.
    public func setOutcome(_ id: String, outcome: String, recordedAt: String) throws(StoreError) -> IssuanceOutcomeState? {
        lock.lock()
        defer { lock.unlock() }
        try connection.prepare("UPDATE issuances SET outcome = ?, recorded_at = ? WHERE id = ? AND outcome IS NULL")
            .run([.text(outcome), .text(recordedAt), .text(id)])
        let s = try connection.prepare("SELECT outcome, recorded_at FROM issuances WHERE id = ?").bind([.text(id)])
        guard try s.step() else { return nil }
        return IssuanceOutcomeState(issuanceId: id, outcome: s.isNull(0) ? nil : s.text(0),
                                    recordedAt: s.isNull(1) ? nil : s.text(1))
    }

    /// Erases bodies past their time and forgets answers past theirs. Returns the bodies erased.
    @discardableResult
    public func purge(now: Int64) throws(StoreError) -> Int {
        lock.lock()
        defer { lock.unlock() }
        let count = try connection.prepare("SELECT count(*) FROM answers WHERE body IS NOT NULL AND body_expires_at < ?")
            .bind([.int(now)])
        let erased = try count.step() ? Int(count.int(0)) : 0
        try connection.prepare("UPDATE answers SET body = NULL WHERE body IS NOT NULL AND body_expires_at < ?").run([.int(now)])
        try connection.prepare("DELETE FROM answers WHERE expires_at < ?").run([.int(now)])
        return erased
    }
}
