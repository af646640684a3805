/// A decode failure naming the field by its dotted path: `resident.birthDate`, and array
/// elements by index, `events.3.seq`. The path is empty for the top-level value.
public struct JSONDecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable, CaseIterable {
        /// A member nobody asked for, or an array element never read.
        case unknownField = "UNKNOWN_FIELD"
        /// A required member (or array element) is absent.
        case missingField = "MISSING_FIELD"
        /// The JSON type is not the one required (a number for a string, `null` for a required value...).
        case wrongType = "WRONG_TYPE"
        /// The type is right, the value is not: a fraction or out-of-range number for an integer,
        /// an unknown enum case, anything a type's own `init(from:)` refuses.
        case invalidValue = "INVALID_VALUE"
        /// The bytes are not strict JSON; `message` holds the `JSONParseError` description.
        case parse = "PARSE"
    }

    public let code: Code
    public let path: String
    public let message: String

    public init(code: Code, path: String, message: String) {
        self.code = code
        self.path = path
        self.message = message
    }

    public var description: String { "\(code.rawValue) at \(path.isEmpty ? "(top level)" : path): \(message)" }

    /// For a type's own `init(from:)`: the value at `codingPath` has the right JSON type but is
    /// not acceptable. (`DecodingError.dataCorrupted` and `dataCorruptedError(forKey:in:...)` map
    /// to the same thing, and keep the type usable with other decoders.)
    public static func invalidValue(_ message: String, codingPath: [any CodingKey]) -> JSONDecodeError {
        JSONDecodeError(code: .invalidValue, path: dottedPath(codingPath), message: message)
    }

    /// The member `key` of `container` is not acceptable.
    public static func invalidValue<C: KeyedDecodingContainerProtocol>(_ message: String, forKey key: C.Key, in container: C) -> JSONDecodeError {
        invalidValue(message, codingPath: container.codingPath + [key])
    }

    /// The value `decoder` stands for is not acceptable.
    public static func invalidValue(_ message: String, in decoder: any Decoder) -> JSONDecodeError {
        invalidValue(message, codingPath: decoder.codingPath)
    }

    static func dottedPath(_ codingPath: [any CodingKey]) -> String {
        codingPath.map { ($0 as? IndexKey).map { String($0.index) } ?? $0.stringValue }.joined(separator: ".")
    }

    init(_ error: DecodingError) {
        switch error {
        case .keyNotFound(let key, let context):
            self.init(code: .missingField, path: Self.dottedPath(context.codingPath + [key]), message: context.debugDescription)
        case .typeMismatch(_, let context), .valueNotFound(_, let context):
            self.init(code: .wrongType, path: Self.dottedPath(context.codingPath), message: context.debugDescription)
        case .dataCorrupted(let context):
            self.init(code: .invalidValue, path: Self.dottedPath(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(code: .invalidValue, path: "", message: "\(error)")
        }
    }
}

/// An array element's place in a coding path; rendered as the bare index.
struct IndexKey: CodingKey {
    let index: Int
    init(_ index: Int) { self.index = index }
    init?(intValue: Int) { self.init(intValue) }
    init?(stringValue: String) { nil }
    var intValue: Int? { index }
    var stringValue: String { String(index) }
}

/// A member name as a coding key, for paths the decoder builds itself.
struct NameKey: CodingKey {
    let stringValue: String
    init(_ name: String) { stringValue = name }
    init?(stringValue: String) { self.init(stringValue) }
    init?(intValue: Int) { nil }
    var intValue: Int? { nil }
}
