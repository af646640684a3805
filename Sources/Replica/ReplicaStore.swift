import Foundation
import KofuJSON

/// The answer to an applied batch: `{"applied": n, "skipped": k, "lastSeq": …}`.
public struct ApplyResult: Sendable, Equatable {
    public let applied: Int
    public let skipped: Int
    public let lastSeq: Int64

    public init(applied: Int, skipped: Int, lastSeq: Int64) {
        self.applied = applied
        self.skipped = skipped
        self.lastSeq = lastSeq
    }
}

/// Why a batch was refused by the store (nothing of it was applied).
public enum ApplyError: Error, Equatable, Sendable {
    /// 409 SEQUENCE_GAP: the first new event is not `expected`.
    case sequenceGap(expected: Int64)
    /// 422 INVALID_EVENT (unknown resident, a card bound to another resident …).
    case invalid(InvalidEvent)
    case store(String)
}

/// `GET /v1/sync/status`: counts only, no personal data.
public struct SyncStatus: Sendable, Equatable {
    public let lastSeq: Int64
    public let residents: Int
    public let households: Int
    public let seals: Int
    public let cards: Int
    public let restrictions: Int
    public let logicallyDeleted: Int
    public let lastAppliedAt: String?
    public let reseededAt: String?
}

/// The embedded SQLite replica (WAL, one writer, synchronous=FULL).
///
/// Guarantees: a batch is applied in one transaction, all or nothing, and is durable when
/// `apply` returns (the WAL is synced at commit). Readers see the state of one commit for the
/// whole of their read transaction (a WAL read transaction is the snapshot), however many
/// batches commit meanwhile. Text is stored and returned byte-exactly.
public final class SQLiteReplica: ReplicaStore, @unchecked Sendable {
    /// `[replica] path`: the folder holding the store files and the `current` pointer.
    public let folder: String
    public var location: String { folder }
    private var writerFile: String
    private var writer: SQLiteConnection
    private let lock = NSLock()
    private let checkpointer = Checkpointer()
    /// Held shared while a batch is applied (or counts are read), exclusively while a reseed
    /// switches `current`: a batch commits either into the old store before the switch, or into
    /// the new one after it, never into a store being switched away from.
    let switchLock: FileLock
    /// Idle read-only connections on `poolFile`, reused by `read` (dropped when `current` moves).
    private var pool: [SQLiteConnection] = []
    private var poolFile = ""
    private let poolLock = NSLock()
    /// At most this many idle read connections are kept (0: a new connection per `read`).
    let readPoolSize: Int

    /// The live store's file: `current` is a symbolic link to it, replaced atomically by a reseed.
    /// SQLite is always given the real path, so WAL files belong to one store file only.
    public var file: String { (try? SQLiteReplica.currentFile(folder)) ?? writerFile }

