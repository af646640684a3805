/// Decodes `Decodable` types from strict JSON, refusing what Foundation's decoder lets pass:
///
/// - members nobody asked for, at every level (`UNKNOWN_FIELD`, path `terminal.foo`). A member
///   counts as asked for once `decode`, `decodeIfPresent`, `decodeNil`, `contains` or a nested
///   container/superDecoder named it. An array element a type never reads is refused the same way.
/// - any coercion: a number is never a String, a string never a number, a Bool never a number.
/// - fractions, exponents and out-of-range numbers for integer types (`INVALID_VALUE`); only the
///   plain `-?[0-9]+` spelling decodes to an integer.
/// - `null` for a required value (`WRONG_TYPE`). `decodeIfPresent` on an explicit `null` gives
///   nil, exactly as on an absent member.
/// - a `[String: T]` whose member names Swift would merge: the names are kept byte-exact, but a
///   Swift dictionary compares keys by canonical equivalence, so "\u{FA10}" and "\u{585A}" in one
///   object cannot both be kept and are refused (`INVALID_VALUE`) rather than one silently lost.
///
/// `superDecoder()` reads the member `super`, which, like any other, must be present.
public struct StrictJSONDecoder: Sendable {
    public var limits: JSONLimits
    public var userInfo: [CodingUserInfoKey: any Sendable]

    public init(limits: JSONLimits = .default, userInfo: [CodingUserInfoKey: any Sendable] = [:]) {
        self.limits = limits
        self.userInfo = userInfo
    }

    public func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws(JSONDecodeError) -> T {
        let value: JSONValue
        do {
            value = try JSONParser.parse(bytes, limits: limits)
        } catch {
            throw JSONDecodeError(code: .parse, path: "", message: error.description)
        }
        return try decode(type, from: value)
    }

    public func decode<T: Decodable>(_ type: T.Type, from value: JSONValue) throws(JSONDecodeError) -> T {
        let root = ReadRecord(for: value)
        let result: T
        do {
            result = try ValueDecoder(value: value, codingPath: [], record: root, userInfo: userInfo).decodeValue(T.self)
        } catch let error as JSONDecodeError {
            throw error
        } catch let error as DecodingError {
            throw JSONDecodeError(error)
        } catch {
            throw JSONDecodeError(code: .invalidValue, path: "", message: "\(error)")
        }
        // Only now is it known which members the types asked for.
        if let root, let unread = root.firstUnread(in: value, path: []) { throw unread }
        return result
    }
}

// MARK: - Tracking what was read

/// What was asked for in one object or array. Records form a tree mirroring the JSON and are
/// reached through their parent by member position, so every decoder of one node shares one
/// record: a type opening its object twice with two key types, a wrapper decoding through
/// `singleValueContainer`, a retry of the same member as another type.
final class ReadRecord {
    /// By member or element position.
    private var read: [Bool]
    /// Records of the members/elements that are containers themselves; allocated on first use.
    private var children: [ReadRecord?] = []

    /// nil for scalars, which have nothing to leave unread.
    init?(for value: JSONValue) {
        switch value {
        case .object(let object): read = Array(repeating: false, count: object.count)
        case .array(let items): read = Array(repeating: false, count: items.count)
        default: return nil
        }
    }

    func markRead(_ position: Int) { read[position] = true }

    func child(at position: Int, for value: JSONValue) -> ReadRecord? {
        switch value {
        case .object, .array: break
        default: return nil
        }
        if children.isEmpty { children = Array(repeating: nil, count: read.count) }
        if let known = children[position] { return known }
        children[position] = ReadRecord(for: value)
        return children[position]
    }

    /// The first member or element never asked for, in document order. A node whose type never
    /// opened it (an empty struct's synthesized init) has every member unread, so it is caught too.
    func firstUnread(in value: JSONValue, path: [String]) -> JSONDecodeError? {
        func check(_ position: Int, _ name: String, _ child: JSONValue, what: @autoclosure () -> String) -> JSONDecodeError? {
            guard read[position] else {
                return JSONDecodeError(code: .unknownField, path: (path + [name]).joined(separator: "."), message: what())
            }
            guard position < children.count, let record = children[position] else { return nil }
            return record.firstUnread(in: child, path: path + [name])
        }
        switch value {
        case .object(let object):
            for (position, member) in object.members.enumerated() {
                if let error = check(position, member.key, member.value, what: "unknown member \"\(member.key)\"") { return error }
            }
        case .array(let items):
            for (position, item) in items.enumerated() {
                if let error = check(position, String(position), item, what: "array element \(position) of \(items.count) was never read") { return error }
            }
        default: break
        }
        return nil
    }
}

// MARK: - Decoder

/// The path to a value, as a list from the value back to the root: a child decoder costs one small
/// node rather than a copy of its parent's whole path (`codingPath` is only built for errors).
final class PathNode {
    let parent: PathNode?
    let key: any CodingKey
    init(parent: PathNode?, key: any CodingKey) {
        self.parent = parent
        self.key = key
    }

