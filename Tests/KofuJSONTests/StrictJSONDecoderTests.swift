import Testing
import KofuJSON

// MARK: Types under test

struct Terminal: Decodable, Equatable {
    let id: String
    let location: String?
}

struct Resident: Decodable, Equatable {
    let name: String
    let birthDate: String
    let kana: String?
}

struct Request: Decodable, Equatable {
    let terminal: Terminal
    let resident: Resident
    let copies: Int
}

struct Event: Decodable, Equatable {
    let seq: Int64
    let kind: String
}

struct Batch: Decodable, Equatable {
    let events: [Event]
}

/// One field of any type, for the type-checking tables.
struct One<T: Decodable>: Decodable {
    let v: T
}

struct Nothing: Decodable {}

enum Align: String, Decodable { case left, center, right }

enum Payment: Decodable, Equatable {
    case cash(amount: Int)
    case card(number: String)
}

/// Checks its own invariant, the three ways a type may refuse a value.
struct Cell: Decodable {
    enum Keys: String, CodingKey { case w, h }
    struct Negative: Error {}
    let w: Double, h: Double

    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        w = try c.decode(Double.self, forKey: .w)
        h = try c.decode(Double.self, forKey: .h)
        if w == 0 { throw DecodingError.dataCorruptedError(forKey: .w, in: c, debugDescription: "a cell needs a width") }
        if h == 0 { throw JSONDecodeError.invalidValue("a cell needs a height", forKey: .h, in: c) }
        if w < 0 || h < 0 { throw Negative() }
    }
}

/// Reads a discriminator with one key type, then the payload with another: two containers on
/// one object, whose reads must add up.
struct Shape: Decodable, Equatable {
    enum Kind: String, CodingKey { case type }
    enum CircleKeys: String, CodingKey { case r }
    enum RectKeys: String, CodingKey { case w, h }
    let area: Double

    init(from decoder: any Decoder) throws {
        switch try decoder.container(keyedBy: Kind.self).decode(String.self, forKey: .type) {
        case "circle":
            let r = try decoder.container(keyedBy: CircleKeys.self).decode(Double.self, forKey: .r)
            area = 3 * r * r
        default:
            let c = try decoder.container(keyedBy: RectKeys.self)
            area = try c.decode(Double.self, forKey: .w) * c.decode(Double.self, forKey: .h)
        }
    }
}

/// Only asks whether a member exists.
struct Flag: Decodable {
    enum Keys: CodingKey { case on }
    let on: Bool
    init(from decoder: any Decoder) throws { on = try decoder.container(keyedBy: Keys.self).contains(.on) }
}

/// Reads only the first element of its array.
struct FirstOnly: Decodable {
    enum Keys: CodingKey { case items }
    let first: Int
    init(from decoder: any Decoder) throws {
        var items = try decoder.container(keyedBy: Keys.self).nestedUnkeyedContainer(forKey: .items)
        first = try items.decode(Int.self)
    }
}

/// Exactly two elements, read by hand.
struct Pair: Decodable {
    let a: Int, b: Int
    init(from decoder: any Decoder) throws {
        var c = try decoder.unkeyedContainer()
        a = try c.decode(Int.self)
        b = try c.decode(Int.self)
    }
}

/// Nested keyed and unkeyed containers by hand.
struct Envelope: Decodable {
    enum Keys: CodingKey { case meta, tags }
    enum MetaKeys: CodingKey { case version }
    let version: Int
    let tags: [String]
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        version = try c.nestedContainer(keyedBy: MetaKeys.self, forKey: .meta).decode(Int.self, forKey: .version)
        var t = try c.nestedUnkeyedContainer(forKey: .tags)
        var tags: [String] = []
        while !t.isAtEnd { tags.append(try t.decode(String.self)) }
        self.tags = tags
    }
}

/// A wrapper that hands its whole value to another type.
struct Wrapped: Decodable {
    let terminal: Terminal
    init(from decoder: any Decoder) throws { terminal = try decoder.singleValueContainer().decode(Terminal.self) }
}

class Base: Decodable {
    let a: Int
}

