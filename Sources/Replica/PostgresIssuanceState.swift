import Foundation

/// The idempotency records, the issuances' outcomes, the audit chain and the keyed-hash key in
/// PostgreSQL (`[replica] url`), in the control schema beside the replica's pointer row (kept
/// across reseeds), so that several servers answer as one:
///
/// - `commit` records answers and appends the audit records of new issuances in one
///   transaction. An answer whose requestId is already recorded (by any server, or by one still
///   committing: the unique index makes this transaction wait for it) is not recorded again and
///   its audit record is not appended; the answer returned for it is the one kept, so a retried
///   request gets the first server's 交付番号 and bytes.
/// - The audit chain is appended with its head row locked (`FOR UPDATE`): appenders on every
///   server form one chain. Each record is stored as the exact line an `audit.log` would hold, so
///   `kofu audit verify` checks it with the same code.
/// - Every transaction commits with `synchronous_commit = on`: durable when the call returns.
public final class PostgresIssuanceState: @unchecked Sendable {
    public let namespace: String
    private let url: String
    private var connection: PGConnection?
    private let lock = NSLock()
    /// Lookups use connections of their own, so that they never wait for a commit.
    private var readers: [PGConnection] = []
    private let readersLock = NSLock()

    public init(url: String, namespace: String = "kofu") throws(StoreError) {
        self.url = url
        self.namespace = namespace
        let c = try PGConnection(url: url, application: "kofu \(namespace)")
        let n = namespace
        do {
            try c.execute("BEGIN")
            try c.query("SELECT pg_advisory_xact_lock($1::int4, hashtext($2))", [.int(Int64(PostgresReplica.initLockClass)), .text(n)])
            try c.execute("""
                CREATE SCHEMA IF NOT EXISTS \(n);
                CREATE TABLE IF NOT EXISTS \(n).answers (request_id text COLLATE "C" PRIMARY KEY, endpoint text NOT NULL,
                    payload_sha256 bytea NOT NULL, cert_sha256 text NOT NULL, status bigint NOT NULL, issuance_id text, kind text,
                    page_count bigint NOT NULL, copies bigint NOT NULL, body bytea, body_expires_at bigint NOT NULL,
                    expires_at bigint NOT NULL);
                CREATE INDEX IF NOT EXISTS answers_body_expiry ON \(n).answers (body_expires_at) WHERE body IS NOT NULL;
                CREATE INDEX IF NOT EXISTS answers_expiry ON \(n).answers (expires_at);
                CREATE TABLE IF NOT EXISTS \(n).issuances (id text COLLATE "C" PRIMARY KEY, kind text NOT NULL,
                    created_at bigint NOT NULL, outcome text, recorded_at text);
                CREATE TABLE IF NOT EXISTS \(n).audit (seq bigint PRIMARY KEY, line bytea NOT NULL);
                CREATE TABLE IF NOT EXISTS \(n).audit_head (id int PRIMARY KEY CHECK (id = 1), seq bigint NOT NULL,
                    hash text NOT NULL, issuance_id text NOT NULL);
                INSERT INTO \(n).audit_head VALUES (1, 0, '\(String(repeating: "0", count: 64))', '') ON CONFLICT DO NOTHING;
                CREATE TABLE IF NOT EXISTS \(n).secrets (name text PRIMARY KEY, value bytea NOT NULL);
                CREATE TABLE IF NOT EXISTS \(n).suspension (id int PRIMARY KEY CHECK (id = 1), since text NOT NULL);
                """)
            try c.execute("COMMIT")
        } catch {
            try? c.execute("ROLLBACK")
            throw StoreError(message: "\(PostgresReplica.redacted(url)) (schema \(n)): \(error)")
        }
        connection = c
    }

    private func failure(_ error: any Error) -> StoreError {
        error as? StoreError ?? StoreError(message: "\(PostgresReplica.redacted(url)) (schema \(namespace)): \(error)")
    }

    /// Runs `body` in a transaction on the writing connection; a deadlock or serialization
    /// failure (another server's transaction) rolls back and runs it again.
    private func transaction<T>(_ body: (PGConnection) throws -> T) throws(StoreError) -> T {
        lock.lock()
        defer { lock.unlock() }
        var attempt = 0
        while true {
            attempt += 1
            if connection == nil || connection!.isBroken { connection = nil; connection = try PGConnection(url: url, application: "kofu \(namespace)") }
            let c = connection!
            var begun = false
            do {
                try c.execute("BEGIN")
                begun = true
                let result = try body(c)
                try c.execute("COMMIT")
                return result
            } catch {
                try? c.execute("ROLLBACK")
                if c.isBroken { connection = nil }
                // A connection the server closed before anything ran: once more on a new one.
                if !begun, c.isBroken, attempt < 5 { continue }
                if let f = error as? PGFailure, f.sqlstate == "40P01" || f.sqlstate == "40001", attempt < 5 { continue }
                throw failure(error)
            }
        }
    }