    static func path(_ node: PathNode?) -> [any CodingKey] {
        var keys: [any CodingKey] = []
        var n = node
        while let current = n {
            keys.append(current.key)
            n = current.parent
        }
        return keys.reversed()
    }
}

struct ValueDecoder: Decoder {
    let value: JSONValue
    let node: PathNode?
    /// nil exactly when `value` is a scalar.
    let record: ReadRecord?
    let userInfo: [CodingUserInfoKey: Any]

    var codingPath: [any CodingKey] { PathNode.path(node) }

    init(value: JSONValue, node: PathNode?, record: ReadRecord?, userInfo: [CodingUserInfoKey: Any]) {
        self.value = value
        self.node = node
        self.record = record
        self.userInfo = userInfo
    }

    init(value: JSONValue, codingPath: [any CodingKey], record: ReadRecord?, userInfo: [CodingUserInfoKey: Any]) {
        var node: PathNode?
        for key in codingPath { node = PathNode(parent: node, key: key) }
        self.init(value: value, node: node, record: record, userInfo: userInfo)
    }

    func child(_ position: Int, _ value: JSONValue, _ key: any CodingKey) -> ValueDecoder {
        ValueDecoder(value: value, node: PathNode(parent: node, key: key), record: record?.child(at: position, for: value), userInfo: userInfo)
    }

    /// Every decode of a value goes through here.
    func decodeValue<T: Decodable>(_ type: T.Type) throws -> T {
        if case .object = value, let dictionary = T.self as? any ExactStringKeyedDictionary.Type {
            return try dictionary.decodeExactly(from: self) as! T
        }
        do {
            return try T(from: self)
        } catch let error as DecodingError {
            throw error
        } catch let error as JSONDecodeError {
            throw error
        } catch {
            // A type's own error carries no path; this is the innermost place that knows it.
            throw JSONDecodeError(code: .invalidValue, path: JSONDecodeError.dottedPath(codingPath), message: "\(error)")
        }
    }

    func mismatch(_ expected: String) -> DecodingError {
        let context = DecodingError.Context(codingPath: codingPath, debugDescription: "expected \(expected), found \(value.kindName)")
        if case .null = value { return .valueNotFound(Any.self, context) }
        return .typeMismatch(Any.self, context)
    }

    func invalid(_ message: String) -> DecodingError {
        .dataCorrupted(.init(codingPath: codingPath, debugDescription: message))
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .object(let object) = value, let record else { throw mismatch("an object") }
        return KeyedDecodingContainer(KeyedContainer<Key>(object: object, record: record, decoder: self))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = value, let record else { throw mismatch("an array") }
        return UnkeyedContainer(items: items, record: record, decoder: self)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer { SingleValueContainer(decoder: self) }
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

// MARK: - Containers

struct SingleValueContainer: SingleValueDecodingContainer {
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        if case .null = decoder.value { return true }
        return false
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        guard case .bool(let b) = decoder.value else { throw decoder.mismatch("a boolean") }
        return b
    }

    func decode(_ type: String.Type) throws -> String {
        guard case .string(let s) = decoder.value else { throw decoder.mismatch("a string") }
        return s
    }

    func decode(_ type: Double.Type) throws -> Double {
        guard case .number(let n) = decoder.value else { throw decoder.mismatch("a number") }
        return n.double
    }

    func decode(_ type: Float.Type) throws -> Float {
        guard case .number(let n) = decoder.value else { throw decoder.mismatch("a number") }
        // From the text, not via Double, to round once.
        guard let f = Float(n.text), f.isFinite else { throw decoder.invalid("\(n.text) is out of range for Float") }
        return f
    }

    func integer<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        guard case .number(let n) = decoder.value else { throw decoder.mismatch("an integer") }
        guard n.isPlainInteger else { throw decoder.invalid("\(n.text) is not an integer") }
        guard let v = T(n.text, radix: 10) else { throw decoder.invalid("\(n.text) is out of range for \(T.self)") }
        return v
    }

    func decode(_ type: Int.Type) throws -> Int { try integer(type) }
    func decode(_ type: Int8.Type) throws -> Int8 { try integer(type) }
    func decode(_ type: Int16.Type) throws -> Int16 { try integer(type) }
    func decode(_ type: Int32.Type) throws -> Int32 { try integer(type) }
    func decode(_ type: Int64.Type) throws -> Int64 { try integer(type) }
    func decode(_ type: UInt.Type) throws -> UInt { try integer(type) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try integer(type) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try integer(type) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try integer(type) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try integer(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 { try integer(type) }
    @available(macOS 15.0, iOS 18.0, watchOS 11.0, tvOS 18.0, visionOS 2.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 { try integer(type) }

    func decode<T: Decodable>(_ type: T.Type) throws -> T { try decoder.decodeValue(type) }
}

struct KeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let object: JSONObject
    let record: ReadRecord
    let decoder: ValueDecoder
    var codingPath: [any CodingKey] { decoder.codingPath }
    var allKeys: [Key] { object.members.compactMap { Key(stringValue: $0.key) } }

    /// The member's position, now marked as asked for; nil when absent.
    private func ask(_ key: any CodingKey) -> Int? {
        guard let position = object.position(of: ExactKey(key.stringValue)) else { return nil }
        record.markRead(position)
        return position
    }

    private func member(_ key: any CodingKey) throws -> ValueDecoder {
        guard let position = ask(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "required member \"\(key.stringValue)\" is missing"))
        }
        return decoder.child(position, object.members[position].value, key)
    }

