import Foundation
import KofuJSON
import Typesetting

/// A record of the sync feed or the reseed extract that breaks a rule of sync-feed.md: the
/// field by its dotted path (`resident.birthDate`, `seal.impression.png`) and why. Never the
/// value: it may be a name.
public struct RecordError: Error, Equatable, CustomStringConvertible, Sendable {
    public let field: String
    public let message: String
    public init(field: String, message: String) {
        self.field = field
        self.message = message
    }
    public var description: String { "\(field): \(message)" }
}

/// The text rules of sync-feed.md, applied to every text field.
public enum FeedText {
    public enum Limit: Int, Sendable { case name = 100, address = 160, other = 64 }

    /// Nil when acceptable; otherwise why not. Text is never altered: it is accepted exactly
    /// as sent or refused.
    public static func problem(_ text: String, limit: Limit) -> String? {
        if text.isEmpty { return "must not be empty" }
        var count = 0
        for scalar in text.unicodeScalars {
            count += 1
            let v = scalar.value
            if v < 0x20 || (0x7F...0x9F).contains(v) { return "contains the control character \(scalar.uPlus)" }
            if (0xFDD0...0xFDEF).contains(v) || v & 0xFFFE == 0xFFFE { return "contains the noncharacter \(scalar.uPlus)" }
        }
        if count > limit.rawValue { return "is \(count) characters long; the limit is \(limit.rawValue)" }
        return nil
    }
}

/// Validated field values. Each `init(from:)` refuses what the feed forbids, with the failing
/// member's path, on top of the strict decoder's unknown-member and type checks.
struct Checked {
    static func text<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, _ limit: FeedText.Limit) throws -> String {
        let s = try c.decode(String.self, forKey: key)
        if let problem = FeedText.problem(s, limit: limit) { throw JSONDecodeError.invalidValue(problem, forKey: key, in: c) }
        return s
    }

    static func optionalText<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, _ limit: FeedText.Limit) throws -> String? {
        // An optional text, when present, follows the same rules (an empty one is refused rather
        // than printed as an empty 旧氏 or 方書).
        guard try c.decodeIfPresent(String.self, forKey: key) != nil else { return nil }
        return try text(c, key, limit)
    }

    static func juminhyoCode<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> String {
        let s = try c.decode(String.self, forKey: key)
        guard s.utf8.count == 11, s.utf8.allSatisfy({ (48...57).contains($0) }) else {
            throw JSONDecodeError.invalidValue("a 住民票コード is 11 ASCII digits", forKey: key, in: c)
        }
        return s
    }

    static func alphanumeric<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K, max: Int) throws -> String {
        let s = try c.decode(String.self, forKey: key)
        guard (1...max).contains(s.utf8.count), s.utf8.allSatisfy({ (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }) else {
            throw JSONDecodeError.invalidValue("expected 1–\(max) ASCII letters or digits", forKey: key, in: c)
        }
        return s
    }

    /// `YYYY-MM-DD`, a real Gregorian date, 1873-01-01 or later.
    static func date<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> String {
        let s = try c.decode(String.self, forKey: key)
        guard isDate(s) else { throw JSONDecodeError.invalidValue("expected a date YYYY-MM-DD from 1873-01-01 on", forKey: key, in: c) }
        return s
    }

    static func isDate(_ s: String) -> Bool {
        let b = Array(s.utf8)
        guard b.count == 10, b[4] == 45, b[7] == 45,
              [0, 1, 2, 3, 5, 6, 8, 9].allSatisfy({ (48...57).contains(b[$0]) }) else { return false }
        func n(_ r: Range<Int>) -> Int { r.reduce(0) { $0 * 10 + Int(b[$1] - 48) } }
        let y = n(0..<4), m = n(5..<7), d = n(8..<10)
        let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        return y >= 1873 && (1...12).contains(m) && (1...days[m - 1]).contains(d)
    }

    static func positive<K: CodingKey>(_ c: KeyedDecodingContainer<K>, _ key: K) throws -> Int64 {
        let v = try c.decode(Int64.self, forKey: key)
        guard v >= 1 else { throw JSONDecodeError.invalidValue("must be 1 or more", forKey: key, in: c) }
        return v
    }
}

public struct Domicile: Decodable, Sendable, Equatable {
    public let address: String
    public let head: String
    enum Keys: String, CodingKey { case address, head }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        address = try Checked.text(c, .address, .address)
        head = try Checked.text(c, .head, .name)
    }
}

public struct ForeignResident: Decodable, Sendable, Equatable {
    public let nationality: String, category: String, status: String, periodOfStay: String, expiresOn: String
    enum Keys: String, CodingKey { case nationality, category, status, periodOfStay, expiresOn }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        nationality = try Checked.text(c, .nationality, .other)
        category = try Checked.text(c, .category, .other)
        status = try Checked.text(c, .status, .other)
        periodOfStay = try Checked.text(c, .periodOfStay, .other)
        expiresOn = try Checked.date(c, .expiresOn)
    }
}

/// A resident record (sync-feed.md). Holds no 個人番号: the format has no field for one, and an
/// unknown member (whatever its name) refuses the record.
public struct Resident: Decodable, Sendable, Equatable {
    public let juminhyoCode: String
    public let householdId: String
    public let householdOrder: Int64
    public let householdHeadName: String
    public let name: String
    public let nameKana: String
    public let formerSurname: String?
    public let alias: String?
    public let birthDate: String
    public let sex: String
    public let relationship: String
    public let address: String
    public let katagaki: String?
    public let becameResidentOn: String
    public let addressSetOn: String
    public let addressNotifiedOn: String
    public let previousAddress: String?
    public let domicile: Domicile?
    public let foreignResident: ForeignResident?
    public let version: Int64