    private func withReader<T>(_ body: (PGConnection) throws -> T) throws(StoreError) -> T {
        readersLock.lock()
        let pooled = readers.popLast()
        readersLock.unlock()
        var c: PGConnection
        if let pooled, !pooled.isBroken { c = pooled } else { c = try PGConnection(url: url, application: "kofu \(namespace)") }
        do {
            let result: T
            do {
                result = try body(c)
            } catch {
                // A pooled connection the server closed meanwhile: the lookups only read, so
                // they run once more on a new connection.
                guard c.isBroken else { throw error }
                c = try PGConnection(url: url, application: "kofu \(namespace)")
                result = try body(c)
            }
            readersLock.lock()
            if readers.count < 8 { readers.append(c) }
            readersLock.unlock()
            return result
        } catch {
            throw failure(error)
        }
    }

    static func answer(_ r: PGResult, requestId: String) -> StoredAnswer {
        StoredAnswer(requestId: requestId, endpoint: r.text(0, 0), payloadSHA256: r.bytes(0, 1), certSHA256: r.text(0, 2),
                     status: Int(r.int(0, 3)), issuanceId: r.isNull(0, 4) ? nil : r.text(0, 4), kind: r.isNull(0, 5) ? nil : r.text(0, 5),
                     pageCount: Int(r.int(0, 6)), copies: Int(r.int(0, 7)), body: r.isNull(0, 8) ? nil : r.bytes(0, 8),
                     bodyExpiresAt: r.int(0, 9), expiresAt: r.int(0, 10))
    }

    private var answerSQL: String {
        """
        SELECT endpoint, payload_sha256, cert_sha256, status, issuance_id, kind, page_count, copies, body,
            body_expires_at, expires_at FROM \(namespace).answers WHERE request_id = $1
        """
    }

    public func answer(requestId: String) throws(StoreError) -> StoredAnswer? {
        try withReader { c in
            let r = try c.query(answerSQL, [.text(requestId)])
            return r.rows > 0 ? Self.answer(r, requestId: requestId) : nil
        }
    }

    /// Records `items` (see the type's documentation) and returns, for each, the answer kept for
    /// its requestId: its own, or the one recorded first. `line` makes an audit record's stored
    /// line and hash from its seq, the previous record's hash and the record.
    public func commit<Record>(_ items: [(answer: StoredAnswer, audit: Record?)], createdAt: Int64,
                               line: (_ seq: Int64, _ prev: String, _ record: Record) -> (bytes: [UInt8], hash: String, issuanceId: String))
        throws(StoreError) -> [StoredAnswer] {
        try transaction { c in
            var kept: [StoredAnswer?] = Array(repeating: nil, count: items.count)
            var own = Array(repeating: false, count: items.count)
            var audits: [Record] = []
            // In requestId order, so that two servers' groups never wait for each other in a cycle.
            for i in items.indices.sorted(by: { Array(items[$0].answer.requestId.utf8).lexicographicallyPrecedes(Array(items[$1].answer.requestId.utf8)) }) {
                let a = items[i].answer
                let inserted = try c.query("""
                    INSERT INTO \(namespace).answers VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                    ON CONFLICT (request_id) DO NOTHING RETURNING 1
                    """, [.text(a.requestId), .text(a.endpoint), .bytes(a.payloadSHA256), .text(a.certSHA256), .int(Int64(a.status)),
                          a.issuanceId.map { .text($0) } ?? .null, a.kind.map { .text($0) } ?? .null, .int(Int64(a.pageCount)),
                          .int(Int64(a.copies)), a.body.map { .bytes($0) } ?? .null, .int(a.bodyExpiresAt), .int(a.expiresAt)])
                if inserted.rows == 0 {
                    let r = try c.query(answerSQL, [.text(a.requestId)])
                    kept[i] = r.rows > 0 ? Self.answer(r, requestId: a.requestId) : a
                    continue
                }
                kept[i] = a
                own[i] = true
                if let id = a.issuanceId, let kind = a.kind {
                    try c.query("INSERT INTO \(namespace).issuances VALUES ($1, $2, $3, NULL, NULL) ON CONFLICT DO NOTHING",
                                [.text(id), .text(kind), .int(createdAt)])
                }
            }
            // Audit records in the order the items came (the order of the single-server log).
            for i in items.indices where own[i] {
                if let record = items[i].audit { audits.append(record) }
            }
            if !audits.isEmpty { try append(audits, on: c, line: line) }
            return kept.map { $0! }
        }
    }

    /// Appends to the chain with its head row locked: one chain whichever server appends.
    private func append<Record>(_ records: [Record], on c: PGConnection,
                                line: (Int64, String, Record) -> (bytes: [UInt8], hash: String, issuanceId: String)) throws {
        let head = try c.query("SELECT seq, hash FROM \(namespace).audit_head WHERE id = 1 FOR UPDATE")
        var seq = head.int(0, 0)
        var hash = head.text(0, 1)
        var lastId = ""
        for record in records {
            seq += 1
            let made = line(seq, hash, record)
            try c.query("INSERT INTO \(namespace).audit VALUES ($1, $2)", [.int(seq), .bytes(made.bytes)])
            hash = made.hash
            if !made.issuanceId.isEmpty { lastId = made.issuanceId }
        }
        try c.query("UPDATE \(namespace).audit_head SET seq = $1, hash = $2, issuance_id = $3 WHERE id = 1",
                    [.int(seq), .text(hash), .text(lastId)])
    }