    /// Opens (creating if needed) the store in `folder`. Leftovers of a reseed that was killed
    /// (a `.building` file, or the old store when it died between the switch and the deletion)
    /// are deleted here when no reseed is running.
    public init(folder: String, readPoolSize: Int = 8) throws(StoreError) {
        self.folder = folder
        self.readPoolSize = readPoolSize
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(message: "cannot create \(folder): \(error)")
        }
        let switchLock = try FileLock(path: folder + "/" + Self.switchLockName)
        self.switchLock = switchLock
        (writerFile, writer) = try Self.openOrCreate(folder, switchLock)
        Self.removeLeftovers(folder)
    }

    /// The live store's file; where the folder holds none yet, a new empty store (created under
    /// the exclusive switch lock, so that two processes starting at once agree on one).
    private static func openOrCreate(_ folder: String, _ switchLock: FileLock) throws(StoreError) -> (String, SQLiteConnection) {
        func open() throws(StoreError) -> (String, SQLiteConnection)? {
            guard let current = try? currentFile(folder) else { return nil }
            let c = try SQLiteConnection(path: current, create: false)
            try createSchema(c)
            try writerSettings(c)
            return (current, c)
        }
        try switchLock.lock(exclusive: false)
        let existing = try { () throws(StoreError) in defer { switchLock.unlock() }; return try open() }()
        if let existing { return existing }
        try switchLock.lock(exclusive: true)
        defer { switchLock.unlock() }
        if let existing = try open() { return existing }
        let file = folder + "/replica-\(UUID().uuidString.lowercased()).sqlite"
        try createSchema(try SQLiteConnection(path: file))
        try point(folder, at: file)
        let c = try SQLiteConnection(path: file, create: false)
        try writerSettings(c)
        return (file, c)
    }

    /// The writer's page cache: applying a batch looks residents up at random in a store of a
    /// million rows, and SQLite's default 2 MB cache made that mostly reads from the OS.
    ///
    /// Checkpoints: a batch of 1,000 events dirties ≈ 2,600 pages at random, and SQLite's default
    /// (the committing writer checkpoints once the WAL holds 1,000 pages) copied them all into the
    /// database and synced it inside every batch's apply. The WAL is instead checkpointed in the
    /// background (`Checkpointer`, PASSIVE, on a connection of its own, after every few commits),
    /// which blocks neither the writer nor readers; the writer's own autocheckpoint stays as a
    /// backstop at 40,000 pages (≈ 160 MB) should the background fall behind.
    static func writerSettings(_ c: SQLiteConnection) throws(StoreError) {
        try c.execute("PRAGMA cache_size=-65536; PRAGMA wal_autocheckpoint=40000;")
    }

    static let switchLockName = "switch.lock"
    static let reseedLockName = "reseed.lock"

    /// The store `current` points to: one readlink(2), on every read (FileManager's version cost
    /// several microseconds of Foundation per household lookup).
    static func currentFile(_ folder: String) throws -> String {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = readlink(folder + "/current", &buffer, buffer.count - 1)
        guard n > 0 else { throw StoreError(message: "\(folder)/current: no replica (errno \(errno))") }
        let target = String(decoding: buffer[..<n].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return target.hasPrefix("/") ? target : folder + "/" + target
    }

    /// Replaces `current` atomically (rename of a new link over the old one), durably.
    static func point(_ folder: String, at file: String) throws(StoreError) {
        let temporary = folder + "/current.new"
        try? FileManager.default.removeItem(atPath: temporary)
        guard symlink(URL(fileURLWithPath: file).lastPathComponent, temporary) == 0, rename(temporary, folder + "/current") == 0 else {
            throw StoreError(message: "cannot switch \(folder)/current: errno \(errno)")
        }
        syncFolder(folder)
    }

    /// Deletes store files that `current` does not name (a killed reseed's `.building` file, or
    /// an old store it had switched away from but not yet deleted), unless a reseed is running:
    /// its files are not leftovers.
    static func removeLeftovers(_ folder: String) {
        guard let reseed = try? FileLock(path: folder + "/" + reseedLockName), reseed.tryLock() else { return }
        defer { reseed.unlock() }
        removeLeftoversHoldingReseedLock(folder)
    }

    static func removeLeftoversHoldingReseedLock(_ folder: String) {
        guard let current = try? currentFile(folder) else { return }
        let live = URL(fileURLWithPath: current).lastPathComponent
        for name in (try? FileManager.default.contentsOfDirectory(atPath: folder)) ?? [] where name.hasPrefix("replica-") {
            var base = name
            for suffix in ["-wal", "-shm", "-journal"] where base.hasSuffix(suffix) { base.removeLast(suffix.count) }
            if base != live { unlink(folder + "/" + name) }
        }
    }

    static func createSchema(_ c: SQLiteConnection) throws(StoreError) {
        try c.execute("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;")
        try c.execute(tablesSQL)
        try c.execute(indexesSQL)
        try c.execute("INSERT OR IGNORE INTO meta VALUES ('last_seq', '0');")
        try checkRecordFormat(c)
    }

    /// Resident records are kept in `Resident.stored`'s binary form (format 2). A store written by
    /// an older kofu (JSON records, no `record_format` row) is refused with what to do, rather than
    /// failing at the first household read; an empty one is simply marked.
    static func checkRecordFormat(_ c: SQLiteConnection) throws(StoreError) {
        let expected = String(Resident.storedFormat)
        let format = try c.cached("SELECT value FROM meta WHERE key = 'record_format'")
        let found = try format.step() ? format.text(0) : nil
        format.reset()
        if found == expected { return }
        let any = try c.cached("SELECT 1 FROM residents LIMIT 1")
        let empty = try !any.step()
        any.reset()
        guard found == nil, empty else {
            throw StoreError(message: "\(c.path): resident records of format \(found ?? "1") (this kofu reads format \(expected)): reseed the replica from a full extract")
        }
        try c.cached("INSERT INTO meta VALUES ('record_format', ?)").run([.text(expected)])
    }

    static let tablesSQL = """
        CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE IF NOT EXISTS residents (code INTEGER PRIMARY KEY, household TEXT NOT NULL, household_order INTEGER NOT NULL,
            version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, record BLOB NOT NULL);
        CREATE TABLE IF NOT EXISTS seals (code INTEGER PRIMARY KEY REFERENCES residents(code), active INTEGER NOT NULL,
            registration TEXT NOT NULL, registered_on TEXT NOT NULL, png BLOB NOT NULL, width_mm REAL NOT NULL, height_mm REAL NOT NULL);
        CREATE TABLE IF NOT EXISTS cards (cert_sha256 TEXT PRIMARY KEY, code INTEGER NOT NULL REFERENCES residents(code)) WITHOUT ROWID;
        CREATE TABLE IF NOT EXISTS restrictions (code INTEGER NOT NULL REFERENCES residents(code), kind TEXT NOT NULL,
            PRIMARY KEY (code, kind)) WITHOUT ROWID;
        """
    /// Secondary indexes; a reseed builds them after loading, which is faster than keeping them
    /// up to date row by row.
    static let indexesSQL = """
        CREATE INDEX IF NOT EXISTS residents_household ON residents (household, deleted, household_order);
        CREATE INDEX IF NOT EXISTS cards_code ON cards (code);
        """

    /// Follows a switch made by a reseed (possibly in another process) before writing. Called
    /// with `lock` and `switchLock` (shared) held, so the file named by `current` exists.
    private func followCurrent() throws(StoreError) {
        guard let current = try? SQLiteReplica.currentFile(folder), current != writerFile else { return }
        writer = try SQLiteConnection(path: current, create: false)
        try Self.writerSettings(writer)
        writerFile = current
        Self.removeLeftovers(folder)
    }

    /// A read-only connection on the live store: pooled if one is idle, else new. A reseed may
    /// delete the file between resolving `current` and opening it: then `current` is resolved
    /// again.
    func readConnection() throws(StoreError) -> SQLiteConnection {
        var attempt = 0
        while true {
            attempt += 1
            let current = file
            poolLock.lock()
            var stale: [SQLiteConnection] = []
            if poolFile != current {
                stale = pool
                pool = []
                poolFile = current
            }
            let pooled = pool.popLast()
            poolLock.unlock()
            if !stale.isEmpty { stale.removeAll() }  // closes them (outside the lock)
            if let pooled { return pooled }
            do {
                return try SQLiteConnection(path: current, readOnly: true, create: false)
            } catch {
                if attempt >= 3 { throw error }
            }
        }
    }

    /// Returns a connection to the pool, unless `current` has moved on since it was opened.
    func recycle(_ connection: SQLiteConnection) {
        poolLock.lock()
        defer { poolLock.unlock() }
        if connection.path == poolFile && pool.count < readPoolSize { pool.append(connection) }
    }

    /// Runs `body` with the in-process writer lock and the cross-process switch lock (shared).
    private func locked<T>(_ body: () throws -> T) throws -> T {
        lock.lock()
        defer { lock.unlock() }
        return try switchLock.withLock(exclusive: false) {
            try followCurrent()
            defer { writer.resetCached() }  // no statement keeps a read open between calls
            return try body()
        }
    }

    private func meta(_ key: String, on c: SQLiteConnection) throws -> String? {
        let s = try c.cached("SELECT value FROM meta WHERE key = ?").bind([.text(key)])
        defer { s.reset() }
        return try s.step() ? s.text(0) : nil
    }

    public func lastSeq() throws(StoreError) -> Int64 {
        do {
            return try locked { Int64(try meta("last_seq", on: writer) ?? "0") ?? 0 }
        } catch {
            throw StoreError(message: "\(error)")
        }
    }

    /// Applies a validated batch per sync-feed.md: events at or below the last seq are skipped;
    /// the first new one must be last + 1; every new event must name a resident in the replica
    /// or upserted earlier in the batch; a lower version is stale (counted, changes nothing).
    public func apply(_ batch: SyncBatch, at now: Date) throws(ApplyError) -> ApplyResult {
        var committedInto: String?
        defer { if let committedInto { checkpointer.committed(into: committedInto) } }
        do {
            return try locked { () throws -> ApplyResult in
                defer { committedInto = writerFile }
                return try writer.transaction { () throws -> ApplyResult in
                let last = Int64(try meta("last_seq", on: writer) ?? "0") ?? 0
                let fresh = batch.events.enumerated().filter { $0.element.seq > last }
                if let first = fresh.first, first.element.seq != last + 1 { throw ApplyError.sequenceGap(expected: last + 1) }
                for (index, event) in fresh { try applyOne(event, index: index) }
                let newLast = fresh.last?.element.seq ?? last
                try writer.cached("UPDATE meta SET value = ? WHERE key = 'last_seq'").run([.text(String(newLast))])
                if !fresh.isEmpty {
                    try writer.cached("INSERT OR REPLACE INTO meta VALUES ('last_applied_at', ?)").run([.text(rfc3339(now))])
                }
                return ApplyResult(applied: fresh.count, skipped: batch.events.count - fresh.count, lastSeq: newLast)
            } }
        } catch {
            committedInto = nil
            if let error = error as? ApplyError { throw error }
            throw ApplyError.store("\(error)")
        }
    }

    /// Waits until a background checkpoint in progress has finished (benchmarks count it).
    public func waitForCheckpoint() { checkpointer.drain() }

    private func residentExists(_ key: Int64) throws -> Bool {
        try writer.cached("SELECT 1 FROM residents WHERE code = ?").bind([.int(key)]).step()
    }

    private func applyOne(_ event: FeedEvent, index: Int) throws {
        func invalid(_ field: String, _ message: String) -> ApplyError {
            .invalid(InvalidEvent(index: index, seq: event.seq, field: field, message: message))
        }
        // Validated as 11 digits when the batch was decoded; the guard keeps a bad key out anyway.
        guard let key = StoreKey.of(event.change.juminhyoCode) else { throw invalid("juminhyoCode", "must be 11 digits") }
        if case .residentUpsert = event.change {} else {
            guard try residentExists(key) else {
                throw invalid(event.change.juminhyoCodeField, "no such resident in the replica or earlier in the batch")
            }
        }
        switch event.change {
        case .residentUpsert(let r):
            // Insert, or update unless the stored version is newer (stale: counted, changes
            // nothing — the version rule of sync-feed.md). The household columns are set by a
            // second statement only when they differ, so that the usual change (a new address, a
            // corrected name) does not rewrite the household index's entry.
            try writer.cached("""
                INSERT INTO residents (code, household, household_order, version, deleted, record) VALUES (?, ?, ?, ?, 0, ?)
                ON CONFLICT(code) DO UPDATE SET version = excluded.version, record = excluded.record
                WHERE residents.version <= excluded.version
                """).run([.int(key), .text(r.householdId), .int(r.householdOrder), .int(r.version), .blob(r.stored)])
            try writer.cached("""
                UPDATE residents SET household = ?2, household_order = ?3, deleted = 0
                WHERE code = ?1 AND version = ?4 AND (household <> ?2 OR household_order <> ?3 OR deleted <> 0)
                """).run([.int(key), .text(r.householdId), .int(r.householdOrder), .int(r.version)])
        case .residentDelete:
            try writer.cached("UPDATE residents SET deleted = 1 WHERE code = ?").run([.int(key)])
        case .sealRegister(let s):
            try writer.cached("INSERT OR REPLACE INTO seals VALUES (?, 1, ?, ?, ?, ?, ?)").run([
                .int(key), .text(s.registrationNumber), .text(s.registeredOn), .blob(s.impression.png),
                .text(String(s.impression.widthMm)), .text(String(s.impression.heightMm)),
            ])
        case .sealAbolish:
            try writer.cached("UPDATE seals SET active = 0 WHERE code = ?").run([.int(key)])
        case .cardBind(let c):
            let owner = try writer.cached("SELECT code FROM cards WHERE cert_sha256 = ?").bind([.text(c.certSha256)])
            if try owner.step() {
                guard owner.int(0) == key else { throw invalid("card.certSha256", "this certificate is bound to another resident") }
                return
            }
            try writer.cached("INSERT INTO cards VALUES (?, ?)").run([.text(c.certSha256), .int(key)])
        case .cardUnbind(let c):
            let owner = try writer.cached("SELECT code FROM cards WHERE cert_sha256 = ?").bind([.text(c.certSha256)])
            if try owner.step(), owner.int(0) != key {
                throw invalid("card.certSha256", "this certificate is bound to another resident")
            }
            try writer.cached("DELETE FROM cards WHERE cert_sha256 = ? AND code = ?").run([.text(c.certSha256), .int(key)])
        case .restrictionSet(let r):
            try writer.cached("INSERT OR IGNORE INTO restrictions VALUES (?, ?)").run([.int(key), .text(r.kind.rawValue)])
        case .restrictionClear(let r):
            try writer.cached("DELETE FROM restrictions WHERE code = ? AND kind = ?").run([.int(key), .text(r.kind.rawValue)])
        }
    }

    public func status() throws(StoreError) -> SyncStatus {
        do {
            return try locked { () throws -> SyncStatus in try statusLocked() }
        } catch {
            throw error as? StoreError ?? StoreError(message: "\(error)")
        }
    }

    private func statusLocked() throws -> SyncStatus {
        // One read transaction: every count from the same commit.
        try writer.execute("BEGIN")
        defer {
            writer.resetCached()
            try? writer.execute("COMMIT")
        }
        do {
            func count(_ sql: String) throws -> Int {
                let s = try writer.cached(sql)
                return try s.step() ? Int(s.int(0)) : 0
            }
            return SyncStatus(
                lastSeq: Int64(try meta("last_seq", on: writer) ?? "0") ?? 0,
                residents: try count("SELECT count(*) FROM residents WHERE deleted = 0"),
                households: try count("SELECT count(DISTINCT household) FROM residents WHERE deleted = 0"),
                seals: try count("SELECT count(*) FROM seals s JOIN residents r ON r.code = s.code WHERE s.active = 1 AND r.deleted = 0"),
                cards: try count("SELECT count(*) FROM cards"),
                restrictions: try count("SELECT count(*) FROM restrictions"),
                logicallyDeleted: try count("SELECT count(*) FROM residents WHERE deleted = 1"),
                lastAppliedAt: try meta("last_applied_at", on: writer), reseededAt: try meta("reseeded_at", on: writer))
        } catch {
            throw StoreError(message: "\(error)")
        }
    }
}

