/// A resident as the issuance layer sees it: the record and whether it is logically deleted.
public struct StoredResident: Sendable, Equatable {
    public let record: Resident
    public let deleted: Bool
}

/// An active seal registration (印鑑登録).
public struct ActiveSeal: Sendable, Equatable {
    public let registrationNumber: String
    public let registeredOn: String
    public let png: [UInt8]
    public let widthMm: Double
    public let heightMm: Double
}

/// The SQLite snapshot: a WAL read transaction on a read-only connection.
final class SQLiteSnapshot: ReplicaSnapshot {
    let connection: SQLiteConnection

    init(connection: SQLiteConnection) { self.connection = connection }

    func resident(forCard certSha256: String) throws -> StoredResident? {
        let s = try connection.cached("""
            SELECT r.record, r.deleted FROM cards c JOIN residents r ON r.code = c.code WHERE c.cert_sha256 = ?
            """).bind([.text(certSha256)])
        defer { s.reset() }
        guard try s.step() else { return nil }
        return StoredResident(record: try Resident.stored(s.blob(0)), deleted: s.int(1) != 0)
    }

    func currentMembers(household: String) throws -> [Resident] {
        let s = try connection.cached("SELECT record FROM residents WHERE household = ? AND deleted = 0 ORDER BY household_order, code")
            .bind([.text(household)])
        defer { s.reset() }
        var out: [Resident] = []
        while try s.step() { out.append(try Resident.stored(s.blob(0))) }
        return out
    }

    func currentMemberCodes(household: String) throws -> [String] {
        let s = try connection.cached("SELECT code FROM residents WHERE household = ? AND deleted = 0 ORDER BY household_order, code")
            .bind([.text(household)])
        defer { s.reset() }
        var out: [String] = []
        while try s.step() { out.append(StoreKey.code(s.int(0))) }
        return out
    }

    func activeSeal(_ juminhyoCode: String) throws -> ActiveSeal? {
        let s = try connection.cached("SELECT registration, registered_on, png, width_mm, height_mm FROM seals WHERE code = ? AND active = 1")
            .bind([.int(StoreKey.of(juminhyoCode) ?? -1)])
        defer { s.reset() }
        guard try s.step() else { return nil }
        return ActiveSeal(registrationNumber: s.text(0), registeredOn: s.text(1), png: s.blob(2),
                          widthMm: Double(s.text(3)) ?? 0, heightMm: Double(s.text(4)) ?? 0)
    }

    func restrictions(_ juminhyoCode: String) throws -> Set<Restriction.Kind> {
        let s = try connection.cached("SELECT kind FROM restrictions WHERE code = ?").bind([.int(StoreKey.of(juminhyoCode) ?? -1)])
        defer { s.reset() }
        var out: Set<Restriction.Kind> = []
        while try s.step() { if let kind = Restriction.Kind(rawValue: s.text(0)) { out.insert(kind) } }
        return out
    }
}

extension SQLiteReplica {
    /// Runs `body` on one snapshot of the replica, on a read connection of its own, so that a
    /// batch committing meanwhile neither blocks it nor shows through.
    ///
    /// Connections come from a small pool of read-only connections on the live store file.
    /// Each call first resolves `current` (one readlink), so a read that starts after a reseed's
    /// switch always reads the new store; connections to a store switched away from are closed
    /// as soon as this is noticed, never reused.
    public func read<T>(_ body: (any ReplicaSnapshot) throws -> T) throws -> T {
        try readSnapshot(body)
    }

    func readSnapshot<T>(_ body: (SQLiteSnapshot) throws -> T) throws -> T {
        let connection = try readConnection()
        try connection.cached("BEGIN").run()
        var ok = false
        defer {
            connection.resetCached()
            do {
                try connection.cached("COMMIT").run()
            } catch {
                ok = false  // not returned to the pool in an unknown state
            }
            if ok { recycle(connection) }
        }
        // The snapshot starts at the first read, not at BEGIN: read once now.
        let first = try connection.cached("SELECT value FROM meta WHERE key = 'last_seq'")
        _ = try first.step()
        first.reset()
        let result = try body(SQLiteSnapshot(connection: connection))
        ok = true
        return result
    }
}