    public func issuance(_ id: String) throws(StoreError) -> IssuanceOutcomeState? {
        try withReader { c in
            let r = try c.query("SELECT outcome, recorded_at FROM \(namespace).issuances WHERE id = $1", [.text(id)])
            guard r.rows > 0 else { return nil }
            return IssuanceOutcomeState(issuanceId: id, outcome: r.isNull(0, 0) ? nil : r.text(0, 0), recordedAt: r.isNull(0, 1) ? nil : r.text(0, 1))
        }
    }

    /// Sets the outcome and appends its audit record, in one transaction, if no outcome is
    /// recorded yet (on any server); returns the state after the call (nil: no such issuance).
    public func setOutcome<Record>(_ id: String, outcome: String, recordedAt: String, audit: Record,
                                   line: (Int64, String, Record) -> (bytes: [UInt8], hash: String, issuanceId: String))
        throws(StoreError) -> IssuanceOutcomeState? {
        try transaction { c in
            let r = try c.query("SELECT outcome, recorded_at FROM \(namespace).issuances WHERE id = $1 FOR UPDATE", [.text(id)])
            guard r.rows > 0 else { return nil }
            if !r.isNull(0, 0) { return IssuanceOutcomeState(issuanceId: id, outcome: r.text(0, 0), recordedAt: r.text(0, 1)) }
            try append([audit], on: c, line: line)
            try c.query("UPDATE \(namespace).issuances SET outcome = $1, recorded_at = $2 WHERE id = $3",
                        [.text(outcome), .text(recordedAt), .text(id)])
            return IssuanceOutcomeState(issuanceId: id, outcome: outcome, recordedAt: recordedAt)
        }
    }

    /// Erases bodies past their time (the whole row version is rewritten; VACUUM reclaims the
    /// old one) and forgets answers past theirs. Returns the bodies erased.
    @discardableResult
    public func purge(now: Int64) throws(StoreError) -> Int {
        try transaction { c in
            let erased = try c.query("UPDATE \(namespace).answers SET body = NULL WHERE body IS NOT NULL AND body_expires_at < $1 RETURNING 1",
                                     [.int(now)]).rows
            try c.query("DELETE FROM \(namespace).answers WHERE expires_at < $1", [.int(now)])
            return erased
        }
    }

    /// The audit chain as the lines of an `audit.log` (in seq order) and the head as the bytes of
    /// an `audit.head`, for `kofu audit verify`.
    public func auditExport() throws(StoreError) -> (log: [UInt8], head: [UInt8]?) {
        try withReader { c in
            try c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            defer { try? c.execute("COMMIT") }
            let rows = try c.query("SELECT line FROM \(namespace).audit ORDER BY seq")
            var log: [UInt8] = []
            for i in 0..<rows.rows { log += rows.bytes(i, 0) + [0x0A] }
            let head = try c.query("SELECT seq, hash, issuance_id FROM \(namespace).audit_head WHERE id = 1")
            guard head.rows > 0, head.int(0, 0) > 0 else { return (log, nil) }
            let json = "{\"seq\":\(head.int(0, 0)),\"hash\":\"\(head.text(0, 1))\",\"issuanceId\":\"\(head.text(0, 2))\"}\n"
            return (log, Array(json.utf8))
        }
    }

    /// The key of the keyed hashes: a row of the database, created (32 random bytes) by the first
    /// server that starts, the same for every server afterwards.
    public func keyedHashKey() throws(StoreError) -> [UInt8] {
        var generator = SystemRandomNumberGenerator()
        let fresh = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return try transaction { c in
            try c.query("INSERT INTO \(namespace).secrets VALUES ('keyed_hash_key', $1) ON CONFLICT DO NOTHING", [.bytes(fresh)])
            let key = try c.query("SELECT value FROM \(namespace).secrets WHERE name = 'keyed_hash_key'").bytes(0, 0)
            guard key.count == 32 else { throw StoreError(message: "the keyed-hash key row is not 32 bytes") }
            return key
        }
    }

    /// The operators' suspension switch of every server on this database (`kofu suspend`): the
    /// time it was set (ISO 8601, UTC), or nil while issuance runs.
    public func suspendedSince() throws(StoreError) -> String? {
        try withReader { c in
            let r = try c.query("SELECT since FROM \(namespace).suspension WHERE id = 1")
            return r.rows > 0 ? r.text(0, 0) : nil
        }
    }

    /// Sets (`since` given) or clears (nil) the suspension switch; returns the state after the
    /// call (setting it again keeps the first time).
    @discardableResult
    public func setSuspended(since: String?) throws(StoreError) -> String? {
        try transaction { c in
            if let since {
                try c.query("INSERT INTO \(namespace).suspension VALUES (1, $1) ON CONFLICT DO NOTHING", [.text(since)])
                return try c.query("SELECT since FROM \(namespace).suspension WHERE id = 1").text(0, 0)
            }
            try c.query("DELETE FROM \(namespace).suspension")
            return nil
        }
    }
}
