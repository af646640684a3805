import Foundation
import KofuJSON
import Replica
import Testing
import Typesetting

enum Feed {
    static let testdata = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("../../../shared/testdata").standardizedFileURL.path

    static let seal = PNGImage.encode(width: 16, height: 16, colorComponents: 3,
                                      pixels: [UInt8](repeating: 200, count: 16 * 16 * 3), alpha: nil)

    static func resident(_ overrides: [String: JSONValue] = [:], removing: [String] = []) -> JSONValue {
        var members: [(String, JSONValue)] = [
            ("juminhyoCode", .string("12345678901")), ("householdId", .string("H0001")),
            ("householdOrder", .number(JSONNumber(1))), ("householdHeadName", .string("高槻　太郎")),
            ("name", .string("高槻　太郎")), ("nameKana", .string("タカツキ　タロウ")), ("birthDate", .string("1958-03-14")),
            ("sex", .string("男")), ("relationship", .string("世帯主")), ("address", .string("大阪府高槻市桃園町2番1号")),
            ("becameResidentOn", .string("1958-03-14")), ("addressSetOn", .string("1990-04-01")),
            ("addressNotifiedOn", .string("1990-04-02")), ("version", .number(JSONNumber(1))),
        ]
        members.removeAll { removing.contains($0.0) }
        for (key, value) in overrides {
            if let i = members.firstIndex(where: { $0.0 == key }) { members[i].1 = value } else { members.append((key, value)) }
        }
        return .object(JSONObject(members.map { (key: $0.0, value: $0.1) })!)
    }

    static func batch(_ events: [JSONValue]) -> [UInt8] {
        serialize(.object(JSONObject([(key: "events", value: .array(events))])!))
    }

    static func event(_ seq: Int, _ type: String, _ body: [(String, JSONValue)]) -> JSONValue {
        .object(JSONObject([(key: "seq", value: .number(JSONNumber(seq))), (key: "type", value: .string(type))]
            + body.map { (key: $0.0, value: $0.1) })!)
    }

    static func upsert(_ seq: Int, _ resident: JSONValue) -> JSONValue { event(seq, "resident.upsert", [("resident", resident)]) }

    static func refusal(_ bytes: [UInt8]) -> InvalidEvent? {
        do { _ = try SyncBatch.decode(bytes); return nil } catch { return error }
    }
}

