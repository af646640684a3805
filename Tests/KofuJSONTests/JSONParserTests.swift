import Testing
import KofuJSON

@Suite struct DuplicateKeyTests {
    /// U+FA10 is a CJK compatibility ideograph whose canonical decomposition is U+585A, so Swift's
    /// `String ==` calls them equal; as member names they are different bytes and both allowed.
    @Test(arguments: [
        "{\"\u{FA10}\":1,\"\u{585A}\":2}",
        #"{"\uFA10":1,"\u585A":2}"#,
        // The same with enough members that the object is indexed by hash rather than scanned.
        "{" + (0..<20).map { "\"k\($0)\":0," }.joined() + "\"\u{FA10}\":1,\"\u{585A}\":2}",
    ])
    func canonicallyEquivalentNamesAreDistinct(json: String) throws {
        #expect("\u{FA10}" == "\u{585A}")  // the trap this guards against
        guard case .object(let object) = try parse(json) else { Issue.record("not an object"); return }
        #expect(object["\u{FA10}"] == .number(JSONNumber(1)))
        #expect(object["\u{585A}"] == .number(JSONNumber(2)))
        #expect(scalars(object.members[object.count - 2].key) == [0xFA10])
        #expect(scalars(object.members[object.count - 1].key) == [0x585A])
    }

    @Test func precomposedAndDecomposedNamesAreDistinct() throws {
        guard case .object(let object) = try parse("{\"\u{E9}\":1,\"e\u{301}\":2}") else { Issue.record("not an object"); return }
        #expect(object.count == 2)
        #expect(object["e\u{301}"] == .number(JSONNumber(2)))
    }