    func contains(_ key: Key) -> Bool { ask(key) != nil }

    func decodeNil(forKey key: Key) throws -> Bool {
        // Looks without descending: asking whether a member is null is not reading its contents.
        guard let position = ask(key) else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "required member \"\(key.stringValue)\" is missing"))
        }
        return object.members[position].value == .null
    }

    // One generic method stands in for every primitive requirement; the value's own decoder
    // does the type checking, so keyed, unkeyed and single values share one set of rules.
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try member(key).decodeValue(type)
    }

    // Fast paths for the members records are made of: a string or an integer is checked here
    // without building a child decoder, unless it is wrong (then the general path says why,
    // with the same error as ever).
    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        if let position = ask(key), case .string(let s) = object.members[position].value { return s }
        return try member(key).decodeValue(type)
    }

    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        if let position = ask(key), case .number(let n) = object.members[position].value, n.isPlainInteger,
           let v = Int64(n.text, radix: 10) { return v }
        return try member(key).decodeValue(type)
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        if let position = ask(key), case .number(let n) = object.members[position].value, n.isPlainInteger,
           let v = Int(n.text, radix: 10) { return v }
        return try member(key).decodeValue(type)
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        guard let position = ask(key) else { return nil }
        switch object.members[position].value {
        case .null: return nil
        case .string(let s): return s
        case let value: return try decoder.child(position, value, key).decodeValue(type)
        }
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let position = ask(key) else { return nil }
        let value = object.members[position].value
        if case .null = value { return nil }
        return try decoder.child(position, value, key).decodeValue(type)
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws -> KeyedDecodingContainer<NestedKey> {
        try member(key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try member(key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder { try member(NameKey("super")) }
    func superDecoder(forKey key: Key) throws -> any Decoder { try member(key) }
}

struct UnkeyedContainer: UnkeyedDecodingContainer {
    let items: [JSONValue]
    let record: ReadRecord
    let decoder: ValueDecoder
    private(set) var currentIndex = 0
    var codingPath: [any CodingKey] { decoder.codingPath }
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [JSONValue], record: ReadRecord, decoder: ValueDecoder) {
        self.items = items
        self.record = record
        self.decoder = decoder
    }

    /// Advances only when `body` succeeds, so a type may retry an element as something else.
    private mutating func next<R>(_ body: (ValueDecoder) throws -> R) throws -> R {
        guard !isAtEnd else {
            throw DecodingError.keyNotFound(IndexKey(currentIndex), .init(codingPath: codingPath, debugDescription: "the array has only \(items.count) elements"))
        }
        let result = try body(decoder.child(currentIndex, items[currentIndex], IndexKey(currentIndex)))
        record.markRead(currentIndex)
        currentIndex += 1
        return result
    }

    /// Consumes the element only when it is null, as the protocol requires.
    mutating func decodeNil() throws -> Bool {
        if !isAtEnd, items[currentIndex] != .null { return false }
        return try next { _ in true }  // throws when at the end
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try next { try $0.decodeValue(type) } }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try next { try $0.container(keyedBy: type) }
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer { try next { try $0.unkeyedContainer() } }

    mutating func superDecoder() throws -> any Decoder { try next { $0 } }
}

// MARK: - Dictionaries

/// `[String: T]` is decoded here rather than by the standard library, which would let a later
/// member silently replace an earlier one whose name is canonically equivalent.
protocol ExactStringKeyedDictionary {
    static func decodeExactly(from decoder: ValueDecoder) throws -> Self
}

extension Dictionary: ExactStringKeyedDictionary where Key == String, Value: Decodable {
    static func decodeExactly(from decoder: ValueDecoder) throws -> [String: Value] {
        let container = try decoder.container(keyedBy: NameKey.self)
        var result: [String: Value] = [:]
        for key in container.allKeys {
            let value = try container.decode(Value.self, forKey: key)
            if let clash = result.index(forKey: key.stringValue) {
                throw DecodingError.dataCorrupted(.init(
                    codingPath: container.codingPath + [key],
                    debugDescription: "member names \"\(result[clash].key)\" and \"\(key.stringValue)\" differ but are canonically equivalent; a [String: \(Value.self)] cannot keep both"))
            }
            result[key.stringValue] = value
        }
        return result
    }
}
