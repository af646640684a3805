import Foundation

/// The replica in PostgreSQL (`[replica] url`), for several servers behind one load balancer.
///
/// Layout, in the database the URL names: a control schema `<namespace>` (default `kofu`) with
/// the pointer row `live` (which generation schema is the replica) and the sequence of generation
/// numbers; the replica itself in a generation schema `<namespace>_r<n>` with the same tables as
/// the SQLite store. A reseed loads `<namespace>_r<n+1>` beside the live one, switches the
/// pointer row in one transaction and drops the old schema.
///
/// Guarantees (those of `ReplicaStore`):
/// - `read`: one `REPEATABLE READ READ ONLY` transaction per call on a pooled connection. Its
///   first statement reads the pointer row (which fixes the snapshot) and then takes ACCESS
///   SHARE locks on that generation's tables, so that a reseed cannot drop them under the read;
///   a read that resolved a generation dropped just before its locks starts again (no body has
///   run yet). A switch is therefore all or nothing for a reader.
/// - `apply`: one READ COMMITTED transaction that first locks the pointer row `FOR UPDATE`: all
///   appliers, in every process on every server, and a reseed's switch are serialised on that
///   row, and an applier after a switch writes into the new generation. Durable at commit
///   (`synchronous_commit = on`).
/// - `reseed`: one at a time per namespace (a session advisory lock, released if the process
///   dies); the extract is streamed with binary COPY into the new schema; a killed reseed's
///   schema is dropped by the next store that opens while no reseed runs.
public final class PostgresReplica: ReplicaStore, @unchecked Sendable {
    public let url: String
    public let namespace: String
    public var location: String { "\(Self.redacted(url)) (schema \(namespace))" }
    let readPoolSize: Int
    private var writer: PGConnection?
    private let writerLock = NSLock()
    private var pool: [PGConnection] = []
    private let poolLock = NSLock()

    /// Advisory lock classes (the second key is hashtext(namespace)).
    static let initLockClass: Int32 = 0x6B6F_6675  // "kofu"
    static let reseedLockClass: Int32 = 0x6B6F_6672

    /// Connects and creates the control schema and a first, empty generation if the namespace
    /// has none (two servers starting at once agree on one: the creation holds an advisory lock).
    /// Leftovers of a killed reseed are dropped here when no reseed is running.
    public init(url: String, namespace: String = "kofu", readPoolSize: Int = 8) throws(StoreError) {
        guard let first = namespace.utf8.first, (97...122).contains(first) || first == 95, namespace.utf8.count <= 40,
              namespace.utf8.allSatisfy({ (97...122).contains($0) || (48...57).contains($0) || $0 == 95 }) else {
            throw StoreError(message: "namespace '\(namespace)': expected 1–40 of a-z, 0-9, _ (starting with a letter or _)")
        }
        self.url = url
        self.namespace = namespace
        self.readPoolSize = readPoolSize
        let c = try PGConnection(url: url, application: "kofu \(namespace)")
        do {
            try c.execute("BEGIN")
            try c.query("SELECT pg_advisory_xact_lock($1::int4, hashtext($2))", [.int(Int64(Self.initLockClass)), .text(namespace)])
            try c.execute("""
                CREATE SCHEMA IF NOT EXISTS \(namespace);
                CREATE TABLE IF NOT EXISTS \(namespace).live (id int PRIMARY KEY CHECK (id = 1), schema_name text NOT NULL);
                CREATE SEQUENCE IF NOT EXISTS \(namespace).generations;
                """)
            if try c.query("SELECT schema_name FROM \(namespace).live WHERE id = 1").rows == 0 {
                let schema = try Self.newGeneration(c, namespace)
                try c.execute(Self.indexesSQL(schema))
                try c.query("INSERT INTO \(namespace).live VALUES (1, $1)", [.text(schema)])
            }
            try c.execute("COMMIT")
        } catch {
            try? c.execute("ROLLBACK")
            throw StoreError(message: "\(location): \(error)")
        }
        writer = c
        try? removeLeftovers(on: c)
    }

    /// `postgres://user:secret@host/db` → `postgres://user:***@host/db`: for messages and logs.
    public static func redacted(_ url: String) -> String {
        guard let scheme = url.range(of: "://"), let at = url.range(of: "@", range: scheme.upperBound..<url.endIndex) else { return url }
        let userinfo = url[scheme.upperBound..<at.lowerBound]
        guard let colon = userinfo.firstIndex(of: ":") else { return url }
        return String(url[..<colon]) + ":***" + String(url[at.lowerBound...])
    }

