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
    /// line), references, counts and checksum. `municipality` is `[municipality] code`. The file is
    /// read as a stream, but the records are returned in memory: for a large extract use
    /// `SQLiteReplica.reseed(extractFile:municipality:at:progress:)`, which loads as it reads.
    public static func validate(file: String, municipality: String) throws(ExtractError) -> Extract {
        try collect(try ExtractLineReader(file: file), municipality: municipality)
    }

    public static func validate(bytes: [UInt8], municipality: String) throws(ExtractError) -> Extract {
        try collect(ExtractLineReader(bytes: bytes), municipality: municipality)
    }

    private static func collect(_ reader: ExtractLineReader, municipality: String) throws(ExtractError) -> Extract {
        var residents: [Resident] = [], seals: [Seal] = [], cards: [CardBinding] = [], restrictions: [Restriction] = []
        do {
            let scanned = try scan(reader, municipality: municipality) { record, _ in
                switch record {
                case .resident(let r): residents.append(r)
                case .seal(let s): seals.append(s)
                case .card(let c): cards.append(c)
                case .restriction(let r): restrictions.append(r)
                }
            }
            return Extract(asOfSeq: scanned.asOfSeq, createdAt: scanned.createdAt, residents: residents, seals: seals,
                           cards: cards, restrictions: restrictions)
        } catch {
            throw error as? ExtractError ?? ExtractError(line: 0, field: nil, message: "\(error)")
        }
    }
}
