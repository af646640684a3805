import Foundation

/// What a reseed loaded, and how many records the old replica held that the new one does not
/// (numbers only, never the records).
public struct ReseedSummary: Sendable, Equatable {
    public let residents: Int, seals: Int, cards: Int, restrictions: Int
    public let droppedResidents: Int, droppedSeals: Int, droppedCards: Int, droppedRestrictions: Int
    public let lastSeq: Int64
}

/// Why a reseed from a file did not switch: the extract is refused (its line and field), or the
/// store failed. Either way the live replica is untouched and the partly built store deleted.
public enum ReseedError: Error, CustomStringConvertible, Sendable {
    case extract(ExtractError)
    case store(StoreError)

    public var description: String {
        switch self {
        case .extract(let e): "\(e)"
        case .store(let e): "\(e)"
        }
    }
}

/// How far a streaming reseed is: records loaded, and bytes of the file read out of its size
/// (compressed bytes for a gzip extract), for a rate and an estimate of the time left.
public struct ReseedProgress: Sendable {
    public let records: Int
    public let fileBytesRead: Int
    public let fileSize: Int
}

extension SQLiteReplica {
    /// Counts what a scanned extract would replace (`kofu reseed --dry-run`).
    public func summary(of extract: ScannedExtract) throws(StoreError) -> ReseedSummary {
        do {
            return try readSnapshot { snapshot in try Self.summary(extract, old: snapshot.connection) }
        } catch {
            throw error as? StoreError ?? StoreError(message: "\(error)")
        }
    }

    static func summary(_ extract: ScannedExtract, old: SQLiteConnection) throws -> ReseedSummary {
        func dropped(_ sql: String, _ isKept: (SQLiteConnection.Statement) -> Bool) throws -> Int {
            let s = try old.prepare(sql)
            var n = 0
            while try s.step() {
                if !isKept(s) { n += 1 }
            }
            return n
        }
        let k = extract.keys
        return ReseedSummary(
            residents: extract.residents, seals: extract.seals, cards: extract.cards, restrictions: extract.restrictions,
            droppedResidents: try dropped("SELECT code FROM residents") { k.residents.contains(ExtractKeys.code($0.text(0))) },
            droppedSeals: try dropped("SELECT code FROM seals") { k.seals.contains(ExtractKeys.code($0.text(0))) },
            droppedCards: try dropped("SELECT cert_sha256 FROM cards") { k.cards.contains(ExtractKeys.CardKey($0.text(0))) },
            droppedRestrictions: try dropped("SELECT code, kind FROM restrictions") {
                k.restrictions.contains(ExtractKeys.restriction($0.text(0), $0.text(1)))
            },
            lastSeq: extract.asOfSeq)
    }

    /// Replaces the replica with `extract` (held in memory): see `reseed(extractFile:…)`.
    public func reseed(_ extract: Extract, at now: Date, progress: ((Int, Int) -> Void)? = nil) throws(StoreError) -> ReseedSummary {
        try Reseeding.inMemory(extract, store: self, progress: progress) { asOfSeq, load in
            try replace(asOfSeq: asOfSeq, at: now, load: load)
        }
    }

    /// Replaces the replica with the extract in `extractFile` (JSON Lines, optionally gzip),
    /// reading it once with bounded memory: each record is validated and loaded into a new store
    /// file beside the live one (`….sqlite.building`); only when the whole extract has proved
    /// valid (references, counts, checksum) is the new store switched in, by one rename of the
    /// `current` link, and the old store deleted (物理削除). On any fault the building file is
    /// deleted and the live replica is untouched.
    public func reseed(extractFile: String, municipality: String, at now: Date,
                       progress: ((ReseedProgress) -> Void)? = nil) throws(ReseedError) -> ReseedSummary {
        try Reseeding.fromFile(extractFile, municipality: municipality, store: self, progress: progress) { asOfSeq, load in
            try replace(asOfSeq: asOfSeq, at: now, load: load)
        }
    }