@Suite struct FeedRecordTests {
    @Test func aBatchOfEveryEventTypeDecodes() throws {
        let card: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("12345678901")),
                                                  (key: "certSha256", value: .string(String(repeating: "ab", count: 32)))])!)
        let restriction: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("12345678901")),
                                                         (key: "kind", value: .string("support-measure"))])!)
        let impression: JSONValue = .object(JSONObject([(key: "png", value: .string(Data(Feed.seal).base64EncodedString())),
                                                        (key: "widthMm", value: .number(JSONNumber(15))),
                                                        (key: "heightMm", value: .number(JSONNumber(text: "15.5")!))])!)
        let seal: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("12345678901")),
                                                  (key: "registrationNumber", value: .string("R1")),
                                                  (key: "registeredOn", value: .string("2020-01-01")), (key: "impression", value: impression)])!)
        let events = [
            Feed.upsert(1041, Feed.resident()),
            Feed.event(1042, "resident.delete", [("juminhyoCode", .string("12345678901")), ("reason", .string("転出")),
                                                 ("effectiveOn", .string("2026-11-20"))]),
            Feed.event(1043, "seal.register", [("seal", seal)]),
            Feed.event(1044, "seal.abolish", [("juminhyoCode", .string("12345678901"))]),
            Feed.event(1045, "card.bind", [("card", card)]),
            Feed.event(1046, "card.unbind", [("card", card)]),
            Feed.event(1047, "restriction.set", [("restriction", restriction)]),
            Feed.event(1048, "restriction.clear", [("restriction", restriction)]),
        ]
        let batch = try SyncBatch.decode(Feed.batch(events))
        #expect(batch.events.map(\.seq) == Array(1041...1048))
        guard case .sealRegister(let s) = batch.events[2].change else { Issue.record("not a seal"); return }
        #expect(s.impression.png == Feed.seal && s.impression.heightMm == 15.5)
    }

    /// Each fault names the event's index, its seq and the field by its dotted path.
    @Test(arguments: [
        ("birthDate", JSONValue.string("1872-12-31"), "resident.birthDate"),
        ("birthDate", .string("2019-02-29"), "resident.birthDate"),
        ("birthDate", .string("2019/01/01"), "resident.birthDate"),
        ("juminhyoCode", .string("1234567890"), "resident.juminhyoCode"),
        ("juminhyoCode", .string("１２３４５６７８９０１"), "resident.juminhyoCode"),
        ("householdId", .string("H-1"), "resident.householdId"),
        ("householdOrder", .number(JSONNumber(0)), "resident.householdOrder"),
        ("sex", .string("M"), "resident.sex"),
        ("name", .string(""), "resident.name"),
        ("name", .string("田中\n太郎"), "resident.name"),
        ("name", .string("田中\u{85}太郎"), "resident.name"),
        ("name", .string("田中\u{FFFE}"), "resident.name"),
        ("name", .string(String(repeating: "鬱", count: 101)), "resident.name"),
        ("address", .string(String(repeating: "鬱", count: 161)), "resident.address"),
        ("relationship", .string(String(repeating: "子", count: 65)), "resident.relationship"),
        ("katagaki", .string(""), "resident.katagaki"),
        ("version", .string("1"), "resident.version"),
        ("individualNumber", .string("123456789012"), "resident.individualNumber"),  // 個人番号 is refused
        ("domicile", .object(JSONObject([(key: "address", value: .string("x"))])!), "resident.domicile.head"),
    ])
    func invalidFieldsAreNamed(key: String, value: JSONValue, field: String) {
        let bytes = Feed.batch([Feed.upsert(7, Feed.resident()), Feed.upsert(8, Feed.resident([key: value]))])
        let error = Feed.refusal(bytes)
        #expect(error?.index == 1 && error?.seq == 8)
        #expect(error?.field == field, "\(String(describing: error))")
    }

    @Test func missingAndStructuralFaults() {
        #expect(Feed.refusal(Feed.batch([Feed.upsert(1, Feed.resident(removing: ["nameKana"]))]))?.field == "resident.nameKana")
        #expect(Feed.refusal(Feed.batch([Feed.upsert(1, Feed.resident()), Feed.upsert(3, Feed.resident())]))?.field == "seq")
        #expect(Feed.refusal(Feed.batch([Feed.event(1, "resident.move", [])]))?.field == "type")
        #expect(Feed.refusal(Array(#"{"events":[],"extra":1}"#.utf8))?.field == "extra")
        #expect(Feed.refusal(Array(#"{"events":[{"seq":1,"seq":2}]}"#.utf8)) != nil)
        let bad = Feed.event(1, "seal.register", [("seal", .object(JSONObject([
            (key: "juminhyoCode", value: .string("12345678901")), (key: "registrationNumber", value: .string("R1")),
            (key: "registeredOn", value: .string("2020-01-01")),
            (key: "impression", value: .object(JSONObject([(key: "png", value: .string("bm90IGEgcG5n")),
                                                            (key: "widthMm", value: .number(JSONNumber(15))),
                                                            (key: "heightMm", value: .number(JSONNumber(15)))])!)),
        ])!))])
        #expect(Feed.refusal(Feed.batch([bad]))?.field == "seal.impression.png")
    }

    /// A lone surrogate escape or a raw control character can only be seen as bad JSON, but the
    /// structure around it is sound: the event and the field are named (seq is unreadable).
    @Test(arguments: [#"\ud800"#, #"a\udfff"#, #"\udc00\ud800"#, "\u{01}"])
    func badStringContentNamesTheEventAndField(raw: String) {
        let marker = "@@MARK@@"
        let text = String(decoding: Feed.batch([
            Feed.upsert(1, Feed.resident()),
            Feed.upsert(2, Feed.resident(["juminhyoCode": .string("12345678902"),
                                          "domicile": .object(JSONObject([(key: "address", value: .string("大阪府")),
                                                                          (key: "head", value: .string(marker))])!)])),
        ]), as: UTF8.self).replacingOccurrences(of: marker, with: raw)
        let refusal = Feed.refusal(Array(text.utf8))
        #expect(refusal?.index == 1 && refusal?.seq == nil && refusal?.field == "resident.domicile.head", "\(String(describing: refusal))")
        #expect(refusal?.isMalformedBatch == false)
        // Outside an event it stays a malformed batch.
        #expect(Feed.refusal(Array(#"{"events":[],"x":"\ud800"}"#.utf8))?.isMalformedBatch == true)
    }

    /// Every naughty string and every Japanese name edge case through the name field: stored
    /// byte-exactly, or refused naming `resident.name`. Never altered, never a crash.
    @Test func naughtyStringsAreKeptExactlyOrRefusedByField() throws {
        let blns = try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: Feed.testdata + "/blns.json"))))
        let names = try JSONParser.parse([UInt8](Data(contentsOf: URL(fileURLWithPath: Feed.testdata + "/jp-names.json"))))
        guard case .array(let naughty) = blns, case .array(let entries) = names else { Issue.record("corpora"); return }
        let texts = naughty + entries.compactMap { entry -> JSONValue? in
            guard case .object(let o) = entry else { return nil }
            return o["text"]
        }
        #expect(texts.count == 515 + 117)
        var accepted = 0
        for text in texts {
            guard case .string(let s) = text else { continue }
            do {
                let batch = try SyncBatch.decode(Feed.batch([Feed.upsert(1, Feed.resident(["name": text]))]))
                guard case .residentUpsert(let r) = batch.events[0].change else { Issue.record("not an upsert"); continue }
                #expect(Array(r.name.utf8) == Array(s.utf8))
                #expect(FeedText.problem(s, limit: .name) == nil)
                accepted += 1
            } catch {
                #expect(error.field == "resident.name", "\(error)")
                #expect(FeedText.problem(s, limit: .name) != nil)
            }
        }
        #expect(accepted > 500)
    }
}
