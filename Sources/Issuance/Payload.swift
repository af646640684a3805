import Foundation
import KofuJSON

/// The kiosk, for the audit log.
public struct Terminal: Sendable, Equatable {
    public let terminalId: String
    public let storeCode: String
}

/// The fields every Center API payload carries (center-api.md "Common payload fields").
public struct CommonFields: Sendable {
    public let requestId: String
    public let issuedAt: Date
    public let municipality: String
    public let terminal: Terminal
}

public enum CertificateKind: String, Sendable, CaseIterable {
    case juminhyo, inkan
}

public enum Scope: String, Sendable {
    case `self`, household, members
}

/// `options` as sent. `forbidden` is set when 個人番号 or 住民票コード was asked for (422, decided
/// after the checks that come first in the error order); `present` lists the juminhyo options
/// that appeared at all, for the inkan rule.
public struct RequestedOptions: Sendable, Equatable {
    public var domicile = false
    public var relationship = false
    public var foreignResidentItems = false
    public var present: [String] = []
    public var forbidden: [String] = []
}

public struct EligibilityPayload: Sendable {
    public let common: CommonFields
}

public struct IssuancePayload: Sendable {
    public let common: CommonFields
    public let kind: CertificateKind
    public let scope: Scope
    /// The memberIds, exactly as sent (compared as UTF-8 bytes).
    public let members: [String]?
    public let options: RequestedOptions
    public let copies: Int
}

extension EligibilityPayload {
    /// The service's strict decoding of an eligibility payload (already parsed by the JWS layer):
    /// the payload, or nil and the faulty field. For the fuzz harnesses.
    public static func decode(_ object: JSONObject) -> (payload: EligibilityPayload?, field: String?) {
        do throws(PayloadDecoder.Fault) { return (try PayloadDecoder.eligibility(object), nil) } catch { return (nil, error.field) }
    }
}

extension IssuancePayload {
    /// The service's strict decoding of an issuance payload, as `EligibilityPayload.decode`.
    public static func decode(_ object: JSONObject) -> (payload: IssuancePayload?, field: String?) {
        do throws(PayloadDecoder.Fault) { return (try PayloadDecoder.issuance(object), nil) } catch { return (nil, error.field) }
    }
}

/// Decodes payloads strictly: unknown members at every level, wrong types, values outside their
/// range or set are MALFORMED_REQUEST naming the field. The JSON itself was already parsed
/// strictly (I-JSON) by the JWS layer; this parses it again from the exact payload bytes.
enum PayloadDecoder {
    struct Fault: Error {
        let field: String
        let message: String
    }

    static let commonKeys = ["requestId", "issuedAt", "municipality", "terminal"]