    @Test(arguments: [
        (#"{"a":1,"a":2}"#, "a", 7),
        (#"{"a":1,"\u0061":2}"#, "a", 7),  // equal once the escape is decoded
        ("{\"\u{FA10}\":1,\"\u{FA10}\":2}", "\u{FA10}", 9),
        (#"{"x":{"a":1,"b":2,"a":3}}"#, "a", 18),
        ("{" + (0..<20).map { "\"k\($0)\":0," }.joined() + #""k3":1}"#, "k3", 1 + (0..<20).map { "\"k\($0)\":0,".utf8.count }.reduce(0, +)),
    ])
    func exactDuplicatesAreRefused(json: String, key: String, offset: Int) throws {
        let error = try #require(parseError(json))
        #expect(error.code == .duplicateKey)
        #expect(error.key.map(scalars) == scalars(key))
        #expect(error.offset == offset)
    }

    @Test func sameNameInDifferentObjectsIsFine() {
        #expect(parseError(#"{"a":{"a":1}}"#) == nil)
        #expect(parseError(#"[{"a":1},{"a":2}]"#) == nil)
    }

    @Test func constructedObjectsFollowTheSameRule() {
        #expect(JSONObject([("\u{FA10}", .null), ("\u{585A}", .null)]) != nil)
        #expect(JSONObject([("a", .null), ("b", .null), ("a", .null)]) == nil)
        let many = (0..<30).map { ("k\($0)", JSONValue.null) }
        #expect(JSONObject(many)?["k29"] == .null)
        #expect(JSONObject(many + [("k7", .null)]) == nil)
    }
}

@Suite struct StructureTests {
    @Test(arguments: [
        ("{} x", 3), ("1 2", 2), ("{}{}", 2), ("[]\u{0C}", 2), ("\"a\"\u{0}", 3), ("null]", 4), ("123abc", 3), ("0x10", 1),
        ("[1]\u{A0}", 3),  // NBSP is not JSON whitespace
    ])
    func trailingDataIsRefused(json: String, offset: Int) throws {
        let error = try #require(parseError(json))
        #expect(error.code == .trailingData)
        #expect(error.offset == offset)
    }

    @Test func jsonWhitespaceAroundTheValueIsFine() {
        #expect(parseError(" \t\r\n{} \t\r\n") == nil)
    }

    @Test(arguments: [
        ("", JSONParseError.Code.unexpectedEnd, 0), ("  ", .unexpectedEnd, 2), ("[", .unexpectedEnd, 1),
        ("[1,", .unexpectedEnd, 3), (#"{"a""#, .unexpectedEnd, 4), (#"{"a":1"#, .unexpectedEnd, 6), (#""abc"#, .unexpectedEnd, 4),
        ("[1,]", .unexpectedCharacter, 3), (#"{"a":1,}"#, .unexpectedCharacter, 7), (#"{"a" 1}"#, .unexpectedCharacter, 5),
        ("{1:2}", .unexpectedCharacter, 1), ("[1 2]", .unexpectedCharacter, 3), ("'a'", .unexpectedCharacter, 0),
        ("[,1]", .unexpectedCharacter, 1), (#"{"a":1 "b":2}"#, .unexpectedCharacter, 7),
        ("tru", .unexpectedEnd, 3), ("trux", .unexpectedCharacter, 3), ("True", .unexpectedCharacter, 0), ("nul", .unexpectedEnd, 3),
        ("nulll", .trailingData, 4), ("undefined", .unexpectedCharacter, 0),
    ])
    func malformedStructure(json: String, code: JSONParseError.Code, offset: Int) throws {
        let error = try #require(parseError(json))
        #expect(error.code == code)
        #expect(error.offset == offset)
    }

    @Test func depthLimitIsExact() throws {
        #expect(parseError(nested(64)) == nil)
        let error = try #require(parseError(nested(65)))
        #expect(error.code == .tooDeep)
        #expect(error.offset == 64)
        let objects = String(repeating: #"{"a":"#, count: 65) + "1" + String(repeating: "}", count: 65)
        #expect(parseError(objects)?.code == .tooDeep)
        #expect(parseError(String(objects.dropFirst(5).dropLast())) == nil)
        #expect(parseError("[{\"a\":[{}]}]", limits: JSONLimits(maxDepth: 4)) == nil)
        #expect(parseError("[{\"a\":[{}]}]", limits: JSONLimits(maxDepth: 3))?.code == .tooDeep)
        #expect(parseError("1", limits: JSONLimits(maxDepth: 0)) == nil)
        #expect(parseError("[]", limits: JSONLimits(maxDepth: 0))?.code == .tooDeep)
        // Siblings do not add up: depth, not count.
        #expect(parseError("[" + Array(repeating: nested(60), count: 100).joined(separator: ",") + "]") == nil)
    }

    @Test func memberOrderAndValuesAreKept() throws {
        let value = try parse(#"{"b":[true,false,null],"a":{"n":-1.50e+3,"s":"x"}}"#)
        guard case .object(let object) = value else { Issue.record("not an object"); return }
        #expect(object.keys == ["b", "a"])
        #expect(object["b"] == .array([.bool(true), .bool(false), .null]))
        guard case .object(let inner)? = object["a"], case .number(let n)? = inner["n"] else { Issue.record("shape"); return }
        #expect(n.text == "-1.50e+3")
        #expect(n.double == -1500)
        #expect(inner["s"] == .string("x"))
        #expect(object["missing"] == nil)
    }

    @Test func equalityIsExact() throws {
        #expect(JSONValue.string("\u{FA10}") != .string("\u{585A}"))
        #expect(try parse(#"{"a":1,"b":2}"#) != parse(#"{"b":2,"a":1}"#))
        #expect(try parse("1.0") != parse("1"))
        #expect(try parse(#"[1,"a",{"k":null}]"#) == parse(#" [ 1 , "a" , { "k" : null } ] "#))
    }

    @Test func nonContiguousInputParsesTheSame() throws {
        let json = Array(#"{"k":["\u00e9",1]}"#.utf8)
        #expect(try JSONParser.parse(json.lazy.map { $0 }) == JSONParser.parse(json))
        let bad = Array("[1,]".utf8)
        var lazyError: JSONParseError?
        do { _ = try JSONParser.parse(bad.lazy.map { $0 }) } catch { lazyError = error }
        #expect(lazyError != nil)
        #expect(lazyError == parseError(bad))
    }
}

@Suite struct LocationTests {
    @Test(arguments: [
        ("{\n  \"a\": 1,\n  \"b\": x\n}", 19, 3, 8),
        ("[\"日本\", x]", 11, 1, 8),  // columns count scalars, not bytes
        ("[1,\r\n2,\r\nx]", 9, 3, 1),  // CRLF is one line break
        ("[1,\r2,\rx]", 7, 3, 1),
        ("[1,\n\n\n  ?]", 8, 4, 3),
        ("x", 0, 1, 1),
    ])
    func lineAndColumn(json: String, offset: Int, line: Int, column: Int) throws {
        let error = try #require(parseError(json))
        #expect(error.code == .unexpectedCharacter)
        #expect(error.offset == offset)
        #expect(error.line == line)
        #expect(error.column == column)
    }

    @Test func descriptionNamesCodePlaceAndKey() throws {
        let error = try #require(parseError("{\n\"a\":1,\n\"a\":2}"))
        #expect(error.description == #"DUPLICATE_KEY at line 3, column 1 (byte 9): member "a""#)
        #expect(try #require(parseError("[1,")).description == "UNEXPECTED_END at line 1, column 4 (byte 3)")
    }
}

@Suite struct UTF8Tests {
    @Test(arguments: [
        [0xC0, 0x80], [0xC1, 0xBF],  // overlong 2-byte
        [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF],  // overlong 3-byte
        [0xF0, 0x80, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF],  // overlong 4-byte
        [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],  // surrogates encoded in UTF-8
        [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],  // beyond U+10FFFF
        [0xF8, 0x88, 0x80, 0x80, 0x80], [0xFC, 0x84, 0x80, 0x80, 0x80, 0x80],  // 5- and 6-byte forms
        [0x80], [0xBF], [0xFE], [0xFF],  // lone continuation, never-valid bytes
        [0xE6, 0x97], [0xF0, 0x9F, 0x98],  // truncated (followed by the closing quote)
        [0xE6, 0x41, 0x41], [0xC3, 0xC3, 0xA9],  // continuation missing
    ] as [[UInt8]])
    func illFormedIsRefused(sequence: [UInt8]) throws {
        let error = try #require(parseError(bytes("[\"") + sequence + bytes("\"]")))
        #expect(error.code == .invalidUTF8)
        #expect(error.offset == 2)
    }

    @Test(arguments: [
        ([0xC2, 0x80], 0x80), ([0xDF, 0xBF], 0x7FF), ([0xE0, 0xA0, 0x80], 0x800), ([0xED, 0x9F, 0xBF], 0xD7FF),
        ([0xEE, 0x80, 0x80], 0xE000), ([0xEF, 0xBF, 0xBF], 0xFFFF), ([0xF0, 0x90, 0x80, 0x80], 0x10000),
        ([0xF4, 0x8F, 0xBF, 0xBF], 0x10FFFF), ([0xEF, 0xA8, 0x90], 0xFA10),
    ] as [([UInt8], UInt32)])
    func boundariesAreAccepted(sequence: [UInt8], scalar: UInt32) throws {
        #expect(try JSONParser.parse(bytes("\"") + sequence + bytes("\"")) == .string(String(Unicode.Scalar(scalar)!)))
    }

    @Test func invalidBytesAnywhereAreFound() {
        #expect(parseError(bytes("[1] ") + [0xFF])?.code == .invalidUTF8)
        #expect(parseError(bytes("[1] ") + [0xFF])?.offset == 4)
        // Past the eight-bytes-at-a-time ASCII scan.
        #expect(parseError(bytes("[\"abcdefghijklmnopq") + [0xC3] + bytes("\"]"))?.offset == 19)
        #expect(parseError(bytes("\"abcdefgh") + [0xE2, 0x82])?.code == .invalidUTF8)
    }

    @Test func byteOrderMark() {
        #expect(parseError([0xEF, 0xBB, 0xBF] + bytes("{}"))?.code == .byteOrderMark)
        #expect(parseError(" \u{FEFF}{}")?.code == .unexpectedCharacter)
        #expect(parseError("[\"\u{FEFF}\"]") == nil)  // inside a string it is just a character
    }
}

@Suite struct StringTests {
    @Test func escapesDecode() throws {
        #expect(try parse(#""\"\\\/\b\f\n\r\t""#) == .string("\"\\/\u{8}\u{C}\n\r\t"))
        #expect(try parse(#""\u0041\u00e9\u00E9\uFA10\u0000""#) == .string("A\u{E9}\u{E9}\u{FA10}\u{0}"))
        #expect(try parse(#""plain\nmixed 日本""#) == .string("plain\nmixed 日本"))
    }

    @Test(arguments: [
        (#""\uD834\uDD1E""#, 0x1D11E), (#""\ud834\udd1e""#, 0x1D11E), (#""\uD800\uDC00""#, 0x10000), (#""\uDBFF\uDFFF""#, 0x10FFFF),
    ] as [(String, UInt32)])
    func surrogatePairsCombine(json: String, scalar: UInt32) throws {
        #expect(try parse(json) == .string(String(Unicode.Scalar(scalar)!)))
    }

    @Test(arguments: [
        #""\uD800""#, #""\uDC00""#, #""\uD800\u0041""#, #""\uD800x""#, #""\uD800\n""#, #""\uDD1E\uD834""#,
        #""\uD800\uD800""#, #""\uDBFF""#,
    ])
    func loneSurrogatesAreRefused(json: String) throws {
        let error = try #require(parseError(json))
        #expect(error.code == .loneSurrogate)
        #expect(error.offset == 1)
    }

    /// An error names where it is: the members and indices of the open containers.
    @Test(arguments: [
        (#"{"events":[{"a":1},{"r":{"name":"\uD800"}}]}"#, ["events", "1", "r", "name"]),
        (#"[1,2,"\uDC00"]"#, ["2"]),
        (#""\uD800""#, []),
        (#"{"a":1,"\uD800":2}"#, []),           // a faulty member name: the path ends at its object
        (#"{"x":{"\uD800":1}}"#, ["x"]),
        (#"{"x":{"a":1,"\uD800":1}}"#, ["x"]),
        (#"{"x":[[{"y":"\uDFFF"}]]}"#, ["x", "0", "0", "y"]),
    ] as [(String, [String])])
    func errorsCarryTheirPath(json: String, path: [String]) throws {
        let error = try #require(parseError(json))
        #expect(error.code == .loneSurrogate)
        #expect(error.path == path)
    }

    @Test(arguments: 0..<0x20)
    func rawControlCharactersAreRefused(byte: Int) throws {
        let error = try #require(parseError(bytes("[\"ab") + [UInt8(byte)] + bytes("\"]")))
        #expect(error.code == .controlCharacter)
        #expect(error.offset == 4)
        // Escaped, each is fine and decodes to itself.
        let escaped = "\"\\u00" + String(byte, radix: 16).leftPadded(to: 2) + "\""
        #expect(try parse(escaped) == .string(String(Unicode.Scalar(UInt8(byte)))))
    }

    @Test func deleteIsNotAControlCharacterForJSON() {
        #expect(parseError(bytes("\"") + [0x7F] + bytes("\"")) == nil)
    }

    @Test(arguments: [
        (#""\x""#, JSONParseError.Code.invalidEscape, 1), (#""\'""#, .invalidEscape, 1), (#""\U0041""#, .invalidEscape, 1),
        (#""\u00G0""#, .invalidEscape, 5), (#""\u12""#, .invalidEscape, 5), (#""ab\"#, .unexpectedEnd, 4), (#""\u12"#, .unexpectedEnd, 5),
        (#""\uD834\uZZZZ""#, .invalidEscape, 9),
    ])
    func badEscapes(json: String, code: JSONParseError.Code, offset: Int) throws {
        let error = try #require(parseError(json))
        #expect(error.code == code)
        #expect(error.offset == offset)
    }
}

@Suite struct NumberTests {
    @Test(arguments: [
        "0", "-0", "1.50", "1e2", "1E+2", "1e-2", "-0.0e-0", "123456789012345678901234567890", "1e-400",
        "1" + String(repeating: "0", count: 308), "9.999e307", "-1.7976931348623157e308",
    ])
    func validNumbersKeepTheirText(text: String) throws {
        guard case .number(let n) = try parse(" \(text) ") else { Issue.record("not a number"); return }
        #expect(n.text == text)
        #expect(n.double.isFinite)
        #expect(JSONNumber(text: text) == n)
    }

    @Test(arguments: [
        ("01", JSONParseError.Code.invalidNumber, 1), ("-01", .invalidNumber, 2), ("00", .invalidNumber, 1), ("1.", .invalidNumber, 2),
        ("1.e1", .invalidNumber, 2), ("1e", .invalidNumber, 2), ("1e+", .invalidNumber, 3), ("-", .invalidNumber, 1),
        ("--1", .invalidNumber, 1), ("-a", .invalidNumber, 1), ("-Infinity", .invalidNumber, 1), ("[1.]", .invalidNumber, 3),
        ("+1", .unexpectedCharacter, 0), (".5", .unexpectedCharacter, 0), ("NaN", .unexpectedCharacter, 0), ("Infinity", .unexpectedCharacter, 0),
        ("1e400", .numberOutOfRange, 0), ("[-1e400]", .numberOutOfRange, 1), ("1" + String(repeating: "0", count: 309), .numberOutOfRange, 0),
        ("1.8e308", .numberOutOfRange, 0),
    ])
    func invalidNumbers(json: String, code: JSONParseError.Code, offset: Int) throws {
        let error = try #require(parseError(json))
        #expect(error.code == code)
        #expect(error.offset == offset)
    }

    @Test func underflowIsAcceptedAsZero() throws {
        guard case .number(let n) = try parse("-1e-400") else { Issue.record("not a number"); return }
        #expect(n.double == 0)
    }

    @Test(arguments: [
        ("9223372036854775807", Int64.max), ("-9223372036854775808", Int64.min), ("-0", 0), ("42", 42),
        ("9223372036854775808", nil), ("1.0", nil), ("1e2", nil), ("1E2", nil), ("0.5", nil),
    ] as [(String, Int64?)])
    func int64IsForPlainIntegersOnly(text: String, expected: Int64?) throws {
        guard case .number(let n) = try parse(text) else { Issue.record("not a number"); return }
        #expect(n.int64 == expected)
    }

    @Test func constructedNumbers() {
        #expect(JSONNumber(Int64.min).text == "-9223372036854775808")
        #expect(JSONNumber(UInt64.max).text == "18446744073709551615")
        #expect(JSONNumber(0.1)?.text == "0.1")
        #expect(JSONNumber(1e100)?.text == "1e+100")
        #expect(JSONNumber(-0.0)?.double.sign == .minus)
        #expect(JSONNumber(Double.nan) == nil)
        #expect(JSONNumber(Double.infinity) == nil)
        #expect(JSONNumber(text: " 1") == nil)
        #expect(JSONNumber(text: "01") == nil)
        #expect(JSONNumber(text: "1e400") == nil)
        #expect(JSONNumber(text: "[1]") == nil)
    }
}

@Suite struct RobustnessTests {
    /// SplitMix64, so that every run mutates the same way.
    struct Generator: RandomNumberGenerator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Mutated documents either parse (and then round-trip) or are refused; nothing traps.
    @Test func mutatedDocumentsNeverCrash() throws {
        let seeds = [
            #"{"resident":{"name":"\uFA10山","birth":"1990-01-02","n":[1,-2.5e3,true,null]},"k":"\ud834\udd1e"}"#,
            "[\"日本\\n\", {\"a\":{\"b\":[[[]]]}}, 0, -0.0, 1E+2]",
        ].map(bytes)
        let alphabet = bytes("{}[]\",:\\u0123456789abcdefABCDEF.eE+- \n\ttrufalsn") + [0x00, 0x1F, 0x7F, 0x80, 0xBF, 0xC3, 0xE6, 0xED, 0xF0, 0xF4, 0xFF]
        var rng = Generator(state: 2024)
        var accepted = 0
        for round in 0..<4000 {
            var doc = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let at = Int.random(in: 0..<doc.count, using: &rng)
                switch Int.random(in: 0..<3, using: &rng) {
                case 0: doc[at] = alphabet.randomElement(using: &rng)!
                case 1: doc.insert(alphabet.randomElement(using: &rng)!, at: at)
                default: if doc.count > 1 { doc.remove(at: at) }
                }
            }
            if let value = try? JSONParser.parse(doc) {
                accepted += 1
                #expect(try JSONParser.parse(serialize(value)) == value)
            }
        }
        #expect(accepted > 0)  // the mutations must not be so wild that nothing is ever valid
    }
}

extension String {
    func leftPadded(to width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
