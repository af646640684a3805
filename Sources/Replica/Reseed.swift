import Foundation

/// What a reseed loaded, and how many records the old replica held that the new one does not
/// (numbers only, never the records).
public struct ReseedSummary: Sendable, Equatable {
    public let residents: Int, seals: Int, cards: Int, restrictions: Int
    public let droppedResidents: Int, droppedSeals: Int, droppedCards: Int, droppedRestrictions: Int
    public let lastSeq: Int64
}

extension SQLiteReplica {
    /// Counts what `extract` would replace, without changing anything (`--dry-run`).
    public func summary(of extract: Extract) throws(StoreError) -> ReseedSummary {
        do {
            return try read { snapshot in try Self.summary(extract, old: snapshot.connection) }
        } catch let error as StoreError {
            throw error
        } catch {
            throw StoreError(message: "\(error)")
        }
    }

    static func summary(_ extract: Extract, old: SQLiteConnection) throws -> ReseedSummary {
        func keys(_ sql: String) throws -> Set<String> {
            let s = try old.prepare(sql)
            var out = Set<String>()
            while try s.step() { out.insert(s.text(0)) }
            return out
        }
        let residents = Set(extract.residents.map(\.juminhyoCode))
        let seals = Set(extract.seals.map(\.juminhyoCode))
        let cards = Set(extract.cards.map(\.certSha256))
        let restrictions = Set(extract.restrictions.map { $0.juminhyoCode + " " + $0.kind.rawValue })
        return ReseedSummary(
            residents: residents.count, seals: seals.count, cards: cards.count, restrictions: restrictions.count,
            droppedResidents: try keys("SELECT code FROM residents").subtracting(residents).count,
            droppedSeals: try keys("SELECT code FROM seals").subtracting(seals).count,
            droppedCards: try keys("SELECT cert_sha256 FROM cards").subtracting(cards).count,
            droppedRestrictions: try keys("SELECT code || ' ' || kind FROM restrictions").subtracting(restrictions).count,
            lastSeq: extract.asOfSeq)
    }

    /// Replaces the replica with `extract`: builds a new store file beside the live one, then
    /// switches `current` to it in one rename, then deletes the old file (物理削除). Readers in
    /// flight finish on the old file; every read that starts after this returns sees the new one.
    /// On any failure before the switch the live replica is untouched and the new file removed.
    public func reseed(_ extract: Extract, at now: Date, progress: ((Int, Int) -> Void)? = nil) throws(StoreError) -> ReseedSummary {
        let summary = try self.summary(of: extract)
        let name = "replica-\(UUID().uuidString.lowercased()).sqlite"
        let building = folder + "/" + name + ".building"
        let file = folder + "/" + name
        func removeBuilding() { removeStoreFiles(building) }
        do {
            do {
                let c = try SQLiteConnection(path: building)
                try Self.createSchema(c)
                try c.execute("PRAGMA foreign_keys=OFF")  // references were checked in the extract
                let total = extract.residents.count + extract.seals.count + extract.cards.count + extract.restrictions.count
                var done = 0
                func tick() {
                    done += 1
                    if done % 10_000 == 0 || done == total { progress?(done, total) }
                }
                try c.transaction {
                    let r = try c.prepare("INSERT INTO residents VALUES (?, ?, ?, ?, 0, ?)")
                    for x in extract.residents {
                        try r.run([.text(x.juminhyoCode), .text(x.householdId), .int(x.householdOrder), .int(x.version), .blob(x.json)])
                        tick()
                    }
                    let s = try c.prepare("INSERT INTO seals VALUES (?, 1, ?, ?, ?, ?, ?)")
                    for x in extract.seals {
                        try s.run([.text(x.juminhyoCode), .text(x.registrationNumber), .text(x.registeredOn), .blob(x.impression.png),
                                   .text(String(x.impression.widthMm)), .text(String(x.impression.heightMm))])
                        tick()
                    }
                    let k = try c.prepare("INSERT INTO cards VALUES (?, ?)")
                    for x in extract.cards { try k.run([.text(x.certSha256), .text(x.juminhyoCode)]); tick() }
                    let t = try c.prepare("INSERT INTO restrictions VALUES (?, ?)")
                    for x in extract.restrictions { try t.run([.text(x.juminhyoCode), .text(x.kind.rawValue)]); tick() }
                    let m = try c.prepare("INSERT OR REPLACE INTO meta VALUES (?, ?)")
                    try m.run([.text("last_seq"), .text(String(extract.asOfSeq))])
                    try m.run([.text("reseeded_at"), .text(rfc3339(now))])
                }
                try c.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            }  // closed: its WAL is folded into the file
            removeStoreFiles(building, suffixes: ["-wal", "-shm"])
            guard rename(building, file) == 0 else { throw StoreError(message: "cannot move the new store into place: errno \(errno)") }
        } catch let error as StoreError {
            removeBuilding()
            throw error
        } catch {
            removeBuilding()
            throw StoreError(message: "\(error)")
        }
        let old = self.file
        try Self.point(folder, at: file)
        // Physical deletion of the old store: open connections keep reading it until they end,
        // nothing new can reach it.
        removeStoreFiles(old)
        return summary
    }

    /// A store file and SQLite's companions of it.
    private func removeStoreFiles(_ path: String, suffixes: [String] = ["", "-wal", "-shm"]) {
        for suffix in suffixes { try? FileManager.default.removeItem(atPath: path + suffix) }
    }
}
