import Foundation
import KofuConfiguration

/// Reads on one consistent state of the replica: everything read through one snapshot comes from
/// the same commit, whatever batches commit (or reseeds switch) meanwhile.
public protocol ReplicaSnapshot {
    /// The resident a card certificate (lowercase hex SHA-256 of its DER) is bound to.
    func resident(forCard certSha256: String) throws -> StoredResident?
    /// The household's current (not logically deleted) members in household order (出力順位).
    func currentMembers(household: String) throws -> [Resident]
    /// The 住民票コード of the household's current members in household order, without decoding
    /// their records.
    func currentMemberCodes(household: String) throws -> [String]
    func activeSeal(_ juminhyoCode: String) throws -> ActiveSeal?
    func restrictions(_ juminhyoCode: String) throws -> Set<Restriction.Kind>
}

/// The replica as the issuance layer, the sync listener and the commands use it, whichever backend
/// holds it: the embedded SQLite store (`[replica] path`, `SQLiteReplica`) or PostgreSQL
/// (`[replica] url`, `PostgresReplica`). Both guarantee the same:
///
/// - `read` runs its body on one snapshot (the state of one commit) for the whole call; a batch
///   committing or a reseed switching meanwhile is not seen, and does not block it.
/// - `apply` applies a validated batch in one transaction, all or nothing, with the seq rules of
///   sync-feed.md (resent events skipped, a gap refused with `expected`, unknown residents
///   refused, stale versions counted and ignored, logical deletion and restore, one resident per
///   card); it is durable when it returns. Concurrent appliers (threads or processes, servers)
///   are serialised.
/// - `reseed` validates an extract while loading it beside the live replica; only a wholly valid
///   extract is switched in, atomically for readers and appliers, and the old replica is then
///   deleted physically. On any fault nothing is switched and the live replica keeps serving.
/// - Text is stored and returned byte-exactly.
public protocol ReplicaStore: AnyObject, Sendable {
    /// Where the replica lives, for messages (a folder or a database URL without its password).
    var location: String { get }
    func read<T>(_ body: (any ReplicaSnapshot) throws -> T) throws -> T
    func lastSeq() throws(StoreError) -> Int64
    func apply(_ batch: SyncBatch, at now: Date) throws(ApplyError) -> ApplyResult
    /// `GET /v1/sync/status`: every count from the same commit.
    func status() throws(StoreError) -> SyncStatus
    /// Counts what a scanned extract would replace (`kofu reseed --dry-run`).
    func summary(of extract: ScannedExtract) throws(StoreError) -> ReseedSummary
    /// Replaces the replica with `extract` (held in memory).
    func reseed(_ extract: Extract, at now: Date, progress: ((Int, Int) -> Void)?) throws(StoreError) -> ReseedSummary
    /// Replaces the replica with the extract in `extractFile` (JSON Lines, optionally gzip), read
    /// once with bounded memory.
    func reseed(extractFile: String, municipality: String, at now: Date,
                progress: ((ReseedProgress) -> Void)?) throws(ReseedError) -> ReseedSummary
}

extension ReplicaStore {
    /// Counts what `extract` would replace, without changing anything (`--dry-run`).
    public func summary(of extract: Extract) throws(StoreError) -> ReseedSummary {
        try summary(of: extract.scanned)
    }

    public func reseed(_ extract: Extract, at now: Date) throws(StoreError) -> ReseedSummary {
        try reseed(extract, at: now, progress: nil)
    }

    public func reseed(extractFile: String, municipality: String, at now: Date) throws(ReseedError) -> ReseedSummary {
        try reseed(extractFile: extractFile, municipality: municipality, at: now, progress: nil)
    }
}

