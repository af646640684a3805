import Foundation
import KofuDigest
import KofuJSON

/// The issuance audit log (operations.md): one record per issuance and per outcome, append-only,
/// hash-chained, no personal data (opaque references only), durable before the call returns.
///
/// `audit.log` holds one line per record:
/// `{"seq":N,"prev":"<hash of record N-1>","record":{…},"hash":"<SHA-256 of everything before ,"hash">"}`.
/// `audit.head` holds the last record's seq, hash and 交付番号, replaced atomically after every
/// append, so that a record removed from the end is detected as well as an edit or a gap.
public final class AuditLog: @unchecked Sendable {
    public static let logName = "audit.log"
    public static let headName = "audit.head"
    static let zeroHash = String(repeating: "0", count: 64)

    public struct AuditError: Error, CustomStringConvertible, Sendable {
        public let message: String
        public var description: String { message }
    }

    public let folder: String
    private let fd: Int32
    private var seq: Int64
    private var lastHash: String
    private let lock = NSLock()

    public init(folder: String) throws(AuditError) {
        self.folder = folder
        do {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        } catch {
            throw AuditError(message: "cannot create \(folder): \(error)")
        }
        let path = folder + "/" + Self.logName
        fd = open(path, O_RDWR | O_CREAT | O_APPEND, 0o600)
        guard fd >= 0 else { throw AuditError(message: "\(path): cannot open (errno \(errno))") }
        // Find the last complete record; a torn last line (a crash mid-append, never acknowledged) is cut off.
        let data = FileManager.default.contents(atPath: path).map { Array($0) } ?? []
        var end = data.count
        if let lastNewline = data.lastIndex(of: 0x0A) {
            end = lastNewline + 1
        } else {
            end = 0
        }
        if end < data.count { _ = ftruncate(fd, off_t(end)) }
        seq = 0
        lastHash = Self.zeroHash
        if end > 0 {
            let start = (data[..<(end - 1)].lastIndex(of: 0x0A).map { $0 + 1 }) ?? 0
            let line = Array(data[start..<(end - 1)])
            guard let parsed = Self.parseLine(line) else {
                throw AuditError(message: "\(path): the last record is damaged; run kofu audit verify")
            }
            seq = parsed.seq
            lastHash = parsed.hash
        }
    }

    deinit { close(fd) }

    /// Appends records in order and makes them durable (fdatasync, then the head file). Either
    /// every record of the call is appended or the call throws.
    public func append(_ records: [JSONObject]) throws(AuditError) {
        lock.lock()
        defer { lock.unlock() }
        var bytes: [UInt8] = []
        var s = seq
        var h = lastHash
        var lastId = ""
        for record in records {
            s += 1
            let made = Self.line(seq: s, prev: h, record: record)
            h = made.hash
            bytes += made.bytes + [0x0A]
            if !made.issuanceId.isEmpty { lastId = made.issuanceId }
        }
        let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count, fdatasync(fd) == 0 else {
            throw AuditError(message: "cannot append to the audit log (errno \(errno))")
        }
        seq = s
        lastHash = h
        try writeHead(seq: s, hash: h, issuanceId: lastId)
    }

    /// One record's line (without its LF) and hash, and its 交付番号 ("" for none): the same
    /// bytes in `audit.log` and in the PostgreSQL chain.
    public static func line(seq: Int64, prev: String, record: JSONObject) -> (bytes: [UInt8], hash: String, issuanceId: String) {
        let prefix = Array("{\"seq\":\(seq),\"prev\":\"\(prev)\",\"record\":".utf8) + serialize(.object(record))
        let hash = SHA256.hex(SHA256.hash(prefix))
        var id = ""
        if case .string(let s)? = record["issuanceId"] { id = s }
        return (prefix + Array(",\"hash\":\"\(hash)\"}".utf8), hash, id)
    }

    private func writeHead(seq: Int64, hash: String, issuanceId: String) throws(AuditError) {
        let head = serialize(.object(JSONObject([
            ("seq", .number(JSONNumber(seq))), ("hash", .string(hash)), ("issuanceId", .string(issuanceId)),
        ])!)) + [0x0A]
        let temporary = folder + "/" + Self.headName + ".new"
        let hfd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard hfd >= 0 else { throw AuditError(message: "cannot write \(temporary) (errno \(errno))") }
        let written = head.withUnsafeBytes { write(hfd, $0.baseAddress, $0.count) }
        let synced = fsync(hfd)
        close(hfd)
        guard written == head.count, synced == 0, rename(temporary, folder + "/" + Self.headName) == 0 else {
            throw AuditError(message: "cannot replace the audit head (errno \(errno))")
        }
        // No fsync of the folder: if a crash loses the rename, the head lags behind the (synced)
        // log, which verify accepts; the head's own bytes are synced before the rename.
    }

    struct ParsedLine {
        let seq: Int64
        let prev: String
        let hash: String
        let issuanceId: String?
        let hashValid: Bool
    }

