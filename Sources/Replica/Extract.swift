import Foundation
import KofuDigest
import KofuJSON
internal import KofuZlib

/// A refused extract: the 1-based line of the file (the header is line 1) and the field by its
/// JSON member name. The live replica is left untouched.
public struct ExtractError: Error, Equatable, CustomStringConvertible, Sendable {
    public let line: Int
    public let field: String?
    public let message: String
    public var description: String { "line \(line)" + (field.map { ": \($0)" } ?? "") + ": \(message)" }
}

/// A validated reseed extract (sync-feed.md "The reseed extract").
public struct Extract: Sendable {
    public let asOfSeq: Int64
    public let createdAt: String
    public let residents: [Resident]
    public let seals: [Seal]
    public let cards: [CardBinding]
    public let restrictions: [Restriction]

    /// Decompressed size accepted from a gzip extract; a larger one is refused (a gzip bomb).
    public static let maxDecompressedBytes = 8 << 30

    /// Validates the whole extract: header, every record, duplicates (reported at the later
    /// line), references, counts and checksum. `municipality` is `[municipality] code`.
    public static func validate(file: String, municipality: String) throws(ExtractError) -> Extract {
        guard let data = FileManager.default.contents(atPath: file) else {
            throw ExtractError(line: 0, field: nil, message: "cannot read \(file)")
        }
        var bytes = [UInt8](data)
        if bytes.count >= 2 && bytes[0] == 0x1F && bytes[1] == 0x8B {
            do {
                bytes = try Zlib.inflate(bytes, maxOutput: maxDecompressedBytes, gzip: true)
            } catch {
                throw ExtractError(line: 0, field: nil, message: "not a readable gzip file: \(error)")
            }
        }
        return try validate(bytes: bytes, municipality: municipality)
    }

