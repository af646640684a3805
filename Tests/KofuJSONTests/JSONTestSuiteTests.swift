import Foundation
import Testing
import KofuJSON

/// Nicolas Seriot's JSONTestSuite: y_ must parse, n_ must be refused, and for each i_ file
/// (implementation-defined) the decision below is asserted file by file.
@Suite struct JSONTestSuiteTests {
    enum Decision: Sendable, CustomTestStringConvertible {
        case accept
        case refuse(JSONParseError.Code)
        var testDescription: String {
            switch self {
            case .accept: "accept"
            case .refuse(let code): "refuse \(code.rawValue)"
            }
        }
    }

    /// I-JSON (RFC 7493): UTF-8 only, no lone surrogates, numbers within Double; nesting is
    /// bounded by the default depth limit (64). Underflow to zero and integers beyond Int64 that
    /// a Double still holds are accepted: they are representable, only not exactly.
    static let decisions: [String: Decision] = [
        "i_number_double_huge_neg_exp.json": .accept,  // 123.456e-789 underflows to 0
        "i_number_huge_exp.json": .refuse(.numberOutOfRange),
        "i_number_neg_int_huge_exp.json": .refuse(.numberOutOfRange),
        "i_number_pos_double_huge_exp.json": .refuse(.numberOutOfRange),
        "i_number_real_neg_overflow.json": .refuse(.numberOutOfRange),
        "i_number_real_pos_overflow.json": .refuse(.numberOutOfRange),
        "i_number_real_underflow.json": .accept,  // 123e-10000000 underflows to 0
        "i_number_too_big_neg_int.json": .accept,  // within Double's range
        "i_number_too_big_pos_int.json": .accept,
        "i_number_very_big_negative_int.json": .accept,
        "i_object_key_lone_2nd_surrogate.json": .refuse(.loneSurrogate),
        "i_string_1st_surrogate_but_2nd_missing.json": .refuse(.loneSurrogate),
        "i_string_1st_valid_surrogate_2nd_invalid.json": .refuse(.loneSurrogate),
        "i_string_UTF-16LE_with_BOM.json": .refuse(.invalidUTF8),
        "i_string_UTF-8_invalid_sequence.json": .refuse(.invalidUTF8),
        "i_string_UTF8_surrogate_U+D800.json": .refuse(.invalidUTF8),
        "i_string_incomplete_surrogate_and_escape_valid.json": .refuse(.loneSurrogate),
        "i_string_incomplete_surrogate_pair.json": .refuse(.loneSurrogate),
        "i_string_incomplete_surrogates_escape_valid.json": .refuse(.loneSurrogate),
        "i_string_invalid_lonely_surrogate.json": .refuse(.loneSurrogate),
        "i_string_invalid_surrogate.json": .refuse(.loneSurrogate),
        "i_string_invalid_utf-8.json": .refuse(.invalidUTF8),
        "i_string_inverted_surrogates_U+1D11E.json": .refuse(.loneSurrogate),
        "i_string_iso_latin_1.json": .refuse(.invalidUTF8),
        "i_string_lone_second_surrogate.json": .refuse(.loneSurrogate),
        "i_string_lone_utf8_continuation_byte.json": .refuse(.invalidUTF8),
        "i_string_not_in_unicode_range.json": .refuse(.invalidUTF8),
        "i_string_overlong_sequence_2_bytes.json": .refuse(.invalidUTF8),
        "i_string_overlong_sequence_6_bytes.json": .refuse(.invalidUTF8),
        "i_string_overlong_sequence_6_bytes_null.json": .refuse(.invalidUTF8),
        "i_string_truncated-utf-8.json": .refuse(.invalidUTF8),
        "i_string_utf16BE_no_BOM.json": .refuse(.invalidUTF8),  // the lone 0xE9 of "é"
        "i_string_utf16LE_no_BOM.json": .refuse(.invalidUTF8),
        "i_structure_500_nested_arrays.json": .refuse(.tooDeep),
        "i_structure_UTF-8_BOM_empty_object.json": .refuse(.byteOrderMark),
    ]

    @Test func suiteIsPresent() {
        let all = TestData.suiteFiles(prefix: "")
        #expect(all.count == 318, "JSONTestSuite missing or incomplete at \(TestData.suite.path)")
        #expect(TestData.suiteFiles(prefix: "y_").count == 95)
        #expect(TestData.suiteFiles(prefix: "n_").count == 188)
        #expect(TestData.suiteFiles(prefix: "i_").count == 35)
    }

    @Test func everyImplementationDefinedFileHasADecision() {
        #expect(Set(TestData.suiteFiles(prefix: "i_")) == Set(Self.decisions.keys))
    }

    /// RFC 8259 only says names SHOULD be unique, so the suite counts these as valid; I-JSON
    /// (RFC 7493 §2.3) makes uniqueness a MUST, and that is the rule kofu enforces.
    static let validButNotIJSON: Set<String> = ["y_object_duplicated_key.json", "y_object_duplicated_key_and_value.json"]

    @Test func duplicateNamesInTheSuiteAreRefused() throws {
        for file in Self.validButNotIJSON.sorted() {
            let input = try TestData.bytes(TestData.suite.appendingPathComponent(file))
            let error = try #require(parseError(input), "\(file)")
            #expect(error.code == .duplicateKey)
            #expect(error.key == "a")
        }
    }

    @Test(arguments: TestData.suiteFiles(prefix: "y_").filter { !validButNotIJSON.contains($0) })
    func accepts(file: String) throws {
        let input = try TestData.bytes(TestData.suite.appendingPathComponent(file))
        let value = try JSONParser.parse(input)
        // What was accepted must also survive our own serialiser unchanged.
        #expect(try JSONParser.parse(serialize(value)) == value)
    }

    @Test(arguments: TestData.suiteFiles(prefix: "n_"))
    func refuses(file: String) throws {
        let input = try TestData.bytes(TestData.suite.appendingPathComponent(file))
        #expect(throws: JSONParseError.self) { try JSONParser.parse(input) }
    }

    @Test(arguments: decisions.sorted { $0.key < $1.key })
    func implementationDefined(file: String, decision: Decision) throws {
        let input = try TestData.bytes(TestData.suite.appendingPathComponent(file))
        switch decision {
        case .accept:
            #expect(parseError(input) == nil)
        case .refuse(let code):
            #expect(parseError(input)?.code == code)
        }
    }

    @Test func fiveHundredNestedArraysPassWithARaisedLimit() throws {
        let input = try TestData.bytes(TestData.suite.appendingPathComponent("i_structure_500_nested_arrays.json"))
        #expect(parseError(input, limits: JSONLimits(maxDepth: 500)) == nil)
        #expect(parseError(input, limits: JSONLimits(maxDepth: 499))?.code == .tooDeep)
    }

    @Test func aHundredThousandOpeningArraysStopAtTheLimit() throws {
        let input = try TestData.bytes(TestData.suite.appendingPathComponent("n_structure_100000_opening_arrays.json"))
        let error = try #require(parseError(input))
        #expect(error.code == .tooDeep)
        #expect(error.offset == 64)
        // Even with no practical limit the parser does not recurse, so it runs out of input, not stack.
        #expect(parseError(input, limits: JSONLimits(maxDepth: .max))?.code == .unexpectedEnd)
    }
}