    enum Keys: String, CodingKey {
        case juminhyoCode, householdId, householdOrder, householdHeadName, name, nameKana, formerSurname, alias, birthDate
        case sex, relationship, address, katagaki, becameResidentOn, addressSetOn, addressNotifiedOn, previousAddress
        case domicile, foreignResident, version
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        juminhyoCode = try Checked.juminhyoCode(c, .juminhyoCode)
        householdId = try Checked.alphanumeric(c, .householdId, max: 20)
        householdOrder = try Checked.positive(c, .householdOrder)
        householdHeadName = try Checked.text(c, .householdHeadName, .name)
        name = try Checked.text(c, .name, .name)
        nameKana = try Checked.text(c, .nameKana, .name)
        formerSurname = try Checked.optionalText(c, .formerSurname, .name)
        alias = try Checked.optionalText(c, .alias, .name)
        birthDate = try Checked.date(c, .birthDate)
        let sex = try c.decode(String.self, forKey: .sex)
        guard sex == "男" || sex == "女" else { throw JSONDecodeError.invalidValue("must be \"男\" or \"女\"", forKey: .sex, in: c) }
        self.sex = sex
        relationship = try Checked.text(c, .relationship, .other)
        address = try Checked.text(c, .address, .address)
        katagaki = try Checked.optionalText(c, .katagaki, .address)
        becameResidentOn = try Checked.date(c, .becameResidentOn)
        addressSetOn = try Checked.date(c, .addressSetOn)
        addressNotifiedOn = try Checked.date(c, .addressNotifiedOn)
        previousAddress = try Checked.optionalText(c, .previousAddress, .address)
        domicile = try c.decodeIfPresent(Domicile.self, forKey: .domicile)
        foreignResident = try c.decodeIfPresent(ForeignResident.self, forKey: .foreignResident)
        if domicile != nil && foreignResident != nil {
            throw JSONDecodeError.invalidValue("a 外国人住民 has no 本籍", forKey: .domicile, in: c)
        }
        version = try Checked.positive(c, .version)
    }
}

public struct SealImpression: Decodable, Sendable, Equatable {
    public let png: [UInt8]
    public let widthMm: Double
    public let heightMm: Double
    enum Keys: String, CodingKey { case png, widthMm, heightMm }

    public static let maxPNGBytes = 512 * 1024

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        let text = try c.decode(String.self, forKey: .png)
        guard text.utf8.count <= (SealImpression.maxPNGBytes + 2) / 3 * 4, let data = Data(base64Encoded: text) else {
            throw JSONDecodeError.invalidValue("expected base64 of a PNG of at most 512 KiB", forKey: .png, in: c)
        }
        let bytes = [UInt8](data)
        guard bytes.count <= SealImpression.maxPNGBytes else {
            throw JSONDecodeError.invalidValue("the PNG is over 512 KiB", forKey: .png, in: c)
        }
        do {
            _ = try PNGImage.decode(bytes)
        } catch {
            throw JSONDecodeError.invalidValue("not a usable PNG: \(error.code.rawValue)", forKey: .png, in: c)
        }
        png = bytes
        widthMm = try c.decode(Double.self, forKey: .widthMm)
        heightMm = try c.decode(Double.self, forKey: .heightMm)
        for (key, v) in [(Keys.widthMm, widthMm), (.heightMm, heightMm)] where !(8...25).contains(v) {
            throw JSONDecodeError.invalidValue("registered seals are 8–25 mm", forKey: key, in: c)
        }
    }
}

public struct Seal: Decodable, Sendable, Equatable {
    public let juminhyoCode: String
    public let registrationNumber: String
    public let registeredOn: String
    public let impression: SealImpression
    enum Keys: String, CodingKey { case juminhyoCode, registrationNumber, registeredOn, impression }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        juminhyoCode = try Checked.juminhyoCode(c, .juminhyoCode)
        registrationNumber = try Checked.alphanumeric(c, .registrationNumber, max: 20)
        registeredOn = try Checked.date(c, .registeredOn)
        impression = try c.decode(SealImpression.self, forKey: .impression)
    }
}

public struct CardBinding: Decodable, Sendable, Equatable, Hashable {
    public let juminhyoCode: String
    public let certSha256: String
    enum Keys: String, CodingKey { case juminhyoCode, certSha256 }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        juminhyoCode = try Checked.juminhyoCode(c, .juminhyoCode)
        let hash = try c.decode(String.self, forKey: .certSha256)
        guard hash.utf8.count == 64, hash.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw JSONDecodeError.invalidValue("expected 64 lowercase hex digits", forKey: .certSha256, in: c)
        }
        certSha256 = hash
    }
}

public struct Restriction: Decodable, Sendable, Equatable, Hashable {
    public enum Kind: String, Sendable { case supportMeasure = "support-measure", issuanceControl = "issuance-control" }
    public let juminhyoCode: String
    public let kind: Kind
    enum Keys: String, CodingKey { case juminhyoCode, kind }
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        juminhyoCode = try Checked.juminhyoCode(c, .juminhyoCode)
        guard let kind = Kind(rawValue: try c.decode(String.self, forKey: .kind)) else {
            throw JSONDecodeError.invalidValue("must be \"support-measure\" or \"issuance-control\"", forKey: .kind, in: c)
        }
        self.kind = kind
    }
}
