import Foundation
import KofuDigest
import KofuJSON
internal import KofuZlib

/// One record of an extract, in file order, with its 1-based line.
public enum ExtractRecord: Sendable {
    case resident(Resident)
    case seal(Seal)
    case card(CardBinding)
    case restriction(Restriction)
}

/// What a whole-extract scan established: the header, the counts (equal to the trailer's) and
/// the keys of every record, compact (a 住民票コード as a number, a certificate hash as 32
/// bytes), for the summary of what the old replica held that the new one does not.
public struct ScannedExtract: Sendable {
    public let asOfSeq: Int64
    public let createdAt: String
    public let residents: Int, seals: Int, cards: Int, restrictions: Int
    let keys: ExtractKeys
}

/// Keys of an extract's records: duplicate detection while reading, the dropped-record summary
/// afterwards. About 50 bytes per record, so a million residents stay well under 100 MB.
struct ExtractKeys: Sendable {
    var residents = Set<UInt64>()
    var seals = Set<UInt64>()
    var cards = Set<CardKey>()
    /// 住民票コード × 2 + kind.
    var restrictions = Set<UInt64>()

    static func code(_ s: String) -> UInt64 {
        var v: UInt64 = 0
        for b in s.utf8 { v = v &* 10 &+ UInt64(b &- 48) }
        return v
    }

    static func restriction(_ code: String, _ kind: String) -> UInt64 {
        Self.code(code) &* 2 &+ (kind == Restriction.Kind.supportMeasure.rawValue ? 0 : 1)
    }

    struct CardKey: Hashable, Sendable {
        let a: UInt64, b: UInt64, c: UInt64, d: UInt64
        /// From 64 hex digits (lowercase; other text gives some key, only used for stored rows).
        init(_ hex: String) {
            var w: [UInt64] = [0, 0, 0, 0]
            for (i, ch) in hex.utf8.prefix(64).enumerated() {
                let v: UInt8 = ch >= 97 ? ch &- 87 : ch &- 48
                w[i / 16] = w[i / 16] << 4 | UInt64(v & 0x0F)
            }
            (a, b, c, d) = (w[0], w[1], w[2], w[3])
        }
    }
}

/// Reads an extract's lines with bounded memory: the file is read (and, when it starts with
/// gzip's magic bytes, inflated) in chunks and split at LF. A line longer than `maxLine` is
/// refused rather than buffered.
final class ExtractLineReader {
    static let chunk = 1 << 20
    /// A seal line holds at most 512 KiB of PNG as base64 (≈ 700 KB); anything far beyond is not
    /// a record of the feed.
    static let maxLine = 4 << 20

    private let handle: FileHandle?
    private var memory: [UInt8]?
    /// Bytes of the file read so far and its size (compressed bytes for a gzip file): progress.
    private(set) var fileBytesRead = 0
    let fileSize: Int

    init(file: String) throws(ExtractError) {
        guard let handle = FileHandle(forReadingAtPath: file) else {
            throw ExtractError(line: 0, field: nil, message: "cannot read \(file)")
        }
        self.handle = handle
        let attributes = try? FileManager.default.attributesOfItem(atPath: file)
        fileSize = (attributes?[.size] as? NSNumber)?.intValue ?? 0
    }

    init(bytes: [UInt8]) {
        handle = nil
        memory = bytes
        fileSize = bytes.count
    }

    deinit { try? handle?.close() }

