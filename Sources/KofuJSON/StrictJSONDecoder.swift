/// A decode failure naming the field by its dotted path (`resident.birthDate`, `events.3.seq`).
public struct JSONDecodeError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case unknownField = "UNKNOWN_FIELD", missingField = "MISSING_FIELD", wrongType = "WRONG_TYPE"
        case invalidValue = "INVALID_VALUE", parse = "PARSE"
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
}

/// Decodes `Decodable` types from strict JSON and refuses what Foundation's decoder lets pass:
/// members nobody asked for (at every level), numbers for strings and the reverse, fractions or
/// out-of-range numbers for integers, and `null` for a required value. `decodeIfPresent` on an
/// explicit `null` gives nil.
public struct StrictJSONDecoder {
    public init() {}

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8], limits: JSONLimits = .default) throws(JSONDecodeError) -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, limits: limits)
        } catch {
            throw JSONDecodeError(code: .parse, path: "", message: error.description)
        }
        return try decode(type, from: value)
    }

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONDecodeError) -> T {
        let tracker = Tracker()
        let result: T
        do {
            result = try T(from: ValueDecoder(value: value, path: [], tracker: tracker))
        } catch let error as JSONDecodeError {
            throw error
        } catch let error as DecodingError {
            throw JSONDecodeError(error)
        } catch {
            throw JSONDecodeError(code: .invalidValue, path: "", message: "\(error)")
        }
        if let unknown = tracker.firstUnknown() {
            throw JSONDecodeError(code: .unknownField, path: unknown, message: "unknown member")
        }
        return result
    }
}

extension JSONDecodeError {
    init(_ error: DecodingError) {
        func path(_ keys: [any CodingKey]) -> String { keys.map { $0.intValue.map(String.init) ?? $0.stringValue }.joined(separator: ".") }
        switch error {
        case .keyNotFound(let key, let context):
            self.init(code: .missingField, path: path(context.codingPath + [key]), message: "required member missing")
        case .typeMismatch(_, let context):
            self.init(code: .wrongType, path: path(context.codingPath), message: context.debugDescription)
        case .valueNotFound(_, let context):
            self.init(code: .wrongType, path: path(context.codingPath), message: context.debugDescription)
        case .dataCorrupted(let context):
            self.init(code: .invalidValue, path: path(context.codingPath), message: context.debugDescription)
        @unknown default:
            self.init(code: .invalidValue, path: "", message: "\(error)")
        }
    }
}

struct PathKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) { self.stringValue = String(intValue); self.intValue = intValue }
}

/// Records, per decoded object, which members were asked for, so that the rest can be refused
/// once the whole value is decoded.
final class Tracker {
    struct Entry { let path: [any CodingKey]; let object: JSONObject; var used: Set<[UInt8]> }
    var entries: [Entry] = []

    func register(_ object: JSONObject, path: [any CodingKey]) -> Int {
        entries.append(Entry(path: path, object: object, used: []))
        return entries.count - 1
    }

    func use(_ key: String, in entry: Int) { entries[entry].used.insert(Array(key.utf8)) }

    func firstUnknown() -> String? {
        for entry in entries {
            for member in entry.object.members where !entry.used.contains(Array(member.key.utf8)) {
                return (entry.path.map { $0.intValue.map(String.init) ?? $0.stringValue } + [member.key]).joined(separator: ".")
            }
        }
        return nil
    }
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let path: [any CodingKey]
    let tracker: Tracker
    var codingPath: [any CodingKey] { path }
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func mismatch(_ expected: String) -> DecodingError {
        .typeMismatch(Any.self, .init(codingPath: path, debugDescription: "expected \(expected), found \(value.kindName)"))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value else { throw mismatch("an object") }
        let entry = tracker.register(object, path: path)
        return KeyedDecodingContainer(Keyed<Key>(object: object, path: path, tracker: tracker, entry: entry))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value else { throw mismatch("an array") }
        return Unkeyed(items: items, path: path, tracker: tracker)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { Single(decoder: self) }
}

extension JSONValue {
    var kindName: String {
        switch self {
        case .null: "null"
        case .bool: "a boolean"
        case .number: "a number"
        case .string: "a string"
        case .array: "an array"
        case .object: "an object"
        }
    }
}

struct Single: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.path }

    func decodeNil() -> Bool { decoder.value == .null }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = decoder.value else { throw decoder.mismatch("a boolean") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = decoder.value else { throw decoder.mismatch("a string") }
        return s
    }

    func number() throws -> JSONNumber {
        guard case .number(let n) = decoder.value else { throw decoder.mismatch("a number") }
        return n
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        let n = try number()
        guard let v = n.int64.flatMap({ T(exactly: $0) }) ?? (T.self == UInt64.self ? UInt64(n.text).map { T($0) } : nil) else {
            throw DecodingError.dataCorrupted(.init(codingPath: codingPath, debugDescription: "\(n.text) is not an integer in range"))
        }
        return v
    }

    func decode(_ type: Double.Type) throws -> Double { try number().double }
    func decode(_ type: Float.Type) throws -> Float { Float(try number().double) }
    func decode(_ type: Int.Type) throws -> Int { try integer(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(UInt64.self) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        if decoder.value == .null, !(T.self is any OptionalProtocol.Type) {
            throw DecodingError.valueNotFound(T.self, .init(codingPath: codingPath, debugDescription: "null for a required value"))
        }
        return try T(from: decoder)
    }
}

protocol OptionalProtocol {}
extension Optional: OptionalProtocol {}

struct Keyed<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let path: [any CodingKey]
    let tracker: Tracker
    let entry: Int
    var codingPath: [any CodingKey] { path }
    var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }

    func contains(_ key: Key) -> Bool {
        tracker.use(key.stringValue, in: entry)
        return object[key.stringValue] != nil
    }

    func child(_ key: Key) throws -> ValueDecoder {
        tracker.use(key.stringValue, in: entry)
        guard let value = object[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: path, debugDescription: "required member missing"))
        }
        return ValueDecoder(value: value, path: path + [key], tracker: tracker)
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        tracker.use(key.stringValue, in: entry)
        return object[key.stringValue].map { $0 == .null } ?? true
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try Single(decoder: try child(key)).decode(T.self)
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        tracker.use(key.stringValue, in: entry)
        guard let value = object[key.stringValue], value != .null else { return nil }
        return try Single(decoder: ValueDecoder(value: value, path: path + [key], tracker: tracker)).decode(T.self)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try child(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try child(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try child(Key(stringValue: "super")!) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try child(key) }
}

struct Unkeyed: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let path: [any CodingKey]
    let tracker: Tracker
    var currentIndex = 0
    var codingPath: [any CodingKey] { path }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    mutating func next() throws -> ValueDecoder {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: path, debugDescription: "array ended"))
        }
        defer { currentIndex += 1 }
        return ValueDecoder(value: items[currentIndex], path: path + [PathKey(intValue: currentIndex)], tracker: tracker)
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, items[currentIndex] == .null else { return false }
        currentIndex += 1
        return true
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try Single(decoder: try next()).decode(T.self) }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next().container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next().unkeyedContainer() }
    mutating func superDecoder() throws -> any Decoder { try next() }
}