    /// Creates the tables of a new generation schema (without the secondary indexes) and its meta
    /// row; returns the schema's name.
    static func newGeneration(_ c: PGConnection, _ namespace: String) throws(PGFailure) -> String {
        let n = try c.query("SELECT nextval('\(namespace).generations')").int(0, 0)
        let s = "\(namespace)_r\(n)"
        try c.execute("""
            CREATE SCHEMA \(s);
            CREATE TABLE \(s).meta (key text PRIMARY KEY, value text NOT NULL);
            CREATE TABLE \(s).residents (code text COLLATE "C" PRIMARY KEY, household text COLLATE "C" NOT NULL,
                household_order bigint NOT NULL, version bigint NOT NULL, deleted boolean NOT NULL DEFAULT false, record bytea NOT NULL);
            CREATE TABLE \(s).seals (code text COLLATE "C" PRIMARY KEY, active boolean NOT NULL, registration text NOT NULL,
                registered_on text NOT NULL, png bytea NOT NULL, width_mm float8 NOT NULL, height_mm float8 NOT NULL);
            CREATE TABLE \(s).cards (cert_sha256 text COLLATE "C" PRIMARY KEY, code text COLLATE "C" NOT NULL);
            CREATE TABLE \(s).restrictions (code text COLLATE "C" NOT NULL, kind text COLLATE "C" NOT NULL, PRIMARY KEY (code, kind));
            INSERT INTO \(s).meta VALUES ('last_seq', '0');
            """)
        return s
    }

    static func indexesSQL(_ s: String) -> String {
        """
        CREATE INDEX IF NOT EXISTS residents_household ON \(s).residents (household, deleted, household_order);
        CREATE INDEX IF NOT EXISTS cards_code ON \(s).cards (code);
        """
    }

    /// The generation schemas present in the namespace, the live one included (one, except while
    /// a reseed builds the next): for checks and tests.
    public func generations() throws(StoreError) -> [String] {
        try withWriter { c in
            let r = try c.query("SELECT nspname::text FROM pg_namespace WHERE nspname ~ $1 ORDER BY 1", [.text("^\(namespace)_r[0-9]+$")])
            return (0..<r.rows).map { r.text($0, 0) }
        }
    }

    /// Drops generation schemas that the pointer does not name, unless a reseed is running (its
    /// schema is not a leftover).
    private func removeLeftovers(on c: PGConnection) throws(PGFailure) {
        let lock = try c.query("SELECT pg_try_advisory_lock($1::int4, hashtext($2))", [.int(Int64(Self.reseedLockClass)), .text(namespace)])
        guard lock.bool(0, 0) else { return }
        defer { _ = try? c.query("SELECT pg_advisory_unlock($1::int4, hashtext($2))", [.int(Int64(Self.reseedLockClass)), .text(namespace)]) }
        try dropLeftovers(on: c)
    }

    private func dropLeftovers(on c: PGConnection) throws(PGFailure) {
        let live = try c.query("SELECT schema_name FROM \(namespace).live WHERE id = 1").text(0, 0)
        let r = try c.query("SELECT nspname::text FROM pg_namespace WHERE nspname ~ $1", [.text("^\(namespace)_r[0-9]+$")])
        for name in (0..<r.rows).map({ r.text($0, 0) }) where name != live {
            try c.execute("DROP SCHEMA IF EXISTS \(name) CASCADE")
        }
    }

    // MARK: connections

    private func withWriter<T>(_ body: (PGConnection) throws -> T) throws(StoreError) -> T {
        writerLock.lock()
        defer { writerLock.unlock() }
        if writer == nil || writer!.isBroken { writer = nil; writer = try PGConnection(url: url, application: "kofu \(namespace)") }
        do {
            return try body(writer!)
        } catch {
            if writer?.isBroken == true { writer = nil }
            if let e = error as? ApplyError { throw StoreError(message: "\(e)") }
            throw error as? StoreError ?? StoreError(message: "\(location): \(error)")
        }
    }

    private func checkout() throws(StoreError) -> PGConnection {
        poolLock.lock()
        let pooled = pool.popLast()
        poolLock.unlock()
        if let pooled, !pooled.isBroken { return pooled }
        return try PGConnection(url: url, application: "kofu \(namespace)")
    }

    private func recycle(_ c: PGConnection) {
        guard !c.isBroken else { return }
        poolLock.lock()
        defer { poolLock.unlock() }
        if pool.count < readPoolSize { pool.append(c) }
    }