    /// Calls `body` with each line (without its LF) and its 1-based number, then `end` with the
    /// number of lines and the SHA-256 of every line but the last (with their LFs): the trailer
    /// must be the last line, and the checksum covers every byte before it.
    func forEachLine(_ body: (Int, ArraySlice<UInt8>) throws -> Void, end: (_ lines: Int, _ digest: String) throws -> Void) throws {
        let hasher = Digest()
        var carry: [UInt8] = []
        var lineNumber = 0
        var previous: [UInt8]?  // hashed once a later line shows it is not the last
        var inflater: InflateStream?
        var first = true

        func lines(in data: UnsafeRawBufferPointer) throws {
            var start = 0
            let n = data.count
            while start < n {
                guard let p = memchr(data.baseAddress! + start, 0x0A, n - start) else { break }
                let lf = data.baseAddress!.distance(to: UnsafeRawPointer(p))
                lineNumber += 1
                let line: ArraySlice<UInt8>
                if carry.isEmpty {
                    line = ArraySlice(UnsafeRawBufferPointer(rebasing: data[start..<lf]))
                } else {
                    carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<lf]))
                    line = carry[...]
                    carry = []
                }
                if line.count > Self.maxLine { throw ExtractError(line: lineNumber, field: nil, message: "the line is longer than 4 MiB") }
                if let p = previous {
                    hasher.update(p)
                    hasher.update([0x0A])
                }
                previous = Array(line)
                try body(lineNumber, line)
                start = lf + 1
            }
            if start < n {
                if carry.count + (n - start) > Self.maxLine {
                    throw ExtractError(line: lineNumber + 1, field: nil, message: "the line is longer than 4 MiB")
                }
                carry.append(contentsOf: UnsafeRawBufferPointer(rebasing: data[start..<n]))
            }
        }

        func feed(_ raw: UnsafeRawBufferPointer) throws {
            if first {
                first = false
                if raw.count >= 2 && raw[0] == 0x1F && raw[1] == 0x8B {
                    inflater = try InflateStream(gzip: true, maxOutput: Extract.maxDecompressedBytes)
                }
            }
            if let inflater {
                do {
                    try inflater.inflate(raw) { try lines(in: $0) }
                } catch {
                    guard let zlib = error as? ZlibError else { throw error }
                    throw ExtractError(line: lineNumber + 1, field: nil, message: "not a readable gzip file: \(zlib)")
                }
            } else {
                try lines(in: raw)
            }
        }

        if let memory {
            try memory.withUnsafeBytes { try feed($0) }
            fileBytesRead = memory.count
        } else if let handle {
            while true {
                let data: Data
                do {
                    data = try handle.read(upToCount: Self.chunk) ?? Data()
                } catch {
                    throw ExtractError(line: lineNumber + 1, field: nil, message: "cannot read the extract: \(error)")
                }
                if data.isEmpty { break }
                fileBytesRead += data.count
                try data.withUnsafeBytes { try feed($0) }
            }
        }
        if let inflater {
            do {
                try inflater.finish()
            } catch {
                throw ExtractError(line: lineNumber + 1, field: nil, message: "not a readable gzip file: \(error) (truncated?)")
            }
        }
        if !carry.isEmpty {  // a missing final LF is accepted
            lineNumber += 1
            if let p = previous {
                hasher.update(p)
                hasher.update([0x0A])
            }
            try body(lineNumber, carry[...])
        }
        try end(lineNumber, hasher.finish())
    }

    /// SHA-256 in a box, so that nested functions can share it.
    private final class Digest {
        private var hasher: SHA256? = SHA256()
        func update(_ bytes: UnsafeRawBufferPointer) { hasher!.update(bytes) }
        func update(_ bytes: [UInt8]) { hasher!.update(bytes) }
        func finish() -> String { SHA256.hex(hasher.take()!.finish()) }
    }
}

/// A line decoded on its own (no reference to other lines): a record, the trailer, or the fault.
enum Decoded: @unchecked Sendable {
    /// With a resident, its stored JSON, serialised here on the worker thread.
    case record(ExtractRecord, json: [UInt8]?)
    case trailer(JSONObject)
    case failure(ExtractError)

