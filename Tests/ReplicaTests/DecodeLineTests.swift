import Foundation
import Replica
import Testing

/// `Extract.decodeLine`: one line on its own, as a reseed decodes it (the fuzz harnesses' entry).
@Suite struct DecodeLineTests {
    func line(_ s: String) -> [UInt8] { Array(s.utf8) }

    @Test func aCardLineIsACardRecord() throws {
        let record = try Extract.decodeLine(line(#"{"type":"card","juminhyoCode":"12353597904","certSha256":"06fc1adc70bd6b7d5441d92f7eef3c93872b57a9ea870e7e99ab95ed83dff750"}"#))
        guard case .card(let card)? = record else {
            Issue.record("not a card: \(String(describing: record))")
            return
        }
        #expect(card.juminhyoCode == "12353597904")
    }

    @Test func theTrailerIsNil() throws {
        #expect(try Extract.decodeLine(line(#"{"type":"end","counts":{"resident":0,"seal":0,"card":0,"restriction":0},"sha256":"x"}"#)) == nil)
    }

    @Test(arguments: [
        (#"{"type":"card","juminhyoCode":"12353597904"}"#, "certSha256"),
        (#"{"type":"seal"}"#, "juminhyoCode"),
        (#"{"type":"house"}"#, "type"),
        (#"{"juminhyoCode":"12353597904"}"#, "type"),
        (#"{"type":"card","#, nil),
        ("{\"type\":\"end\"}\r", nil),
        ("", nil),
    ] as [(String, String?)])
    func aBadLineNamesLineOneAndItsField(text: String, field: String?) {
        do {
            let record = try Extract.decodeLine(line(text))
            Issue.record("accepted: \(String(describing: record))")
        } catch {
            #expect(error.line == 1)
            #expect(error.field == field)
        }
    }
}