final class Derived: Base {
    enum Keys: CodingKey { case b }
    let b: Int
    required init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        b = try c.decode(Int.self, forKey: .b)
        try super.init(from: c.superDecoder())
    }
}

/// Tries the member as one type, then as another: the failed attempt must leave nothing behind.
struct IntOrTerminal: Decodable {
    enum Keys: CodingKey { case v }
    let id: String
    init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: Keys.self)
        if let n = try? c.decode(Int.self, forKey: .v) { id = String(n) } else { id = try c.decode(Terminal.self, forKey: .v).id }
    }
}

struct ReadsUserInfo: Decodable {
    static let key = CodingUserInfoKey(rawValue: "municipality")!
    let municipality: String?
    init(from decoder: any Decoder) throws {
        municipality = decoder.userInfo[Self.key] as? String
        _ = try decoder.singleValueContainer().decodeNil()
    }
}

// MARK: Helpers

func decode<T: Decodable>(_ type: T.Type, _ json: String) throws(JSONDecodeError) -> T {
    try StrictJSONDecoder().decode(type, from: bytes(json))
}

func failure<T: Decodable>(_ type: T.Type, _ json: String) -> JSONDecodeError? {
    do {
        _ = try decode(type, json)
        return nil
    } catch {
        return error
    }
}

let goodRequest = #"{"terminal":{"id":"T-01","location":null},"resident":{"name":"髙橋","birthDate":"1990-01-02"},"copies":2}"#

// MARK: Tests