    static func object(_ bytes: [UInt8]) throws(Fault) -> JSONObject {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes)
        } catch {
            throw Fault(field: "", message: "payload is not I-JSON: \(error)")
        }
        guard case .object(let object) = value else { throw Fault(field: "", message: "payload is not a JSON object") }
        return object
    }

    /// The requestId, if the payload is an object holding a well-formed one (for X-Request-Id).
    static func requestId(in object: JSONObject) -> String? {
        guard case .string(let s)? = object["requestId"], isUUID(s) else { return nil }
        return s
    }

    static func eligibility(_ object: JSONObject) throws(Fault) -> EligibilityPayload {
        try onlyKnown(object, commonKeys, at: "")
        return EligibilityPayload(common: try common(object))
    }

    static func issuance(_ object: JSONObject) throws(Fault) -> IssuancePayload {
        try onlyKnown(object, commonKeys + ["kind", "scope", "members", "options", "copies"], at: "")
        let common = try common(object)
        guard let kind = CertificateKind(rawValue: try string(object, "kind")) else {
            throw Fault(field: "kind", message: "not juminhyo or inkan")
        }
        guard let scope = Scope(rawValue: try string(object, "scope")) else {
            throw Fault(field: "scope", message: "not self, household or members")
        }
        var members: [String]?
        switch object["members"] {
        case nil:
            if scope == .members { throw Fault(field: "members", message: "required with scope members") }
        case .array(let items)?:
            guard scope == .members else { throw Fault(field: "members", message: "allowed only with scope members") }
            guard !items.isEmpty else { throw Fault(field: "members", message: "empty") }
            var seen = Set<[UInt8]>()
            var ids: [String] = []
            for (i, item) in items.enumerated() {
                guard case .string(let id) = item else { throw Fault(field: "members.\(i)", message: "not a string") }
                guard seen.insert(Array(id.utf8)).inserted else { throw Fault(field: "members.\(i)", message: "duplicate memberId") }
                ids.append(id)
            }
            members = ids
        default:
            throw Fault(field: "members", message: "not an array")
        }
        var options = RequestedOptions()
        switch object["options"] {
        case nil: break
        case .object(let o)?:
            for (key, value) in o.members {
                switch key {
                case "individualNumber", "residentCode":
                    options.forbidden.append(key)  // whatever the value: refused with 422 later
                case "domicile", "relationship", "foreignResidentItems":
                    guard case .bool(let flag) = value else { throw Fault(field: "options.\(key)", message: "not a boolean") }
                    options.present.append(key)
                    if key == "domicile" { options.domicile = flag }
                    if key == "relationship" { options.relationship = flag }
                    if key == "foreignResidentItems" { options.foreignResidentItems = flag }
                default:
                    throw Fault(field: "options.\(key)", message: "unknown field")
                }
            }
        default:
            throw Fault(field: "options", message: "not an object")
        }
        guard case .number(let n)? = object["copies"] else {
            throw Fault(field: "copies", message: object["copies"] == nil ? "missing" : "not an integer")
        }
        guard let copies = n.int64, (1...10).contains(copies) else { throw Fault(field: "copies", message: "not an integer 1–10") }
        return IssuancePayload(common: common, kind: kind, scope: scope, members: members, options: options, copies: Int(copies))
    }

    static func common(_ object: JSONObject) throws(Fault) -> CommonFields {
        let requestId = try string(object, "requestId")
        guard isUUID(requestId) else { throw Fault(field: "requestId", message: "not a UUID") }
        let issuedAtText = try string(object, "issuedAt")
        guard let issuedAt = RFC3339.parse(issuedAtText) else {
            throw Fault(field: "issuedAt", message: "not an RFC 3339 timestamp with offset")
        }
        let municipality = try string(object, "municipality")
        // Six ASCII digits is the format; any other code, a bad check digit included, is a
        // municipality not served here (400 WRONG_MUNICIPALITY, decided after the signature).
        guard municipality.utf8.count == 6, municipality.utf8.allSatisfy({ (0x30...0x39).contains($0) }) else {
            throw Fault(field: "municipality", message: "not 6 digits")
        }
        guard case .object(let t)? = object["terminal"] else {
            throw Fault(field: "terminal", message: object["terminal"] == nil ? "missing" : "not an object")
        }
        try onlyKnown(t, ["terminalId", "storeCode"], at: "terminal.")
        let terminalId = try string(t, "terminalId", at: "terminal.")
        let storeCode = try string(t, "storeCode", at: "terminal.")
        for (name, value) in [("terminalId", terminalId), ("storeCode", storeCode)] {
            let count = value.unicodeScalars.count
            guard (1...32).contains(count) else { throw Fault(field: "terminal.\(name)", message: "length not 1–32") }
            guard !value.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
                throw Fault(field: "terminal.\(name)", message: "control character")
            }
        }
        return CommonFields(requestId: requestId, issuedAt: issuedAt, municipality: municipality,
                            terminal: Terminal(terminalId: terminalId, storeCode: storeCode))
    }

    static func onlyKnown(_ object: JSONObject, _ keys: [String], at prefix: String) throws(Fault) {
        for key in object.keys where !keys.contains(where: { Array($0.utf8) == Array(key.utf8) }) {
            throw Fault(field: prefix + key, message: "unknown field")
        }
    }

    static func string(_ object: JSONObject, _ key: String, at prefix: String = "") throws(Fault) -> String {
        switch object[key] {
        case .string(let s)?: return s
        case nil: throw Fault(field: prefix + key, message: "missing")
        default: throw Fault(field: prefix + key, message: "not a string")
        }
    }

    /// 8-4-4-4-12 hexadecimal digits (either case), as RFC 9562 writes a UUID.
    static func isUUID(_ s: String) -> Bool {
        let bytes = Array(s.utf8)
        guard bytes.count == 36 else { return false }
        for (i, b) in bytes.enumerated() {
            if [8, 13, 18, 23].contains(i) {
                guard b == UInt8(ascii: "-") else { return false }
            } else {
                guard (0x30...0x39).contains(b) || (0x41...0x46).contains(b) || (0x61...0x66).contains(b) else { return false }
            }
        }
        return true
    }
}

