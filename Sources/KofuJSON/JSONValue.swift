/// A parsed JSON document, kept as written: numbers as their source text, object members in
/// source order, strings exactly as decoded (never Unicode-normalised).
///
/// `==` is structural and exact: strings and member names compare by UTF-8 bytes (Swift's
/// `String ==` would call "\u{FA10}" and "\u{585A}" equal, because it compares canonical
/// equivalence), numbers compare by their text (`1.0` is not `1`), objects compare members in
/// order.
public enum JSONValue: Sendable, Equatable {
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
        case (.string(let x), .string(let y)): ExactKey(x) == ExactKey(y)
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x == y
        default: false
        }
    }
}

/// A JSON number as written, so that nothing is rounded before the reader decides what it needs.
/// Every instance satisfies RFC 8259's number grammar and is within Double's finite range.
public struct JSONNumber: Sendable, Equatable, CustomStringConvertible {
    public let text: String

    /// Only for text the parser has already checked.
    init(validated text: String) { self.text = text }

    /// Accepts exactly what the parser would accept as a number; nil otherwise.
    public init?(text: String) {
        guard case .number(let n)? = try? JSONParser.parse(Array(text.utf8)), n.text.utf8.elementsEqual(text.utf8)
        else { return nil }
        self = n
    }

    public init<T: FixedWidthInteger>(_ value: T) { text = String(value) }

    /// Swift's shortest round-trip spelling (`0.1`, `1e+100`, `-0.0`) is valid JSON; nil for NaN
    /// and the infinities, which JSON cannot express.
    public init?(_ value: Double) {
        guard value.isFinite else { return nil }
        text = value.description
    }

    /// The value when the text is a plain integer (`-?[0-9]+`, no fraction, no exponent) that fits
    /// Int64; `1.0` and `1e2` give nil on purpose, so that an integer field never silently accepts
    /// a value the sender may have meant as a fraction.
    public var int64: Int64? { isPlainInteger ? Int64(text) : nil }

    /// The nearest Double; always finite because out-of-range numbers are refused on parsing.
    public var double: Double { Double(text) ?? .nan }  // never nil: the text was validated

    public var description: String { text }

    var isPlainInteger: Bool { !text.utf8.contains { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") } }
}

/// An object's members in source order, with lookup by name. Names are unique by UTF-8 bytes.
public struct JSONObject: Sendable, Equatable {
    public let members: [(key: String, value: JSONValue)]
    /// Built only for objects large enough that hashing beats a linear scan.
    private let index: [ExactKey: Int]?

    /// nil when two members have the same name (by UTF-8 bytes), as the parser would refuse it.
    public init?(_ members: [(key: String, value: JSONValue)]) {
        var builder = ObjectBuilder()
        for member in members {
            guard builder.addKey(member.key) else { return nil }
            builder.setLastValue(member.value)
        }
        self = builder.build()
    }

    fileprivate init(members: [(key: String, value: JSONValue)], index: [ExactKey: Int]?) {
        self.members = members
        self.index = index
    }

    static let empty = JSONObject(members: [], index: nil)

    public var count: Int { members.count }
    public var isEmpty: Bool { members.isEmpty }
    public var keys: [String] { members.map(\.key) }

    /// The member whose name has exactly these UTF-8 bytes.
    public subscript(key: String) -> JSONValue? {
        position(of: ExactKey(key)).map { members[$0].value }
    }

    func position(of key: ExactKey) -> Int? {
        if let index { return index[key] }
        return members.firstIndex { ExactKey($0.key) == key }
    }

    public static func == (a: JSONObject, b: JSONObject) -> Bool {
        a.members.count == b.members.count
            && zip(a.members, b.members).allSatisfy { ExactKey($0.key) == ExactKey($1.key) && $0.value == $1.value }
    }
}

/// Collects an object's members while refusing a repeated name; shared by the parser and
/// `JSONObject.init?` so both apply the same rule.
struct ObjectBuilder {
    /// Below this many members a linear scan is cheaper than hashing every name.
    private static let indexThreshold = 8
    private var members: [(key: String, value: JSONValue)] = []
    private var index: [ExactKey: Int]? = nil

    /// Adds a member with a placeholder value; false if the name is already there.
    mutating func addKey(_ key: String) -> Bool {
        let exact = ExactKey(key)
        if index == nil {
            if members.contains(where: { ExactKey($0.key) == exact }) { return false }
            if members.count == Self.indexThreshold {
                var built: [ExactKey: Int] = [:]
                for (i, m) in members.enumerated() { built[ExactKey(m.key)] = i }
                index = built
            }
        }
        if index != nil {
            guard index![exact] == nil else { return false }
            index![exact] = members.count
        }
        members.append((key, .null))
        return true
    }

    mutating func setLastValue(_ value: JSONValue) { members[members.count - 1].value = value }

    /// The name of the member whose value is being read (for an error's path).
    var lastKey: String? { members.last?.key }

    consuming func build() -> JSONObject { JSONObject(members: members, index: index) }
}

/// A string compared and hashed by its UTF-8 bytes, never by canonical equivalence.
struct ExactKey: Hashable, Sendable {
    let string: String
    init(_ string: String) { self.string = string }

    static func == (a: ExactKey, b: ExactKey) -> Bool {
        let x = a.string.utf8, y = b.string.utf8
        guard x.count == y.count else { return false }
        // Comparing raw buffers is several times faster than walking the views.
        let raw = x.withContiguousStorageIfAvailable { p in y.withContiguousStorageIfAvailable { q in p.elementsEqual(q) } }
        return (raw ?? nil) ?? x.elementsEqual(y)
    }

    func hash(into hasher: inout Hasher) {
        let done: Void? = string.utf8.withContiguousStorageIfAvailable { hasher.combine(bytes: UnsafeRawBufferPointer($0)) }
        if done == nil { for byte in string.utf8 { hasher.combine(byte) } }
    }
}

/// Bounds on what the parser accepts. Total size is the caller's business (it has the bytes).
public struct JSONLimits: Sendable, Equatable {
    /// How many arrays/objects may be open at once: `[]` has depth 1, `[[]]` depth 2, a scalar 0.
    /// The parser itself never recurses, but comparing, serialising, decoding and freeing a value
    /// all recurse once per level, so this is what keeps every later step's stack bounded too.
    public var maxDepth: Int

    public init(maxDepth: Int = 64) { self.maxDepth = maxDepth }

    public static let `default` = JSONLimits()
}