    public static func validate(bytes: [UInt8], municipality: String) throws(ExtractError) -> Extract {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { throw ExtractError(line: 1, field: nil, message: "a byte order mark is not allowed") }
        // Line boundaries; a missing final LF is accepted.
        var lines: [Range<Int>] = []
        var start = 0
        for (i, b) in bytes.enumerated() where b == 0x0A {
            lines.append(start..<i)
            start = i + 1
        }
        if start < bytes.count { lines.append(start..<bytes.count) }
        guard lines.count >= 2 else {
            throw ExtractError(line: max(1, lines.count), field: nil, message: "an extract needs a header line and a trailer line")
        }

        func object(_ n: Int) throws(ExtractError) -> JSONObject {
            let range = lines[n - 1]
            if range.isEmpty { throw ExtractError(line: n, field: nil, message: "blank line") }
            if bytes[range.upperBound - 1] == 0x0D { throw ExtractError(line: n, field: nil, message: "lines end with LF, not CR LF") }
            do {
                guard case .object(let o) = try JSONParser.parse(bytes[range]) else {
                    throw ExtractError(line: n, field: nil, message: "not a JSON object")
                }
                return o
            } catch let error as ExtractError {
                throw error
            } catch {
                throw ExtractError(line: n, field: nil, message: "bad JSON: \(error)")
            }
        }
        func decode<T: Decodable>(_ type: T.Type, _ o: JSONObject, line n: Int, dropping key: String) throws(ExtractError) -> T {
            do {
                return try StrictJSONDecoder().decode(T.self, from: .object(JSONObject(o.members.filter { $0.key != key })!))
            } catch {
                throw ExtractError(line: n, field: error.path.isEmpty ? nil : error.path, message: error.message)
            }
        }

        // Line 1: the header.
        struct Header: Decodable {
            let format: String, municipality: String, asOfSeq: Int64, createdAt: String
        }
        let header = try decode(Header.self, try object(1), line: 1, dropping: "")
        guard header.format == "kofu-extract/1" else { throw ExtractError(line: 1, field: "format", message: "expected \"kofu-extract/1\"") }
        guard header.municipality == municipality else {
            throw ExtractError(line: 1, field: "municipality", message: "this server serves \(municipality)")
        }
        guard header.asOfSeq >= 0 else { throw ExtractError(line: 1, field: "asOfSeq", message: "must be 0 or more") }
        guard header.createdAt.range(of: #"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$"#, options: .regularExpression) != nil else {
            throw ExtractError(line: 1, field: "createdAt", message: "expected an RFC 3339 timestamp with offset")
        }

        var residents: [Resident] = [], seals: [Seal] = [], cards: [CardBinding] = [], restrictions: [Restriction] = []
        var residentCodes = Set<String>(), sealCodes = Set<String>(), cardHashes = Set<String>()
        var restrictionKeys = Set<Restriction>()
        /// A record seen before is reported at its later line.
        func unique<K: Hashable>(_ seen: inout Set<K>, _ key: K, line: Int, field: String, _ what: String) throws(ExtractError) {
            guard seen.insert(key).inserted else { throw ExtractError(line: line, field: field, message: "duplicate \(what)") }
        }
        var references: [(code: String, line: Int, field: String)] = []

        var n = 2
        var trailer: JSONObject?
        while n <= lines.count {
            let o = try object(n)
            guard case .string(let type)? = o["type"] else { throw ExtractError(line: n, field: "type", message: "required string missing") }
            switch type {
            case "resident":
                let r = try decode(Resident.self, o, line: n, dropping: "type")
                try unique(&residentCodes, r.juminhyoCode, line: n, field: "juminhyoCode", "resident")
                residents.append(r)
            case "seal":
                let s = try decode(Seal.self, o, line: n, dropping: "type")
                try unique(&sealCodes, s.juminhyoCode, line: n, field: "juminhyoCode", "seal registration")
                references.append((s.juminhyoCode, n, "juminhyoCode"))
                seals.append(s)
            case "card":
                let c = try decode(CardBinding.self, o, line: n, dropping: "type")
                try unique(&cardHashes, c.certSha256, line: n, field: "certSha256", "card binding")
                references.append((c.juminhyoCode, n, "juminhyoCode"))
                cards.append(c)
            case "restriction":
                let r = try decode(Restriction.self, o, line: n, dropping: "type")
                try unique(&restrictionKeys, r, line: n, field: "kind", "restriction")
                references.append((r.juminhyoCode, n, "juminhyoCode"))
                restrictions.append(r)
            case "end":
                guard n == lines.count else { throw ExtractError(line: n + 1, field: nil, message: "nothing may follow the trailer") }
                trailer = o
            default:
                throw ExtractError(line: n, field: "type", message: "unknown record type")
            }
            n += 1
        }
        guard let trailer else {
            throw ExtractError(line: lines.count, field: nil, message: "the extract ends without its trailer (truncated?)")
        }
        let trailerLine = lines.count
        struct Counts: Decodable { let resident: Int, seal: Int, card: Int, restriction: Int }
        struct Trailer: Decodable { let counts: Counts, sha256: String }
        let t = try decode(Trailer.self, trailer, line: trailerLine, dropping: "type")
        for (name, expected, actual) in [("resident", t.counts.resident, residents.count), ("seal", t.counts.seal, seals.count),
                                         ("card", t.counts.card, cards.count), ("restriction", t.counts.restriction, restrictions.count)]
        where expected != actual {
            throw ExtractError(line: trailerLine, field: "counts.\(name)", message: "the trailer says \(expected), the extract holds \(actual)")
        }
        let digest = bytes.withUnsafeBytes { raw -> String in
            var h = SHA256()
            h.update(UnsafeRawBufferPointer(rebasing: raw[0..<lines[trailerLine - 1].lowerBound]))
            return SHA256.hex(h.finish())
        }
        guard Array(t.sha256.utf8) == Array(digest.utf8) else {
            throw ExtractError(line: trailerLine, field: "sha256", message: "checksum mismatch: the extract is corrupt or incomplete")
        }
        for ref in references where !residentCodes.contains(ref.code) {
            throw ExtractError(line: ref.line, field: ref.field, message: "refers to a resident not in the extract")
        }
        return Extract(asOfSeq: header.asOfSeq, createdAt: header.createdAt, residents: residents, seals: seals,
                       cards: cards, restrictions: restrictions)
    }
}