extension Extract {
    /// The keys and counts of an in-memory extract, as a file scan would have found them.
    var scanned: ScannedExtract {
        var keys = ExtractKeys()
        for r in residents { keys.residents.insert(ExtractKeys.code(r.juminhyoCode)) }
        for s in seals { keys.seals.insert(ExtractKeys.code(s.juminhyoCode)) }
        for c in cards { keys.cards.insert(ExtractKeys.CardKey(c.certSha256)) }
        for r in restrictions { keys.restrictions.insert(ExtractKeys.restriction(r.juminhyoCode, r.kind.rawValue)) }
        return ScannedExtract(asOfSeq: asOfSeq, createdAt: createdAt, residents: keys.residents.count, seals: keys.seals.count,
                              cards: keys.cards.count, restrictions: keys.restrictions.count, keys: keys)
    }
}

/// Opens the replica the configuration selects: `[replica] path` → the embedded SQLite store in
/// that folder, `[replica] url` → PostgreSQL.
public enum ReplicaStores {
    public static func open(_ replica: KofuConfig.Replica) throws(StoreError) -> any ReplicaStore {
        switch replica {
        case .sqlite(let path): try SQLiteReplica(folder: path)
        case .postgres(let url): try PostgresReplica(url: url)
        }
    }

    /// `replica.path FOLDER` or `replica.url URL` (without a password): for messages.
    public static func describe(_ replica: KofuConfig.Replica) -> String {
        switch replica {
        case .sqlite(let path): "replica.path \(path)"
        case .postgres(let url): "replica.url \(PostgresReplica.redacted(url))"
        }
    }
}

/// What reseeding has in common on both backends: the records are fed, in file order, to a sink
/// that loads them beside the live replica; the backend's `replace` switches only if `load`
/// returned (the whole extract valid) and discards the partly built replica otherwise.
protocol RecordSink: AnyObject {
    func add(_ record: ExtractRecord, json: [UInt8]?) throws
}

enum Reseeding {
    typealias Replace = (_ asOfSeq: () -> Int64, _ load: (any RecordSink) throws -> ReseedSummary) throws -> ReseedSummary

    static func inMemory(_ extract: Extract, store: any ReplicaStore, progress: ((Int, Int) -> Void)?,
                         replace: Replace) throws(StoreError) -> ReseedSummary {
        let total = extract.residents.count + extract.seals.count + extract.cards.count + extract.restrictions.count
        var done = 0
        func tick() {
            done += 1
            if done % 10_000 == 0 || done == total { progress?(done, total) }
        }
        do {
            return try replace({ extract.asOfSeq }) { builder in
                for x in extract.residents { try builder.add(.resident(x), json: nil); tick() }
                for x in extract.seals { try builder.add(.seal(x), json: nil); tick() }
                for x in extract.cards { try builder.add(.card(x), json: nil); tick() }
                for x in extract.restrictions { try builder.add(.restriction(x), json: nil); tick() }
                return try store.summary(of: extract)
            }
        } catch {
            throw error as? StoreError ?? StoreError(message: "\(error)")
        }
    }

    static func fromFile(_ extractFile: String, municipality: String, store: any ReplicaStore,
                         progress: ((ReseedProgress) -> Void)?, replace: Replace) throws(ReseedError) -> ReseedSummary {
        let reader: ExtractLineReader
        do { reader = try ExtractLineReader(file: extractFile) } catch { throw .extract(error) }
        var records = 0
        var asOfSeq: Int64 = 0
        do {
            return try replace({ asOfSeq }) { builder in
                let scanned = try Extract.scan(reader, municipality: municipality) { record, json in
                    try builder.add(record, json: json)
                    records += 1
                    if records % 20_000 == 0 {
                        progress?(ReseedProgress(records: records, fileBytesRead: reader.fileBytesRead, fileSize: reader.fileSize))
                    }
                }
                progress?(ReseedProgress(records: records, fileBytesRead: reader.fileBytesRead, fileSize: reader.fileSize))
                asOfSeq = scanned.asOfSeq
                return try store.summary(of: scanned)
            }
        } catch {
            if let e = error as? ExtractError { throw .extract(e) }
            throw .store(error as? StoreError ?? StoreError(message: "\(error)"))
        }
    }
}