    /// One REPEATABLE READ READ ONLY transaction on a pooled connection, on the live generation
    /// with its tables locked against a drop (see the type's documentation).
    private func onSnapshot<T>(_ body: (PGConnection, String) throws -> T) throws -> T {
        var c = try checkout()
        var attempt = 0
        while true {
            attempt += 1
            do {
                try c.execute("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
            } catch {
                // A pooled connection the server closed (a restart, a failover, an idle
                // timeout): nothing has run on it, so a new connection is as good.
                guard c.isBroken, attempt < 5 else { throw error }
                c = try PGConnection(url: url, application: "kofu \(namespace)")
                continue
            }
            let schema: String
            do {
                schema = try c.query("SELECT schema_name FROM \(namespace).live WHERE id = 1").text(0, 0)
                try c.query("LOCK TABLE \(schema).meta, \(schema).residents, \(schema).seals, \(schema).cards, \(schema).restrictions IN ACCESS SHARE MODE")
            } catch {
                try? c.execute("ROLLBACK")
                if error.isGone && attempt < 5 { continue }  // a reseed dropped it just now: resolve again
                recycle(c)
                throw error
            }
            do {
                let result = try body(c, schema)
                try c.execute("COMMIT")
                recycle(c)
                return result
            } catch {
                try? c.execute("ROLLBACK")
                recycle(c)
                throw error
            }
        }
    }

    // MARK: ReplicaStore

    public func read<T>(_ body: (any ReplicaSnapshot) throws -> T) throws -> T {
        try onSnapshot { c, schema in try body(PostgresSnapshot(connection: c, schema: schema)) }
    }

    public func lastSeq() throws(StoreError) -> Int64 {
        do {
            return try onSnapshot { c, s in Int64(try c.query("SELECT value FROM \(s).meta WHERE key = 'last_seq'").text(0, 0)) ?? 0 }
        } catch {
            throw StoreError(message: "\(location): \(error)")
        }
    }

    public func status() throws(StoreError) -> SyncStatus {
        do {
            return try onSnapshot { c, s in
                func count(_ sql: String) throws -> Int { Int(try c.query(sql).int(0, 0)) }
                let meta = try c.query("SELECT key, value FROM \(s).meta")
                var values: [String: String] = [:]
                for i in 0..<meta.rows { values[meta.text(i, 0)] = meta.text(i, 1) }
                return SyncStatus(
                    lastSeq: Int64(values["last_seq"] ?? "0") ?? 0,
                    residents: try count("SELECT count(*) FROM \(s).residents WHERE NOT deleted"),
                    households: try count("SELECT count(DISTINCT household) FROM \(s).residents WHERE NOT deleted"),
                    seals: try count("SELECT count(*) FROM \(s).seals x JOIN \(s).residents r ON r.code = x.code WHERE x.active AND NOT r.deleted"),
                    cards: try count("SELECT count(*) FROM \(s).cards"),
                    restrictions: try count("SELECT count(*) FROM \(s).restrictions"),
                    logicallyDeleted: try count("SELECT count(*) FROM \(s).residents WHERE deleted"),
                    lastAppliedAt: values["last_applied_at"], reseededAt: values["reseeded_at"])
            }
        } catch {
            throw StoreError(message: "\(location): \(error)")
        }
    }

    /// Applies a validated batch per sync-feed.md, with the same rules as `SQLiteReplica.apply`.
    public func apply(_ batch: SyncBatch, at now: Date) throws(ApplyError) -> ApplyResult {
        writerLock.lock()
        defer { writerLock.unlock() }
        do {
            if writer == nil || writer!.isBroken { writer = nil; writer = try PGConnection(url: url, application: "kofu \(namespace)") }
        } catch {
            throw .store("\(error)")
        }
        var c = writer!
        do {
            do {
                try c.execute("BEGIN")
            } catch {
                // The server closed the connection since the last batch: once more on a new one.
                guard c.isBroken else { throw error }
                c = try PGConnection(url: url, application: "kofu \(namespace)")
                writer = c
                try c.execute("BEGIN")
            }
            // Serialises appliers (every process, every server) and a reseed's switch.
            let s = try c.query("SELECT schema_name FROM \(namespace).live WHERE id = 1 FOR UPDATE").text(0, 0)
            let last = Int64(try c.query("SELECT value FROM \(s).meta WHERE key = 'last_seq'").text(0, 0)) ?? 0
            let fresh = batch.events.enumerated().filter { $0.element.seq > last }
            if let first = fresh.first, first.element.seq != last + 1 { throw ApplyError.sequenceGap(expected: last + 1) }
            for (index, event) in fresh { try applyOne(event, index: index, c, s) }
            let newLast = fresh.last?.element.seq ?? last
            try c.query("UPDATE \(s).meta SET value = $1 WHERE key = 'last_seq'", [.text(String(newLast))])
            if !fresh.isEmpty {
                try c.query("""
                    INSERT INTO \(s).meta VALUES ('last_applied_at', $1) ON CONFLICT (key) DO UPDATE SET value = excluded.value
                    """, [.text(rfc3339(now))])
            }
            try c.execute("COMMIT")
            return ApplyResult(applied: fresh.count, skipped: batch.events.count - fresh.count, lastSeq: newLast)
        } catch {
            try? c.execute("ROLLBACK")
            if c.isBroken { writer = nil }
            if let error = error as? ApplyError { throw error }
            throw ApplyError.store("\(location): \(error)")
        }
    }

    private func applyOne(_ event: FeedEvent, index: Int, _ c: PGConnection, _ s: String) throws {
        func invalid(_ field: String, _ message: String) -> ApplyError {
            .invalid(InvalidEvent(index: index, seq: event.seq, field: field, message: message))
        }
        let code = event.change.juminhyoCode
        if case .residentUpsert = event.change {} else {
            guard try c.query("SELECT 1 FROM \(s).residents WHERE code = $1", [.text(code)]).rows > 0 else {
                throw invalid(event.change.juminhyoCodeField, "no such resident in the replica or earlier in the batch")
            }
        }
        switch event.change {
        case .residentUpsert(let r):
            // A lower version than the stored one is stale: counted, changes nothing.
            try c.query("""
                INSERT INTO \(s).residents AS t (code, household, household_order, version, deleted, record) VALUES ($1, $2, $3, $4, false, $5)
                ON CONFLICT (code) DO UPDATE SET household = excluded.household, household_order = excluded.household_order,
                version = excluded.version, deleted = false, record = excluded.record WHERE t.version <= excluded.version
                """, [.text(r.juminhyoCode), .text(r.householdId), .int(r.householdOrder), .int(r.version), .bytes(r.stored)])
        case .residentDelete:
            try c.query("UPDATE \(s).residents SET deleted = true WHERE code = $1", [.text(code)])
        case .sealRegister(let x):
            try c.query("""
                INSERT INTO \(s).seals VALUES ($1, true, $2, $3, $4, $5, $6) ON CONFLICT (code) DO UPDATE SET active = true,
                registration = excluded.registration, registered_on = excluded.registered_on, png = excluded.png,
                width_mm = excluded.width_mm, height_mm = excluded.height_mm
                """, [.text(code), .text(x.registrationNumber), .text(x.registeredOn), .bytes(x.impression.png),
                      .double(x.impression.widthMm), .double(x.impression.heightMm)])
        case .sealAbolish:
            try c.query("UPDATE \(s).seals SET active = false WHERE code = $1", [.text(code)])
        case .cardBind(let x):
            let owner = try c.query("SELECT code FROM \(s).cards WHERE cert_sha256 = $1", [.text(x.certSha256)])
            if owner.rows > 0 {
                guard owner.text(0, 0) == code else { throw invalid("card.certSha256", "this certificate is bound to another resident") }
                return
            }
            try c.query("INSERT INTO \(s).cards VALUES ($1, $2)", [.text(x.certSha256), .text(code)])
        case .cardUnbind(let x):
            let owner = try c.query("SELECT code FROM \(s).cards WHERE cert_sha256 = $1", [.text(x.certSha256)])
            if owner.rows > 0, owner.text(0, 0) != code {
                throw invalid("card.certSha256", "this certificate is bound to another resident")
            }
            try c.query("DELETE FROM \(s).cards WHERE cert_sha256 = $1 AND code = $2", [.text(x.certSha256), .text(code)])
        case .restrictionSet(let x):
            try c.query("INSERT INTO \(s).restrictions VALUES ($1, $2) ON CONFLICT DO NOTHING", [.text(code), .text(x.kind.rawValue)])
        case .restrictionClear(let x):
            try c.query("DELETE FROM \(s).restrictions WHERE code = $1 AND kind = $2", [.text(code), .text(x.kind.rawValue)])
        }
    }

    // MARK: reseed

    public func summary(of extract: ScannedExtract) throws(StoreError) -> ReseedSummary {
        do {
            return try onSnapshot { c, s in
                func dropped(_ sql: String, _ isKept: (PGResult, Int) -> Bool) throws -> Int {
                    let r = try c.query(sql)
                    return (0..<r.rows).filter { !isKept(r, $0) }.count
                }
                let k = extract.keys
                return ReseedSummary(
                    residents: extract.residents, seals: extract.seals, cards: extract.cards, restrictions: extract.restrictions,
                    droppedResidents: try dropped("SELECT code FROM \(s).residents") { k.residents.contains(ExtractKeys.code($0.text($1, 0))) },
                    droppedSeals: try dropped("SELECT code FROM \(s).seals") { k.seals.contains(ExtractKeys.code($0.text($1, 0))) },
                    droppedCards: try dropped("SELECT cert_sha256 FROM \(s).cards") { k.cards.contains(ExtractKeys.CardKey($0.text($1, 0))) },
                    droppedRestrictions: try dropped("SELECT code, kind FROM \(s).restrictions") {
                        k.restrictions.contains(ExtractKeys.restriction($0.text($1, 0), $0.text($1, 1)))
                    },
                    lastSeq: extract.asOfSeq)
            }
        } catch {
            throw StoreError(message: "\(location): \(error)")
        }
    }

    public func reseed(_ extract: Extract, at now: Date, progress: ((Int, Int) -> Void)? = nil) throws(StoreError) -> ReseedSummary {
        try Reseeding.inMemory(extract, store: self, progress: progress) { asOfSeq, load in
            try replace(asOfSeq: asOfSeq, at: now, load: load)
        }
    }

    public func reseed(extractFile: String, municipality: String, at now: Date,
                       progress: ((ReseedProgress) -> Void)? = nil) throws(ReseedError) -> ReseedSummary {
        try Reseeding.fromFile(extractFile, municipality: municipality, store: self, progress: progress) { asOfSeq, load in
            try replace(asOfSeq: asOfSeq, at: now, load: load)
        }
    }

    /// Build beside (a new generation schema, loaded by COPY), switch the pointer row, drop the old.
    private func replace(asOfSeq: () -> Int64, at now: Date, load: (any RecordSink) throws -> ReseedSummary) throws -> ReseedSummary {
        let c = try PGConnection(url: url, application: "kofu \(namespace)")  // its own session: the advisory lock dies with it
        let lock = try c.query("SELECT pg_try_advisory_lock($1::int4, hashtext($2))", [.int(Int64(Self.reseedLockClass)), .text(namespace)])
        guard lock.bool(0, 0) else { throw StoreError(message: "another reseed is running on \(location)") }
        try dropLeftovers(on: c)
        let schema = try Self.newGeneration(c, namespace)
        let builder = PostgresBuilder(connection: c, schema: schema)
        let summary: ReseedSummary
        do {
            summary = try load(builder)
            try builder.flush()
            try c.query("INSERT INTO \(schema).meta VALUES ('reseeded_at', $1)", [.text(rfc3339(now))])
            try c.query("UPDATE \(schema).meta SET value = $1 WHERE key = 'last_seq'", [.text(String(asOfSeq()))])
            try c.execute(Self.indexesSQL(schema) + "ANALYZE \(schema).residents; ANALYZE \(schema).cards;")
        } catch {
            try? c.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
        // The switch: appliers hold the pointer row while they write, so a batch commits into the
        // old generation before this (and is superseded: the feed resends from asOfSeq + 1) or into
        // the new one after it.
        let old: String
        do {
            try c.execute("BEGIN")
            old = try c.query("SELECT schema_name FROM \(namespace).live WHERE id = 1 FOR UPDATE").text(0, 0)
            try c.query("UPDATE \(namespace).live SET schema_name = $1 WHERE id = 1", [.text(schema)])
            try c.execute("COMMIT")
        } catch {
            try? c.execute("ROLLBACK")
            try? c.execute("DROP SCHEMA IF EXISTS \(schema) CASCADE")
            throw error
        }
        // Physical deletion of the old generation; it waits for the reads still on it (their
        // locks). Its tables are locked first in the order readers lock them, so neither waits for
        // the other in a cycle. A failure leaves a leftover that the next open drops.
        do {
            try c.execute("""
                BEGIN; LOCK TABLE \(old).meta, \(old).residents, \(old).seals, \(old).cards, \(old).restrictions IN ACCESS EXCLUSIVE MODE;
                DROP SCHEMA \(old) CASCADE; COMMIT
                """)
        } catch {
            try? c.execute("ROLLBACK")
        }
        return summary
    }
}

/// Streams records into a new generation's tables with binary COPY, a few megabytes at a time.
final class PostgresBuilder: RecordSink {
    let connection: PGConnection
    let schema: String
    private var residents = PGCopyBuffer(), seals = PGCopyBuffer(), cards = PGCopyBuffer(), restrictions = PGCopyBuffer()
    static let flushBytes = 4 << 20

    init(connection: PGConnection, schema: String) {
        self.connection = connection
        self.schema = schema
    }

    func add(_ record: ExtractRecord, json: [UInt8]?) throws {
        switch record {
        case .resident(let x):
            residents.row([.text(x.juminhyoCode), .text(x.householdId), .int(x.householdOrder), .int(x.version), .bool(false), .bytes(json ?? x.stored)])
            if residents.data.count >= Self.flushBytes { try copy("residents", &residents) }
        case .seal(let x):
            seals.row([.text(x.juminhyoCode), .bool(true), .text(x.registrationNumber), .text(x.registeredOn), .bytes(x.impression.png),
                       .double(x.impression.widthMm), .double(x.impression.heightMm)])
            if seals.data.count >= Self.flushBytes { try copy("seals", &seals) }
        case .card(let x):
            cards.row([.text(x.certSha256), .text(x.juminhyoCode)])
            if cards.data.count >= Self.flushBytes { try copy("cards", &cards) }
        case .restriction(let x):
            restrictions.row([.text(x.juminhyoCode), .text(x.kind.rawValue)])
            if restrictions.data.count >= Self.flushBytes { try copy("restrictions", &restrictions) }
        }
    }

    func flush() throws {
        try copy("residents", &residents)
        try copy("seals", &seals)
        try copy("cards", &cards)
        try copy("restrictions", &restrictions)
    }

    private func copy(_ table: String, _ buffer: inout PGCopyBuffer) throws {
        let data = buffer.take()
        guard !data.isEmpty else { return }
        try connection.copyIn("COPY \(schema).\(table) FROM STDIN (FORMAT binary)", data)
    }
}

/// Reads of one `read` call: statements on the generation resolved at its start.
final class PostgresSnapshot: ReplicaSnapshot {
    let connection: PGConnection
    let s: String

    init(connection: PGConnection, schema: String) {
        self.connection = connection
        self.s = schema
    }

    func resident(forCard certSha256: String) throws -> StoredResident? {
        let r = try connection.query("""
            SELECT r.record, r.deleted FROM \(s).cards c JOIN \(s).residents r ON r.code = c.code WHERE c.cert_sha256 = $1
            """, [.text(certSha256)])
        guard r.rows > 0 else { return nil }
        return StoredResident(record: try Resident.stored(r.bytes(0, 0)), deleted: r.bool(0, 1))
    }

    func currentMembers(household: String) throws -> [Resident] {
        let r = try connection.query("SELECT record FROM \(s).residents WHERE household = $1 AND NOT deleted ORDER BY household_order, code",
                                     [.text(household)])
        return try (0..<r.rows).map { try Resident.stored(r.bytes($0, 0)) }
    }

    func currentMemberCodes(household: String) throws -> [String] {
        let r = try connection.query("SELECT code FROM \(s).residents WHERE household = $1 AND NOT deleted ORDER BY household_order, code",
                                     [.text(household)])
        return (0..<r.rows).map { r.text($0, 0) }
    }

    func activeSeal(_ juminhyoCode: String) throws -> ActiveSeal? {
        let r = try connection.query("SELECT registration, registered_on, png, width_mm, height_mm FROM \(s).seals WHERE code = $1 AND active",
                                     [.text(juminhyoCode)])
        guard r.rows > 0 else { return nil }
        return ActiveSeal(registrationNumber: r.text(0, 0), registeredOn: r.text(0, 1), png: r.bytes(0, 2),
                          widthMm: r.double(0, 3), heightMm: r.double(0, 4))
    }

    func restrictions(_ juminhyoCode: String) throws -> Set<Restriction.Kind> {
        let r = try connection.query("SELECT kind FROM \(s).restrictions WHERE code = $1", [.text(juminhyoCode)])
        return Set((0..<r.rows).compactMap { Restriction.Kind(rawValue: r.text($0, 0)) })
    }
}