/// RFC 3339 `date-time` (with a required offset), parsed without Foundation's lenient formatters.
public enum RFC3339 {
    public static func parse(_ text: String) -> Date? {
        let b = Array(text.utf8)
        func digits(_ from: Int, _ count: Int) -> Int? {
            guard from + count <= b.count else { return nil }
            var v = 0
            for i in from..<(from + count) {
                guard (0x30...0x39).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 0x30)
            }
            return v
        }
        guard b.count >= 20, let year = digits(0, 4), b[4] == UInt8(ascii: "-"), let month = digits(5, 2),
              b[7] == UInt8(ascii: "-"), let day = digits(8, 2), b[10] == UInt8(ascii: "T") || b[10] == UInt8(ascii: "t"),
              let hour = digits(11, 2), b[13] == UInt8(ascii: ":"), let minute = digits(14, 2), b[16] == UInt8(ascii: ":"),
              let second = digits(17, 2) else { return nil }
        guard (1...12).contains(month), day >= 1, day <= daysIn(year: year, month: month), hour <= 23, minute <= 59,
              second <= 60 else { return nil }
        var i = 19
        var fraction = 0.0
        if i < b.count, b[i] == UInt8(ascii: ".") {
            i += 1
            var scale = 0.1
            let start = i
            while i < b.count, (0x30...0x39).contains(b[i]) {
                fraction += Double(b[i] - 0x30) * scale
                scale /= 10
                i += 1
            }
            guard i > start else { return nil }
        }
        guard i < b.count else { return nil }
        var offset = 0
        if b[i] == UInt8(ascii: "Z") || b[i] == UInt8(ascii: "z") {
            i += 1
        } else if b[i] == UInt8(ascii: "+") || b[i] == UInt8(ascii: "-") {
            guard let oh = digits(i + 1, 2), i + 3 < b.count, b[i + 3] == UInt8(ascii: ":"), let om = digits(i + 4, 2),
                  oh <= 23, om <= 59 else { return nil }
            offset = (oh * 60 + om) * 60 * (b[i] == UInt8(ascii: "-") ? -1 : 1)
            i += 6
        } else {
            return nil
        }
        guard i == b.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Double(days) * 86400 + Double(hour * 3600 + minute * 60 + min(second, 59)) + fraction - Double(offset)
        return Date(timeIntervalSince1970: seconds)
    }

    /// `2026-11-22T03:00:00Z`-style text in UTC (seconds precision) for answers and records.
    public static func format(_ date: Date) -> String {
        let seconds = Int64(date.timeIntervalSince1970.rounded(.down))
        let days = Int(seconds.quotientAndRemainder(dividingBy: 86400).quotient) - (seconds < 0 && seconds % 86400 != 0 ? 1 : 0)
        let rest = Int(seconds - Int64(days) * 86400)
        let (y, m, d) = civilFromDays(days)
        return String(format: "%04d-%02d-%02dT%02d:%02d:%02dZ", y, m, d, rest / 3600, rest % 3600 / 60, rest % 60)
    }

    static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
        case 4, 6, 9, 11: 30
        default: 31
        }
    }

    /// Days since 1970-01-01 (Howard Hinnant's algorithm).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yoe = y - era * 400
        let doy = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy
        return era * 146097 + doe - 719468
    }

    static func civilFromDays(_ z0: Int) -> (Int, Int, Int) {
        let z = z0 + 719468
        let era = (z >= 0 ? z : z - 146096) / 146097
        let doe = z - era * 146097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365
        let y = yoe + era * 400
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp + (mp < 10 ? 3 : -9)
        return (m <= 2 ? y + 1 : y, m, d)
    }
}