@Suite struct UnknownMemberTests {
    @Test func wellFormedInputDecodes() throws {
        let request = try decode(Request.self, goodRequest)
        #expect(request == Request(terminal: Terminal(id: "T-01", location: nil),
                                   resident: Resident(name: "髙橋", birthDate: "1990-01-02", kana: nil), copies: 2))
    }

    @Test(arguments: [
        (#"{"terminal":{"id":"T"},"resident":{"name":"a","birthDate":"b"},"copies":1,"foo":1}"#, "foo"),
        (#"{"terminal":{"id":"T","foo":null},"resident":{"name":"a","birthDate":"b"},"copies":1}"#, "terminal.foo"),
        (#"{"terminal":{"id":"T"},"resident":{"name":"a","birthDate":"b","kanji":{"x":1}},"copies":1}"#, "resident.kanji"),
    ])
    func unknownMembersAreRefusedWithTheirPath(json: String, path: String) throws {
        let error = try #require(failure(Request.self, json))
        #expect(error.code == .unknownField)
        #expect(error.path == path)
    }

    @Test func unknownMembersInsideArraysNameTheIndex() throws {
        let error = try #require(failure(Batch.self, #"{"events":[{"seq":1,"kind":"a"},{"seq":2,"kind":"b","extra":true}]}"#))
        #expect(error == JSONDecodeError(code: .unknownField, path: "events.1.extra", message: #"unknown member "extra""#))
        #expect(error.description == #"UNKNOWN_FIELD at events.1.extra: unknown member "extra""#)
        #expect(try #require(failure([Event].self, #"[{"seq":1,"kind":"a","x":0}]"#)).path == "0.x")
    }

    @Test func theFirstUnknownMemberInDocumentOrderIsReported() throws {
        let json = #"{"terminal":{"id":"T","zz":1},"resident":{"name":"a","birthDate":"b"},"copies":1,"foo":1}"#
        #expect(failure(Request.self, json)?.path == "terminal.zz")
    }

    @Test func retryingAMemberAsAnotherType() throws {
        #expect(try decode(IntOrTerminal.self, #"{"v":7}"#).id == "7")
        #expect(try decode(IntOrTerminal.self, #"{"v":{"id":"x","location":"y"}}"#).id == "x")
        #expect(failure(IntOrTerminal.self, #"{"v":{"id":"x","foo":1}}"#)?.path == "v.foo")
    }

    @Test func canonicallyEquivalentMemberIsStillUnknown() throws {
        // A struct field named "\u{585A}" must not be satisfied by a member named "\u{FA10}".
        struct Kanji: Decodable { let 塚: Int }
        #expect(try decode(Kanji.self, "{\"\u{585A}\":1}").塚 == 1)
        let error = try #require(failure(Kanji.self, "{\"\u{FA10}\":1}"))
        #expect(error.code == .missingField)
        #expect(scalars(error.path) == [0x585A])
    }

    @Test func aTypeThatNeverOpensItsObjectStillRefusesMembers() throws {
        #expect(failure(Nothing.self, "{}") == nil)
        #expect(failure(Nothing.self, #"{"a":1}"#)?.path == "a")
        #expect(failure([Nothing].self, #"[{},{"b":2}]"#)?.path == "1.b")
    }

    @Test func twoContainersOnOneObjectAddUp() throws {
        #expect(try decode(Shape.self, #"{"type":"circle","r":2}"#).area == 12)
        #expect(try decode(Shape.self, #"{"type":"rect","w":2,"h":3}"#).area == 6)
        #expect(failure(Shape.self, #"{"type":"circle","r":2,"w":1}"#)?.path == "w")
    }

    @Test func containsCountsAsAskedFor() throws {
        #expect(try decode(Flag.self, #"{"on":"anything"}"#).on)
        #expect(try !decode(Flag.self, "{}").on)
    }

    @Test func unreadArrayElementsAreRefused() throws {
        #expect(try decode(FirstOnly.self, #"{"items":[7]}"#).first == 7)
        let error = try #require(failure(FirstOnly.self, #"{"items":[7,8]}"#))
        #expect(error.code == .unknownField)
        #expect(error.path == "items.1")
    }

    @Test func wrappersShareTheirValuesRecord() throws {
        #expect(try decode(Wrapped.self, #"{"id":"x"}"#).terminal.id == "x")
        #expect(failure(Wrapped.self, #"{"id":"x","foo":1}"#)?.path == "foo")
    }

    @Test func nestedContainersByHand() throws {
        let envelope = try decode(Envelope.self, #"{"meta":{"version":3},"tags":["a","b"]}"#)
        #expect(envelope.version == 3)
        #expect(envelope.tags == ["a", "b"])
        #expect(failure(Envelope.self, #"{"meta":{"version":3,"z":0},"tags":[]}"#)?.path == "meta.z")
        #expect(failure(Envelope.self, #"{"meta":{"version":3},"tags":["a",1]}"#)?.path == "tags.1")
    }

    @Test func enumsWithAssociatedValues() throws {
        #expect(try decode(One<Payment>.self, #"{"v":{"cash":{"amount":3}}}"#).v == .cash(amount: 3))
        #expect(failure(One<Payment>.self, #"{"v":{"cash":{"amount":3,"x":1}}}"#)?.path == "v.cash.x")
        #expect(failure(One<Payment>.self, #"{"v":{"cash":{"amount":3},"card":{"number":"1"}}}"#)?.code == .wrongType)
    }

    @Test func superDecoderReadsTheSuperMember() throws {
        let derived = try decode(Derived.self, #"{"b":1,"super":{"a":2}}"#)
        #expect(derived.a == 2 && derived.b == 1)
        #expect(failure(Derived.self, #"{"b":1}"#) == JSONDecodeError(code: .missingField, path: "super", message: #"required member "super" is missing"#))
        #expect(failure(Derived.self, #"{"b":1,"super":{"a":2,"z":3}}"#)?.path == "super.z")
    }
}

@Suite struct TypeTests {
    @Test func missingFieldsNameTheirPath() throws {
        let error = try #require(failure(Request.self, #"{"terminal":{"id":"T"},"resident":{"name":"a"},"copies":1}"#))
        #expect(error.code == .missingField)
        #expect(error.path == "resident.birthDate")
    }

    @Test func nullHandling() throws {
        // Absent and explicit null both give nil for an optional.
        #expect(try decode(Terminal.self, #"{"id":"a"}"#).location == nil)
        #expect(try decode(Terminal.self, #"{"id":"a","location":null}"#).location == nil)
        #expect(try decode(Terminal.self, #"{"id":"a","location":"b"}"#).location == "b")
        #expect(failure(Terminal.self, #"{"id":"a","location":1}"#)?.code == .wrongType)
        // null is not a value for a required field.
        let error = try #require(failure(Terminal.self, #"{"id":null}"#))
        #expect(error.code == .wrongType)
        #expect(error.path == "id")
        #expect(try decode([Int?].self, "[1,null,3]") == [1, nil, 3])
        #expect(failure([Int].self, "[1,null,3]")?.path == "1")
        #expect(try decode(Int?.self, "null") == nil)
    }

    @Test(arguments: [
        ("String", "1"), ("String", "true"), ("String", "null"), ("String", "[]"), ("String", "{}"),
        ("Int", #""1""#), ("Int", "true"), ("Int", "null"), ("Bool", "1"), ("Bool", "0"), ("Bool", #""true""#),
        ("Double", #""1.5""#), ("Double", "false"), ("Array", "{}"), ("Array", #""a""#), ("Object", "[]"), ("Object", #""x""#),
    ])
    func noCoercion(type: String, json: String) throws {
        let doc = "{\"v\":\(json)}"
        let found: JSONDecodeError? = switch type {
        case "String": failure(One<String>.self, doc)
        case "Int": failure(One<Int>.self, doc)
        case "Bool": failure(One<Bool>.self, doc)
        case "Double": failure(One<Double>.self, doc)
        case "Array": failure(One<[Int]>.self, doc)
        default: failure(One<Terminal>.self, doc)
        }
        let error = try #require(found)
        #expect(error.code == .wrongType)
        #expect(error.path == "v")
    }

    @Test func arrayElementPaths() throws {
        let error = try #require(failure(Batch.self, #"{"events":[{"seq":1,"kind":"a"},{"seq":"2","kind":"b"}]}"#))
        #expect(error.code == .wrongType)
        #expect(error.path == "events.1.seq")
        #expect(failure(Batch.self, #"{"events":[{"seq":1,"kind":"a"},{"seq":2,"kind":"b"},{"kind":"c"}]}"#)?.path == "events.2.seq")
    }

    @Test func integersMustBeExactAndInRange() throws {
        #expect(try decode(One<Int8>.self, #"{"v":127}"#).v == 127)
        #expect(try decode(One<Int8>.self, #"{"v":-128}"#).v == -128)
        #expect(try decode(One<Int64>.self, #"{"v":-9223372036854775808}"#).v == .min)
        #expect(try decode(One<UInt64>.self, #"{"v":18446744073709551615}"#).v == .max)
        #expect(try decode(One<UInt>.self, #"{"v":-0}"#).v == 0)
        #expect(try decode(One<UInt16>.self, #"{"v":65535}"#).v == 65535)
        #expect(try decode(One<Int32>.self, #"{"v":-2147483648}"#).v == .min)
        for (type, json) in [("Int8", "128"), ("Int8", "-129"), ("UInt8", "-1"), ("UInt8", "256"), ("Int", "1.5"), ("Int", "1.0"),
                             ("Int", "1e2"), ("Int64", "9223372036854775808"), ("UInt64", "18446744073709551616"), ("UInt32", "4294967296")] {
            let doc = "{\"v\":\(json)}"
            let error: JSONDecodeError? = switch type {
            case "Int8": failure(One<Int8>.self, doc)
            case "UInt8": failure(One<UInt8>.self, doc)
            case "Int64": failure(One<Int64>.self, doc)
            case "UInt64": failure(One<UInt64>.self, doc)
            case "UInt32": failure(One<UInt32>.self, doc)
            default: failure(One<Int>.self, doc)
            }
            #expect(error?.code == .invalidValue, "\(type) from \(json)")
            #expect(error?.path == "v", "\(type) from \(json)")
        }
        #expect(failure(One<Int>.self, #"{"v":1e400}"#)?.code == .parse)
    }

    @Test func floatingPoint() throws {
        #expect(try decode(One<Double>.self, #"{"v":1e2}"#).v == 100)
        #expect(try decode(One<Double>.self, #"{"v":7}"#).v == 7)
        #expect(try decode(One<Float>.self, #"{"v":0.1}"#).v == Float(0.1))
        let error = try #require(failure(One<Float>.self, #"{"v":1e39}"#))
        #expect(error.code == .invalidValue)
    }

    @Test(arguments: ["{\"name\":\"\u{FA10}\",\"birthDate\":\"x\"}", #"{"name":"\uFA10","birthDate":"x"}"#])
    func stringsAreKeptExactly(json: String) throws {
        let resident = try decode(Resident.self, json)
        #expect(scalars(resident.name) == [0xFA10])
        #expect(resident.name == "\u{585A}")  // Swift would call it equal; the scalars prove it was not normalised
    }

    @Test func dictionariesKeepExactKeys() throws {
        #expect(try decode([String: Int].self, #"{"b":1,"a":2}"#) == ["a": 2, "b": 1])
        let single = try decode([String: Int].self, "{\"\u{FA10}\":1}")
        #expect(single.keys.map(scalars) == [[0xFA10]])
        // Both names are legal JSON, but a Swift dictionary would merge them: refused, not lost.
        let error = try #require(failure([String: Int].self, "{\"\u{FA10}\":1,\"\u{585A}\":2}"))
        #expect(error.code == .invalidValue)
        #expect(scalars(error.path) == [0x585A])
        #expect(failure([String: Terminal].self, #"{"k":{"id":"x","foo":1}}"#)?.path == "k.foo")
        #expect(failure([String: Int].self, #"{"k":"1"}"#)?.path == "k")
    }

    @Test func typesRefuseValuesNamingTheField() throws {
        #expect(failure(One<Cell>.self, #"{"v":{"w":0,"h":1}}"#) == JSONDecodeError(code: .invalidValue, path: "v.w", message: "a cell needs a width"))
        #expect(failure(One<Cell>.self, #"{"v":{"w":1,"h":0}}"#) == JSONDecodeError(code: .invalidValue, path: "v.h", message: "a cell needs a height"))
        let foreign = try #require(failure(One<Cell>.self, #"{"v":{"w":-1,"h":1}}"#))
        #expect(foreign.code == .invalidValue)
        #expect(foreign.path == "v")
        let align = try #require(failure(One<Align>.self, #"{"v":"middle"}"#))
        #expect(align.code == .invalidValue)
        #expect(align.path == "v")
        #expect(try decode(One<Align>.self, #"{"v":"center"}"#).v == .center)
    }

    @Test func unkeyedContainerEnds() throws {
        let pair = try decode(Pair.self, "[1,2]")
        #expect(pair.a == 1 && pair.b == 2)
        #expect(failure(Pair.self, "[1]") == JSONDecodeError(code: .missingField, path: "1", message: "the array has only 1 elements"))
        #expect(failure(One<Pair>.self, #"{"v":[1,2,3]}"#)?.path == "v.2")
        #expect(failure(One<Pair>.self, #"{"v":[1,2,3]}"#)?.code == .unknownField)
    }

    @Test func parseErrorsComeThrough() throws {
        let error = try #require(failure(Terminal.self, #"{"id":"a","id":"b"}"#))
        #expect(error.code == .parse)
        #expect(error.message.hasPrefix("DUPLICATE_KEY"))
        #expect(failure(Terminal.self, nested(65))?.message.hasPrefix("TOO_DEEP") == true)
        var deep = StrictJSONDecoder()
        deep.limits = JSONLimits(maxDepth: 65)
        #expect(throws: JSONDecodeError.self) { try deep.decode([[Int]].self, from: bytes(nested(65))) }
    }

    @Test func decodesFromAParsedValueAndPassesUserInfo() throws {
        let value = try parse(goodRequest)
        #expect(try StrictJSONDecoder().decode(Request.self, from: value).copies == 2)
        let decoder = StrictJSONDecoder(userInfo: [ReadsUserInfo.key: "demo-city"])
        #expect(try decoder.decode(ReadsUserInfo.self, from: .null).municipality == "demo-city")
    }
}
