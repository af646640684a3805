import Testing
import KofuJSON

@Suite struct SerializerTests {
    @Test func escapesOnlyWhatJSONRequires() {
        let s = "\"\\/\u{8}\u{C}\n\r\t\u{0}\u{1F}\u{7F}\u{E9}\u{2028}\u{FA10}\u{1D11E}"
        let expected = bytes(#""\"\\/\b\f\n\r\t\u0000\u001f"#) + [0x7F] + bytes("\u{E9}\u{2028}\u{FA10}\u{1D11E}\"")
        #expect(serialize(.string(s)) == expected)
    }

    @Test func compactWithMembersInStoredOrder() throws {
        let value = try parse(#" { "b" : [ 1 , 2.50 , -0 ] , "a" : { "\u00e9" : null , "t" : true , "f" : false } , "e" : [ ] , "o" : { } } "#)
        #expect(serialize(value) == bytes(#"{"b":[1,2.50,-0],"a":{"é":null,"t":true,"f":false},"e":[],"o":{}}"#))
    }

    @Test(arguments: 0..<0x20)
    func everyControlCharacterRoundTrips(byte: Int) throws {
        let value = JSONValue.string("a\(Character(Unicode.Scalar(UInt8(byte))))b")
        let written = serialize(value)
        #expect(!written.contains { $0 < 0x20 })
        #expect(try JSONParser.parse(written) == value)
    }

    @Test func canonicallyEquivalentStringsStayApart() throws {
        let value = JSONValue.array([.string("\u{FA10}"), .string("\u{585A}"), .string("e\u{301}"), .string("\u{E9}")])
        guard case .array(let items) = try JSONParser.parse(serialize(value)) else { Issue.record("not an array"); return }
        let decoded: [[UInt32]] = items.map { item in
            guard case .string(let s) = item else { return [] }
            return scalars(s)
        }
        #expect(decoded == [[0xFA10], [0x585A], [0x65, 0x301], [0xE9]])
    }

    /// The Big List of Naughty Strings: 515 strings, each of which must come back byte for byte.
    @Test func naughtyStringsRoundTrip() throws {
        let value = try JSONParser.parse(TestData.bytes(TestData.directory.appendingPathComponent("blns.json")))
        guard case .array(let items) = value else { Issue.record("blns.json is not an array"); return }
        #expect(items.count == 515)
        for (k, item) in items.enumerated() {
            guard case .string(let s) = item else { Issue.record("item \(k) is not a string"); continue }
            guard case .string(let back) = try JSONParser.parse(serialize(item)) else { Issue.record("item \(k) changed kind"); continue }
            #expect(Array(back.utf8) == Array(s.utf8), "item \(k)")
        }
        #expect(try JSONParser.parse(serialize(value)) == value)
    }
}
