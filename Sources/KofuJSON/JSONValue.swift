/// A JSON number as written: the text is kept so that no precision is lost before the reader
/// decides what it needs.
public struct JSONNumber: Sendable, Equatable {
    public let text: String
    /// The value when the text is a plain integer that fits Int64.
    public var int64: Int64? {
        guard !text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) else { return nil }
        return Int64(text)
    }
    public var double: Double { Double(text)! }
}

/// An object's members in source order. Keys compare by UTF-8 bytes, never by Swift's
/// canonical-equivalence `==` ("\u{FA10}" and "\u{585A}" are two different keys).
public struct JSONObject: Sendable, Equatable {
    public let members: [(key: String, value: JSONValue)]

    public subscript(key: String) -> JSONValue? {
        let bytes = Array(key.utf8)
        return members.first { Array($0.key.utf8) == bytes }?.value
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { Array($0.key.utf8) == Array($1.key.utf8) && $0.value == $1.value }
    }
}

public indirect enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    case number(JSONNumber)
    case string(String)
    case array([JSONValue])
    case object(JSONObject)

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.number(let x), .number(let y)): x == y
        case (.string(let x), .string(let y)): Array(x.utf8) == Array(y.utf8)
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }
}

public struct JSONLimits: Sendable {
    public var maxDepth: Int
    public init(maxDepth: Int = 64) { self.maxDepth = maxDepth }
    public static let `default` = JSONLimits()
}

public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case invalidUTF8 = "INVALID_UTF8", unexpectedCharacter = "UNEXPECTED_CHARACTER", unexpectedEnd = "UNEXPECTED_END"
        case duplicateKey = "DUPLICATE_KEY", trailingData = "TRAILING_DATA", loneSurrogate = "LONE_SURROGATE"
        case controlCharacter = "CONTROL_CHARACTER", invalidEscape = "INVALID_ESCAPE", invalidNumber = "INVALID_NUMBER"
        case numberOutOfRange = "NUMBER_OUT_OF_RANGE", tooDeep = "TOO_DEEP"
    }
    public let code: Code
    public let offset: Int
    public let line: Int
    public let column: Int
    public let key: String?

    public var description: String { "\(code.rawValue) at line \(line), column \(column)" + (key.map { " (member \"\($0)\")" } ?? "") }
}