    /// Build beside, switch under the exclusive switch lock, delete the old store.
    private func replace(asOfSeq: () -> Int64, at now: Date, load: (any RecordSink) throws -> ReseedSummary) throws -> ReseedSummary {
        // One reseed at a time; while it runs nobody else treats its files as leftovers.
        let reseedLock = try FileLock(path: folder + "/" + Self.reseedLockName)
        guard reseedLock.tryLock() else { throw StoreError(message: "another reseed is running on \(folder)") }
        defer { reseedLock.unlock() }
        Self.removeLeftoversHoldingReseedLock(folder)

        let builder = try StoreBuilder(folder: folder)
        let summary: ReseedSummary
        do {
            summary = try load(builder)
            try builder.finish(asOfSeq: asOfSeq(), reseededAt: rfc3339(now))
        } catch {
            builder.discard()
            throw error
        }
        // The switch: no batch commits while it runs. A batch that committed into the old store
        // after the extract was made is superseded (sync-feed.md): the feed resends from asOfSeq + 1.
        let switched = try FileLock(path: folder + "/" + Self.switchLockName)
        try switched.lock(exclusive: true)
        defer { switched.unlock() }
        let old = try? Self.currentFile(folder)
        guard rename(builder.building, builder.file) == 0 else {
            builder.discard()
            throw StoreError(message: "cannot move the new store into place: errno \(errno)")
        }
        do {
            try Self.point(folder, at: builder.file)
        } catch {
            unlink(builder.file)
            throw error
        }
        // Physical deletion of the old store, its WAL and shared memory: connections still open on
        // it (a request in flight in a server) read on until they end; nothing can reach it by name.
        if let old {
            for suffix in ["", "-wal", "-shm"] { unlink(old + suffix) }
        }
        syncFolder(folder)
        return summary
    }
}

/// Loads records into a new store file that nothing reads until it is switched in, so it is
/// built without a journal and without syncing (a crash leaves a `.building` file that is
/// deleted later); `finish` builds the indexes, turns on WAL, and makes the file durable once.
final class StoreBuilder: RecordSink {
    let building: String
    let file: String
    private var connection: SQLiteConnection?
    private var inTransaction = 0

    init(folder: String) throws(StoreError) {
        let name = "replica-\(UUID().uuidString.lowercased()).sqlite"
        building = folder + "/" + name + ".building"
        file = folder + "/" + name
        let c = try SQLiteConnection(path: building)
        connection = c
        do {
            try c.execute("""
                PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA locking_mode=EXCLUSIVE; PRAGMA foreign_keys=OFF;
                PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;
                """)
            try c.execute(SQLiteReplica.tablesSQL)
            try c.execute("INSERT OR IGNORE INTO meta VALUES ('last_seq', '0');")
            try SQLiteReplica.checkRecordFormat(c)
            try c.execute("BEGIN")
        } catch {
            connection = nil
            unlink(building)
            throw error
        }
    }

    /// References and duplicates were checked by the extract's validation.
    func add(_ record: ExtractRecord, json: [UInt8]?) throws(StoreError) {
        guard let c = connection else { throw StoreError(message: "the new store was discarded") }
        // Cached statements belong to the connection, so dropping it closes the file.
        switch record {
        case .resident(let x):
            try c.cached("INSERT INTO residents VALUES (?, ?, ?, ?, 0, ?)").run([.int(try StoreKey.required(x.juminhyoCode)), .text(x.householdId), .int(x.householdOrder), .int(x.version), .blob(json ?? x.stored)])
        case .seal(let x):
            try c.cached("INSERT INTO seals VALUES (?, 1, ?, ?, ?, ?, ?)").run([.int(try StoreKey.required(x.juminhyoCode)), .text(x.registrationNumber), .text(x.registeredOn), .blob(x.impression.png),
                          .text(String(x.impression.widthMm)), .text(String(x.impression.heightMm))])
        case .card(let x): try c.cached("INSERT INTO cards VALUES (?, ?)").run([.text(x.certSha256), .int(try StoreKey.required(x.juminhyoCode))])
        case .restriction(let x): try c.cached("INSERT INTO restrictions VALUES (?, ?)").run([.int(try StoreKey.required(x.juminhyoCode)), .text(x.kind.rawValue)])
        }
        inTransaction += 1
        if inTransaction >= 100_000 {
            try c.execute("COMMIT; BEGIN")
            inTransaction = 0
        }
    }

    func finish(asOfSeq: Int64, reseededAt: String) throws(StoreError) {
        guard let c = connection else { throw StoreError(message: "the new store was discarded") }
        let m = try c.cached("INSERT OR REPLACE INTO meta VALUES (?, ?)")
        try m.run([.text("last_seq"), .text(String(asOfSeq))])
        try m.run([.text("reseeded_at"), .text(reseededAt)])
        try c.execute("COMMIT")
        try c.execute(SQLiteReplica.indexesSQL)
        try c.execute("PRAGMA locking_mode=NORMAL; PRAGMA journal_mode=WAL;")
        connection = nil  // closed: the file is complete, in WAL mode, without a WAL yet
        for suffix in ["-wal", "-shm", "-journal"] { unlink(building + suffix) }
        try syncFile(building)
    }

    func discard() {
        connection = nil
        for suffix in ["", "-wal", "-shm", "-journal"] { unlink(building + suffix) }
    }
}
