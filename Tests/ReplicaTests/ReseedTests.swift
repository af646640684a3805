import Foundation
import KofuDigest
import KofuJSON
import KofuZlib
import Replica
import Testing

enum Extracts {
    static func line(_ type: String, _ record: JSONValue) -> [UInt8] {
        guard case .object(let o) = record else { fatalError() }
        return serialize(.object(JSONObject([(key: "type", value: .string(type))] + o.members)!)) + [0x0A]
    }

    static func resident(_ code: String, household: String = "H1", order: Int = 1) -> JSONValue {
        Feed.resident(["juminhyoCode": .string(code), "householdId": .string(household), "householdOrder": .number(JSONNumber(order))])
    }

    /// A well-formed extract; `tamper` may change the body lines before the trailer is computed.
    static func make(_ body: [[UInt8]], asOfSeq: Int = 500, municipality: String = "272078", counts: (Int, Int, Int, Int)? = nil,
                     checksum: String? = nil) -> [UInt8] {
        var bytes = Array(#"{"format":"kofu-extract/1","municipality":"\#(municipality)","asOfSeq":\#(asOfSeq),"createdAt":"2026-11-22T03:00:00+09:00"}"#.utf8) + [0x0A]
        for l in body { bytes += l }
        let kinds = body.map { String(decoding: $0.prefix(20), as: UTF8.self) }
        let c = counts ?? (kinds.filter { $0.contains("\"resident\"") }.count, kinds.filter { $0.contains("\"seal\"") }.count,
                           kinds.filter { $0.contains("\"card\"") }.count, kinds.filter { $0.contains("\"restriction\"") }.count)
        let sha = checksum ?? SHA256.hex(SHA256.hash(bytes))
        bytes += Array(#"{"type":"end","counts":{"resident":\#(c.0),"seal":\#(c.1),"card":\#(c.2),"restriction":\#(c.3)},"sha256":"\#(sha)"}"#.utf8) + [0x0A]
        return bytes
    }

    static func card(_ code: String, _ hex: String) -> JSONValue {
        .object(JSONObject([(key: "juminhyoCode", value: .string(code)), (key: "certSha256", value: .string(String(repeating: hex, count: 32)))])!)
    }

    static func error(_ bytes: [UInt8]) -> ExtractError? {
        do { _ = try Extract.validate(bytes: bytes, municipality: "272078"); return nil } catch { return error }
    }
}

@Suite struct ExtractValidationTests {
    let good = Extracts.make([Extracts.line("resident", Extracts.resident("11111111111")),
                              Extracts.line("card", Extracts.card("11111111111", "ab")),
                              Extracts.line("resident", Extracts.resident("22222222222", order: 2))])

    @Test func aGoodExtractValidates() throws {
        let extract = try Extract.validate(bytes: good, municipality: "272078")
        #expect(extract.asOfSeq == 500 && extract.residents.count == 2 && extract.cards.count == 1)
        #expect(try Extract.validate(bytes: Array(good.dropLast()), municipality: "272078").residents.count == 2)  // no final LF
    }

    /// Blocks of lines are decoded in parallel; whatever block finishes first, the fault reported
    /// is the first in the file. (Found by the gzip-bomb test: with every line blank, a block
    /// taken up early used to let the next block's fault, at line 514, win over line 2's.)
    @Test func theFirstFaultInTheFileIsReportedWhateverBlockFinishesFirst() {
        let header = Array(#"{"format":"kofu-extract/1","municipality":"272078","asOfSeq":1,"createdAt":"2026-11-22T03:00:00+09:00"}"#.utf8) + [0x0A]
        let bytes = header + [UInt8](repeating: 0x0A, count: 20_000)
        for _ in 0..<40 {
            do throws(ExtractError) {
                _ = try Extract.validate(bytes: bytes, municipality: "272078")
                Issue.record("accepted")
            } catch {
                #expect(error.line == 2 && error.message == "blank line", "\(error)")
            }
        }
    }

    @Test func faultsNameTheLineAndField() {
        let r1 = Extracts.line("resident", Extracts.resident("11111111111"))
        // Truncated: the trailer is missing; the fault names the last line read.
        let truncated = Array(good.prefix(upTo: good.lastIndex(of: 0x0A, before: good.count - 1)! + 1))
        #expect(Extracts.error(truncated)?.line == 4)
        #expect(Extracts.error(Extracts.make([r1], checksum: String(repeating: "0", count: 64))).map { ($0.line, $0.field) }! == (3, "sha256"))
        #expect(Extracts.error(Extracts.make([r1], counts: (2, 0, 0, 0))).map { ($0.line, $0.field) }! == (3, "counts.resident"))
        #expect(Extracts.error(Extracts.make([r1, r1])).map { ($0.line, $0.field) }! == (3, "juminhyoCode"))  // the later line
        #expect(Extracts.error(Extracts.make([Extracts.line("card", Extracts.card("99999999999", "cd")), r1])).map { ($0.line, $0.field) }! == (2, "juminhyoCode"))
        let badDate = Extracts.line("resident", Feed.resident(["birthDate": .string("1958-13-01")]))
        #expect(Extracts.error(Extracts.make([r1, badDate])).map { ($0.line, $0.field) }! == (3, "birthDate"))
        #expect(Extracts.error(Extracts.make([r1], municipality: "131016")).map { ($0.line, $0.field) }! == (1, "municipality"))
        #expect(Extracts.error(Extracts.make([r1, [0x0A]]))?.line == 3)  // blank line
        #expect(Extracts.error(good + Array("{}\n".utf8))?.line == 6)  // after the trailer
        #expect(Extracts.error([0xEF, 0xBB, 0xBF] + good)?.line == 1)
    }
}

extension Array where Element == UInt8 {
    func lastIndex(of byte: UInt8, before end: Int) -> Int? { self[..<end].lastIndex(of: byte) }
}