func rfc3339(_ date: Date) -> String {
    let f = ISO8601DateFormatter()
    f.formatOptions = [.withInternetDateTime]
    return f.string(from: date)
}

/// Runs PASSIVE checkpoints of the store's WAL on a queue of its own, one at a time, after every
/// `every` commits: the copy into the database file and its fsync happen beside the writer
/// instead of inside a batch's apply. Durability does not depend on it (a batch is durable when
/// its WAL frames are synced at commit); a checkpoint that cannot open the file (a reseed deleted
/// it) is simply skipped.
final class Checkpointer: @unchecked Sendable {
    private let queue = DispatchQueue(label: "kofu.replica.checkpoint", qos: .utility)
    private let lock = NSLock()
    private var commits = 0
    private var running = false
    let every: Int

    init(every: Int = 4) { self.every = every }

    func committed(into file: String) {
        let start: Bool = lock.withLock {
            commits += 1
            guard commits >= every, !running else { return false }
            commits = 0
            running = true
            return true
        }
        guard start else { return }
        queue.async { [self] in
            defer { lock.withLock { running = false } }
            guard let c = try? SQLiteConnection(path: file, create: false) else { return }
            try? c.execute("PRAGMA wal_checkpoint(PASSIVE)")
        }
    }

    /// Waits for a checkpoint in progress (tests, benchmarks).
    func drain() { queue.sync {} }
}