    static func of(_ n: Int, _ bytes: [UInt8]) -> Decoded {
        do throws(ExtractError) {
            let o = try Extract.object(n, bytes[...])
            guard case .string(let type)? = o["type"] else { throw ExtractError(line: n, field: "type", message: "required string missing") }
            switch type {
            case "resident":
                let r = try Extract.decode(Resident.self, o, line: n, dropping: "type")
                return .record(.resident(r), json: r.stored)
            case "seal": return .record(.seal(try Extract.decode(Seal.self, o, line: n, dropping: "type")), json: nil)
            case "card": return .record(.card(try Extract.decode(CardBinding.self, o, line: n, dropping: "type")), json: nil)
            case "restriction": return .record(.restriction(try Extract.decode(Restriction.self, o, line: n, dropping: "type")), json: nil)
            case "end": return .trailer(o)
            default: throw ExtractError(line: n, field: "type", message: "unknown record type")
            }
        } catch {
            return .failure(error)
        }
    }
}

extension Extract {
    /// One extract line (without its LF) decoded on its own, as a reseed decodes it: the record,
    /// nil for the trailer, or the `ExtractError` of line 1. References, duplicates, counts and
    /// the checksum need the whole extract (`validate`). For the fuzz harnesses.
    public static func decodeLine(_ bytes: [UInt8]) throws(ExtractError) -> ExtractRecord? {
        switch Decoded.of(1, bytes) {
        case .record(let record, _): return record
        case .trailer: return nil
        case .failure(let error): throw error
        }
    }
}

/// Consecutive lines decoded together on a worker thread; `done` is signalled when `results`
/// is complete (and is the only synchronisation needed: nobody touches them before).
final class LineBlock: @unchecked Sendable {
    static let maxLines = 512
    static let maxBytes = 1 << 20
    /// Blocks decoded or waiting at once: bounds memory to a few MB whatever the extract's size.
    static let maxInFlight = 8
    var first = 0
    var lines: [[UInt8]] = []
    var bytes = 0
    var results: [Decoded] = []
    let done = DispatchSemaphore(value: 0)

    func decode() {
        results = lines.enumerated().map { Decoded.of(first + $0.offset, $0.element) }
        lines = []
        done.signal()
    }
}