    static func parseLine(_ line: [UInt8]) -> ParsedLine? {
        guard case .object(let o)? = try? JSONParser.parse(line), o.keys == ["seq", "prev", "record", "hash"],
              case .number(let n)? = o["seq"], let seq = n.int64, case .string(let prev)? = o["prev"],
              case .string(let hash)? = o["hash"], case .object(let record)? = o["record"] else { return nil }
        // The hashed prefix is everything before `,"hash":"<64 hex>"}`.
        let suffixLength = ",\"hash\":\"".utf8.count + 64 + 2
        guard line.count > suffixLength else { return nil }
        let prefix = Array(line[..<(line.count - suffixLength)])
        var issuanceId: String?
        if case .string(let id)? = record["issuanceId"] { issuanceId = id }
        return ParsedLine(seq: seq, prev: prev, hash: hash, issuanceId: issuanceId,
                          hashValid: SHA256.hex(SHA256.hash(prefix)) == hash)
    }

    public struct Verification: Sendable, Equatable {
        public let records: Int
        /// nil when intact; otherwise the first bad record, named by its 交付番号 where it has one.
        public let fault: String?
    }

    /// Checks the log end to end: every line parses, seq runs 1, 2, 3 …, each record's `prev` is
    /// the hash of the one before, each hash matches its bytes, and the head names the last record.
    public static func verify(folder: String) -> Verification {
        let path = folder + "/" + logName
        guard let data = FileManager.default.contents(atPath: path).map(Array.init) else {
            if !FileManager.default.fileExists(atPath: path), !FileManager.default.fileExists(atPath: folder + "/" + headName) {
                return Verification(records: 0, fault: nil)  // nothing issued yet
            }
            return Verification(records: 0, fault: "\(path): cannot read the audit log")
        }
        let headPath = folder + "/" + headName
        return verify(log: data, head: FileManager.default.contents(atPath: headPath).map(Array.init), headName: headPath)
    }

    /// The same checks on a log's bytes and its head's (nil: none), wherever they are kept.
    public static func verify(log data: [UInt8], head headBytes: [UInt8]?, headName headPath: String) -> Verification {
        var expectedSeq: Int64 = 1
        var previous = zeroHash
        var lastId: String?
        var count = 0
        var lineNumber = 0
        // A server that started and issued nothing leaves an empty log: no lines, not one empty line.
        let lines = data.isEmpty ? [] : Array(data.split(separator: 0x0A, omittingEmptySubsequences: false).dropLast(data.last == 0x0A ? 1 : 0))
        for line in lines {
            lineNumber += 1
            let name = { (p: ParsedLine?) -> String in
                if let id = p?.issuanceId { return "record \(lineNumber) (交付番号 \(id))" }
                return "record \(lineNumber)"
            }
            guard let parsed = parseLine(Array(line)) else {
                return Verification(records: count, fault: "\(name(nil)): not a well-formed audit record (line \(lineNumber))")
            }
            guard parsed.hashValid else {
                return Verification(records: count, fault: "\(name(parsed)): edited (its hash does not match its contents)")
            }
            guard parsed.seq == expectedSeq, parsed.prev == previous else {
                return Verification(records: count, fault: "\(name(parsed)): the chain is broken before it (a record was removed or reordered; expected seq \(expectedSeq), found \(parsed.seq))")
            }
            previous = parsed.hash
            lastId = parsed.issuanceId
            expectedSeq += 1
            count += 1
        }
        if data.last != nil && data.last != 0x0A {
            return Verification(records: count, fault: "record \(lineNumber + 1): torn (no final line feed)")
        }
        guard let headData = headBytes else {
            return count == 0 ? Verification(records: 0, fault: nil)
                : Verification(records: count, fault: "\(headPath): missing (cannot tell whether records are missing at the end)")
        }
        guard case .object(let head)? = try? JSONParser.parse(Array(headData).dropLast(headData.last == 0x0A ? 1 : 0)),
              case .number(let n)? = head["seq"], let headSeq = n.int64, case .string(let headHash)? = head["hash"] else {
            return Verification(records: count, fault: "\(headPath): damaged")
        }
        var headId = ""
        if case .string(let id)? = head["issuanceId"] { headId = id }
        if headSeq > Int64(count) {
            return Verification(records: count, fault: "record \(headSeq) (交付番号 \(headId)): missing at the end of the log (the log ends at record \(count))")
        }
        // A crash between the log's sync and the head's replacement leaves the head one group
        // behind: records after it are accepted when they chain; the head's own record must match.
        if headSeq > 0 {
            let line = data.split(separator: 0x0A)[Int(headSeq) - 1]
            if parseLine(Array(line))?.hash != headHash {
                return Verification(records: count, fault: "record \(headSeq) (交付番号 \(headId)): does not match the audit head")
            }
        }
        _ = lastId
        return Verification(records: count, fault: nil)
    }
}
