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
public final class SQLiteReplica: @unchecked Sendable {
    /// `[replica] path`: the folder holding the store files and the `current` pointer.
    public let folder: String
    private var writerFile: String
    private var writer: SQLiteConnection
    private let lock = NSLock()

    /// The live store's file: `current` is a symbolic link to it, replaced atomically by a reseed.
    /// SQLite is always given the real path, so WAL files belong to one store file only.
    public var file: String { (try? SQLiteReplica.currentFile(folder)) ?? writerFile }

    /// Opens (creating if needed) the store in `folder`.
    public init(folder: String) throws(StoreError) {
        self.folder = folder
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw StoreError(message: "cannot create \(folder): \(error)")
        }
        let file: String
        if let current = try? SQLiteReplica.currentFile(folder) {
            file = current
        } else {
            file = folder + "/replica-\(UUID().uuidString.lowercased()).sqlite"
            let created = try SQLiteConnection(path: file)
            try SQLiteReplica.createSchema(created)
            try SQLiteReplica.point(folder, at: file)
        }
        writerFile = file
        writer = try SQLiteConnection(path: file)
        try SQLiteReplica.createSchema(writer)
    }

    static func currentFile(_ folder: String) throws -> String {
        let target = try FileManager.default.destinationOfSymbolicLink(atPath: folder + "/current")
        return target.hasPrefix("/") ? target : folder + "/" + target
    }

    /// Replaces `current` atomically (rename of a new link over the old one).
    static func point(_ folder: String, at file: String) throws(StoreError) {
        let temporary = folder + "/current.new"
        try? FileManager.default.removeItem(atPath: temporary)
        guard symlink(URL(fileURLWithPath: file).lastPathComponent, temporary) == 0, rename(temporary, folder + "/current") == 0 else {
            throw StoreError(message: "cannot switch \(folder)/current: errno \(errno)")
        }
    }

    static func createSchema(_ c: SQLiteConnection) throws(StoreError) {
        try c.execute("""
            PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;
            CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
            CREATE TABLE IF NOT EXISTS residents (code TEXT PRIMARY KEY, household TEXT NOT NULL, household_order INTEGER NOT NULL,
                version INTEGER NOT NULL, deleted INTEGER NOT NULL DEFAULT 0, record BLOB NOT NULL);
            CREATE INDEX IF NOT EXISTS residents_household ON residents (household, deleted, household_order);
            CREATE TABLE IF NOT EXISTS seals (code TEXT PRIMARY KEY REFERENCES residents(code), active INTEGER NOT NULL,
                registration TEXT NOT NULL, registered_on TEXT NOT NULL, png BLOB NOT NULL, width_mm REAL NOT NULL, height_mm REAL NOT NULL);
            CREATE TABLE IF NOT EXISTS cards (cert_sha256 TEXT PRIMARY KEY, code TEXT NOT NULL REFERENCES residents(code));
            CREATE INDEX IF NOT EXISTS cards_code ON cards (code);
            CREATE TABLE IF NOT EXISTS restrictions (code TEXT NOT NULL REFERENCES residents(code), kind TEXT NOT NULL,
                PRIMARY KEY (code, kind));
            INSERT OR IGNORE INTO meta VALUES ('last_seq', '0');
            """)
    }

    /// Follows a switch made by a reseed (possibly in another process) before writing.
    private func followCurrent() throws(StoreError) {
        guard let current = try? SQLiteReplica.currentFile(folder), current != writerFile else { return }
        writer = try SQLiteConnection(path: current)
        writerFile = current
    }

    private func meta(_ key: String, on c: SQLiteConnection) throws -> String? {
        let s = try c.prepare("SELECT value FROM meta WHERE key = ?").bind([.text(key)])
        return try s.step() ? s.text(0) : nil
    }

    public func lastSeq() throws(StoreError) -> Int64 {
        lock.lock()
        defer { lock.unlock() }
        do {
            try followCurrent()
            return Int64(try meta("last_seq", on: writer) ?? "0") ?? 0
        } catch {
            throw StoreError(message: "\(error)")
        }
    }

    /// Applies a validated batch per sync-feed.md: events at or below the last seq are skipped;
    /// the first new one must be last + 1; every new event must name a resident in the replica
    /// or upserted earlier in the batch; a lower version is stale (counted, changes nothing).
    public func apply(_ batch: SyncBatch, at now: Date) throws(ApplyError) -> ApplyResult {
        lock.lock()
        defer { lock.unlock() }
        do {
            try followCurrent()
            return try writer.transaction { () throws -> ApplyResult in
                let last = Int64(try meta("last_seq", on: writer) ?? "0") ?? 0
                let fresh = batch.events.enumerated().filter { $0.element.seq > last }
                if let first = fresh.first, first.element.seq != last + 1 { throw ApplyError.sequenceGap(expected: last + 1) }
                for (index, event) in fresh { try applyOne(event, index: index) }
                let newLast = fresh.last?.element.seq ?? last
                try writer.prepare("UPDATE meta SET value = ? WHERE key = 'last_seq'").run([.text(String(newLast))])
                if !fresh.isEmpty {
                    try writer.prepare("INSERT OR REPLACE INTO meta VALUES ('last_applied_at', ?)").run([.text(rfc3339(now))])
                }
                return ApplyResult(applied: fresh.count, skipped: batch.events.count - fresh.count, lastSeq: newLast)
            }
        } catch let error as ApplyError {
            throw error
        } catch {
            throw ApplyError.store("\(error)")
        }
    }

    private func residentExists(_ code: String) throws -> Bool {
        try writer.prepare("SELECT 1 FROM residents WHERE code = ?").bind([.text(code)]).step()
    }

    private func applyOne(_ event: FeedEvent, index: Int) throws {
        func invalid(_ field: String, _ message: String) -> ApplyError {
            .invalid(InvalidEvent(index: index, seq: event.seq, field: field, message: message))
        }
        let code = event.change.juminhyoCode
        if case .residentUpsert = event.change {} else {
            guard try residentExists(code) else {
                let field = switch event.change {
                case .sealRegister: "seal.juminhyoCode"
                case .cardBind, .cardUnbind: "card.juminhyoCode"
                case .restrictionSet, .restrictionClear: "restriction.juminhyoCode"
                default: "juminhyoCode"
                }
                throw invalid(field, "no such resident in the replica or earlier in the batch")
            }
        }
        switch event.change {
        case .residentUpsert(let r):
            let current = try writer.prepare("SELECT version FROM residents WHERE code = ?").bind([.text(r.juminhyoCode)])
            if try current.step(), current.int(0) > r.version { return }  // stale: counted, changes nothing
            try writer.prepare("""
                INSERT INTO residents (code, household, household_order, version, deleted, record) VALUES (?, ?, ?, ?, 0, ?)
                ON CONFLICT(code) DO UPDATE SET household = excluded.household, household_order = excluded.household_order,
                version = excluded.version, deleted = 0, record = excluded.record
                """).run([.text(r.juminhyoCode), .text(r.householdId), .int(r.householdOrder), .int(r.version), .blob(r.json)])
        case .residentDelete:
            try writer.prepare("UPDATE residents SET deleted = 1 WHERE code = ?").run([.text(code)])
        case .sealRegister(let s):
            try writer.prepare("INSERT OR REPLACE INTO seals VALUES (?, 1, ?, ?, ?, ?, ?)").run([
                .text(code), .text(s.registrationNumber), .text(s.registeredOn), .blob(s.impression.png),
                .text(String(s.impression.widthMm)), .text(String(s.impression.heightMm)),
            ])
        case .sealAbolish:
            try writer.prepare("UPDATE seals SET active = 0 WHERE code = ?").run([.text(code)])
        case .cardBind(let c):
            let owner = try writer.prepare("SELECT code FROM cards WHERE cert_sha256 = ?").bind([.text(c.certSha256)])
            if try owner.step() {
                guard owner.text(0) == code else { throw invalid("card.certSha256", "this certificate is bound to another resident") }
                return
            }
            try writer.prepare("INSERT INTO cards VALUES (?, ?)").run([.text(c.certSha256), .text(code)])
        case .cardUnbind(let c):
            let owner = try writer.prepare("SELECT code FROM cards WHERE cert_sha256 = ?").bind([.text(c.certSha256)])
            if try owner.step(), owner.text(0) != code {
                throw invalid("card.certSha256", "this certificate is bound to another resident")
            }
            try writer.prepare("DELETE FROM cards WHERE cert_sha256 = ? AND code = ?").run([.text(c.certSha256), .text(code)])
        case .restrictionSet(let r):
            try writer.prepare("INSERT OR IGNORE INTO restrictions VALUES (?, ?)").run([.text(code), .text(r.kind.rawValue)])
        case .restrictionClear(let r):
            try writer.prepare("DELETE FROM restrictions WHERE code = ? AND kind = ?").run([.text(code), .text(r.kind.rawValue)])
        }
    }

    public func status() throws(StoreError) -> SyncStatus {
        lock.lock()
        defer { lock.unlock() }
        do {
            try followCurrent()
            func count(_ sql: String) throws -> Int {
                let s = try writer.prepare(sql)
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