extension Extract {
    static func object(_ n: Int, _ bytes: ArraySlice<UInt8>) throws(ExtractError) -> JSONObject {
        if bytes.isEmpty { throw ExtractError(line: n, field: nil, message: "blank line") }
        if bytes.last == 0x0D { throw ExtractError(line: n, field: nil, message: "lines end with LF, not CR LF") }
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            // A string breaking the text rules names its member, as a refused field does.
            let field = (error.code == .loneSurrogate || error.code == .controlCharacter) && !error.path.isEmpty
                ? error.path.joined(separator: ".") : nil
            throw ExtractError(line: n, field: field, message: "bad JSON: \(error)")
        }
        guard case .object(let o) = value else { throw ExtractError(line: n, field: nil, message: "not a JSON object") }
        return o
    }

    static func decode<T: Decodable>(_ type: T.Type, _ o: JSONObject, line n: Int, dropping key: String) throws(ExtractError) -> T {
        do {
            return try StrictJSONDecoder().decode(T.self, from: .object(key.isEmpty ? o : JSONObject(o.members.filter { $0.key != key })!))
        } catch {
            throw ExtractError(line: n, field: error.path.isEmpty ? nil : error.path, message: error.message)
        }
    }

    /// Validates a whole extract while reading it once with bounded memory, handing each record
    /// to `each` in file order as soon as it is valid on its own. References, counts and the
    /// checksum are known only at the end: a caller that loads records as they come must discard
    /// what it loaded when this throws. `each` may throw to stop; its error is passed through.
    static func scan(_ reader: ExtractLineReader, municipality: String,
                     each: (ExtractRecord, _ json: [UInt8]?) throws -> Void) throws -> ScannedExtract {
        var keys = ExtractKeys()
        var counts = (resident: 0, seal: 0, card: 0, restriction: 0)
        /// References to a resident not (yet) seen, in file order; checked at the end.
        var forward: [(code: UInt64, line: Int)] = []
        var header: (asOfSeq: Int64, createdAt: String)?
        var headerLine: [UInt8]?
        var trailer: (line: Int, object: JSONObject)?
        var digest = ""
        var lineCount = 0

        func object(_ n: Int, _ bytes: ArraySlice<UInt8>) throws(ExtractError) -> JSONObject { try Extract.object(n, bytes) }
        func decode<T: Decodable>(_ type: T.Type, _ o: JSONObject, line n: Int, dropping key: String) throws(ExtractError) -> T {
            try Extract.decode(type, o, line: n, dropping: key)
        }
        func unique<K: Hashable>(_ seen: inout Set<K>, _ key: K, line: Int, field: String, _ what: String) throws(ExtractError) {
            guard seen.insert(key).inserted else { throw ExtractError(line: line, field: field, message: "duplicate \(what)") }
        }
        func refer(_ code: String, line: Int) {
            let k = ExtractKeys.code(code)
            if !keys.residents.contains(k) { forward.append((k, line)) }
        }

        func processHeader(_ bytes: [UInt8]) throws(ExtractError) {
            struct Header: Decodable {
                let format: String, municipality: String, asOfSeq: Int64, createdAt: String
            }
            let h = try decode(Header.self, try object(1, bytes[...]), line: 1, dropping: "")
            guard h.format == "kofu-extract/1" else { throw ExtractError(line: 1, field: "format", message: "expected \"kofu-extract/1\"") }
            guard h.municipality == municipality else {
                throw ExtractError(line: 1, field: "municipality", message: "this server serves \(municipality)")
            }
            guard h.asOfSeq >= 0 else { throw ExtractError(line: 1, field: "asOfSeq", message: "must be 0 or more") }
            guard h.createdAt.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#, options: .regularExpression) != nil else {
                throw ExtractError(line: 1, field: "createdAt", message: "expected an RFC 3339 timestamp with offset")
            }
            header = (h.asOfSeq, h.createdAt)
        }

        /// Consumes one decoded line, in file order, on the calling thread.
        func consume(_ n: Int, _ decoded: Decoded) throws {
            if let trailer { throw ExtractError(line: trailer.line + 1, field: nil, message: "nothing may follow the trailer") }
            switch decoded {
            case .failure(let error): throw error
            case .trailer(let o): trailer = (n, o)
            case .record(let record, let json):
                switch record {
                case .resident(let r):
                    try unique(&keys.residents, ExtractKeys.code(r.juminhyoCode), line: n, field: "juminhyoCode", "resident")
                    counts.resident += 1
                case .seal(let s):
                    try unique(&keys.seals, ExtractKeys.code(s.juminhyoCode), line: n, field: "juminhyoCode", "seal registration")
                    refer(s.juminhyoCode, line: n)
                    counts.seal += 1
                case .card(let c):
                    try unique(&keys.cards, ExtractKeys.CardKey(c.certSha256), line: n, field: "certSha256", "card binding")
                    refer(c.juminhyoCode, line: n)
                    counts.card += 1
                case .restriction(let r):
                    try unique(&keys.restrictions, ExtractKeys.restriction(r.juminhyoCode, r.kind.rawValue), line: n, field: "kind", "restriction")
                    refer(r.juminhyoCode, line: n)
                    counts.restriction += 1
                }
                try each(record, json)
            }
        }

        // Parsing and validating records is most of the work: blocks of lines are decoded on
        // worker threads while this thread reads, hashes, and consumes finished blocks in order
        // (duplicates, references, loading), so faults are still reported at their first line.
        var inFlight: [LineBlock] = []
        var block = LineBlock()
        let workers = DispatchQueue(label: "kofu.extract.decode", attributes: .concurrent)
        /// A fault found while consuming, in file order: it precedes every line still in flight.
        var consumeFailed = false
        func consumeHead(wait: Bool) throws {
            while let head = inFlight.first {
                if wait { head.done.wait() } else if head.done.wait(timeout: .now()) != .success { return }
                inFlight.removeFirst()
                do {
                    for (i, decoded) in head.results.enumerated() { try consume(head.first + i, decoded) }
                } catch {
                    consumeFailed = true
                    throw error
                }
                if !wait { continue }
                return
            }
        }
        func submit() throws {
            guard !block.lines.isEmpty else { return }
            let b = block
            block = LineBlock()
            inFlight.append(b)
            workers.async { b.decode() }
            try consumeHead(wait: false)
            while inFlight.count >= LineBlock.maxInFlight { try consumeHead(wait: true) }
        }
        var readError: (any Error)?
        do {
            try reader.forEachLine({ n, bytes in
                if n == 1 {
                    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw ExtractError(line: 1, field: nil, message: "a byte order mark is not allowed") }
                    // Judged once a second line shows this is not a one-line file.
                    headerLine = Array(bytes)
                    return
                }
                if let line = headerLine {
                    headerLine = nil
                    try processHeader(line)
                }
                if block.lines.isEmpty { block.first = n }
                block.lines.append(Array(bytes))
                block.bytes += bytes.count
                if block.lines.count >= LineBlock.maxLines || block.bytes >= LineBlock.maxBytes { try submit() }
            }, end: { lines, sha in
                lineCount = lines
                digest = sha
            })
        } catch {
            readError = error
        }
        // A fault found while consuming (inside the read loop, when a finished block was taken
        // up early) is the first in the file: the blocks still in flight hold later lines.
        if consumeFailed, let readError {
            for b in inFlight { b.done.wait() }  // let the workers finish before returning
            throw readError
        }
        // Lines read before a read fault come first; then the fault itself.
        do {
            if readError == nil { try submit() }
            while !inFlight.isEmpty { try consumeHead(wait: true) }
        } catch {
            for b in inFlight { b.done.wait() }  // let the workers finish before returning
            throw error
        }
        if let readError { throw readError }

        guard lineCount >= 2 else {
            throw ExtractError(line: max(1, lineCount), field: nil, message: "an extract needs a header line and a trailer line")
        }
        guard let header else { throw ExtractError(line: 1, field: nil, message: "an extract needs a header line and a trailer line") }
        guard let trailer else {
            throw ExtractError(line: lineCount, field: nil, message: "the extract ends without its trailer (truncated?)")
        }
        struct Counts: Decodable { let resident: Int, seal: Int, card: Int, restriction: Int }
        struct Trailer: Decodable { let counts: Counts, sha256: String }
        let t = try decode(Trailer.self, trailer.object, line: trailer.line, dropping: "type")
        for (name, expected, actual) in [("resident", t.counts.resident, counts.resident), ("seal", t.counts.seal, counts.seal),
                                         ("card", t.counts.card, counts.card), ("restriction", t.counts.restriction, counts.restriction)]
        where expected != actual {
            throw ExtractError(line: trailer.line, field: "counts.\(name)", message: "the trailer says \(expected), the extract holds \(actual)")
        }
        guard Array(t.sha256.utf8) == Array(digest.utf8) else {
            throw ExtractError(line: trailer.line, field: "sha256", message: "checksum mismatch: the extract is corrupt or incomplete")
        }
        for ref in forward where !keys.residents.contains(ref.code) {
            throw ExtractError(line: ref.line, field: "juminhyoCode", message: "refers to a resident not in the extract")
        }
        return ScannedExtract(asOfSeq: header.asOfSeq, createdAt: header.createdAt, residents: counts.resident, seals: counts.seal,
                              cards: counts.card, restrictions: counts.restriction, keys: keys)
    }

    /// Validates a whole extract file with bounded memory (one streaming pass; nothing is kept but
    /// the keys of the records), e.g. for `kofu reseed --dry-run`.
    public static func check(file: String, municipality: String) throws(ExtractError) -> ScannedExtract {
        do {
            return try scan(try ExtractLineReader(file: file), municipality: municipality) { _, _ in }
        } catch {
            throw error as? ExtractError ?? ExtractError(line: 0, field: nil, message: "\(error)")
        }
    }
}
