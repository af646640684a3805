import Foundation
import KofuJSON
@testable import Replica
import Testing

/// The store's own record format (`Resident.stored`) and integer keys: what goes in comes back
/// exactly, a damaged row is refused, and a store of the older JSON format is not read.
@Suite struct StoredRecordTests {
    func decoded(_ value: JSONValue) throws -> Resident {
        try StrictJSONDecoder().decode(Resident.self, from: serialize(value))
    }

    @Test func everyFieldRoundTripsByteExactly() throws {
        let full = try decoded(Feed.resident([
            "juminhyoCode": .string("00000000007"), "formerSurname": .string("葛\u{E0102}城"), "alias": .string("𠮷野"),
            "katagaki": .string("\u{FA10}ハイツ　１０１号"), "previousAddress": .string("東京都千代田区"),
            "domicile": .object(JSONObject([(key: "address", value: .string("大阪府高槻市")), (key: "head", value: .string("高槻　太郎"))])!),
            "householdOrder": .number(JSONNumber(12)), "version": .number(JSONNumber(9_007_199_254))]))
        let back = try Resident.stored(full.stored)
        #expect(back == full)
        for (a, b) in [(back.name, full.name), (back.katagaki!, full.katagaki!), (back.formerSurname!, full.formerSurname!)] {
            #expect(Array(a.utf8) == Array(b.utf8))
        }
        let foreign = try decoded(Feed.resident(["foreignResident": .object(JSONObject([
            (key: "nationality", value: .string("中国")), (key: "category", value: .string("中長期在留者")),
            (key: "status", value: .string("永住者")), (key: "periodOfStay", value: .string("無期限")),
            (key: "expiresOn", value: .string("2030-01-01")),
        ])!)]))
        #expect(try Resident.stored(foreign.stored) == foreign)
    }

    @Test func aDamagedRowIsRefusedNotGuessed() throws {
        let bytes = try decoded(Feed.resident()).stored
        for cut in [0, 1, bytes.count / 2, bytes.count - 1] {
            #expect(throws: StoredRecordError.self) { try Resident.stored(Array(bytes.prefix(cut))) }
        }
        #expect(throws: StoredRecordError.self) { try Resident.stored(bytes + [0]) }
        #expect(throws: StoredRecordError.self) { try Resident.stored(Array(serialize(Feed.resident()))) }  // a JSON record
        var badUTF8 = bytes
        badUTF8[3] = 0xFF  // inside the 住民票コード's bytes
        #expect(throws: StoredRecordError.self) { try Resident.stored(badUTF8) }
    }

    @Test func keysAreTheCodesValue() {
        #expect(StoreKey.of("00000000001") == 1)
        #expect(StoreKey.of("99999999999") == 99_999_999_999)
        for bad in ["", "1234567890", "123456789012", "1234567890a", "１２３４５６７８９０１", "-1234567890"] {
            #expect(StoreKey.of(bad) == nil)
        }
        #expect(StoreKey.code(1) == "00000000001")
        #expect(StoreKey.code(99_999_999_999) == "99999999999")
    }

    @Test func leadingZerosSurviveTheStore() throws {
        let folder = NSTemporaryDirectory() + "kofu-stored-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteReplica(folder: folder)
        let card = String(repeating: "ab", count: 32)
        _ = try store.apply(try SyncBatch.decode(Feed.batch([
            Feed.upsert(1, Feed.resident(["juminhyoCode": .string("00000000042"), "householdId": .string("H1")])),
            Feed.upsert(2, Feed.resident(["juminhyoCode": .string("00000000041"), "householdId": .string("H1"),
                                          "householdOrder": .number(JSONNumber(2))])),
            Feed.event(3, "card.bind", [("card", .object(JSONObject([(key: "juminhyoCode", value: .string("00000000042")),
                                                                     (key: "certSha256", value: .string(card))])!))]),
            Feed.event(4, "restriction.set", [("restriction", .object(JSONObject([(key: "juminhyoCode", value: .string("00000000041")),
                                                                                  (key: "kind", value: .string("support-measure"))])!))]),
        ])), at: Date())
        let (codes, carded, restricted, notACode) = try store.read { s in
            (try s.currentMemberCodes(household: "H1"), try s.resident(forCard: card)?.record.juminhyoCode,
             try s.restrictions("00000000041"), try s.restrictions("41"))
        }
        #expect(codes == ["00000000042", "00000000041"])
        #expect(carded == "00000000042")
        #expect(restricted == [.supportMeasure])
        #expect(notACode.isEmpty)  // not a code: matches nothing
    }

    @Test func aStoreOfTheJSONFormatIsRefusedWithWhatToDo() throws {
        let folder = NSTemporaryDirectory() + "kofu-stored-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        do {
            let store = try SQLiteReplica(folder: folder)
            _ = try store.apply(try SyncBatch.decode(Feed.batch([Feed.upsert(1, Feed.resident())])), at: Date())
            let c = try SQLiteConnection(path: store.file, create: false)
            try c.execute("DELETE FROM meta WHERE key = 'record_format'")
        }
        #expect { try SQLiteReplica(folder: folder) } throws: { "\($0)".contains("reseed the replica") }
    }
    /// The upsert writes the household columns only when they change; moving, reordering,
    /// restoring and a stale move must all still come out right.
    @Test func householdMovesReordersAndStaleMoves() throws {
        let folder = NSTemporaryDirectory() + "kofu-stored-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteReplica(folder: folder)
        func r(_ code: String, _ household: String, _ order: Int, _ version: Int, _ name: String = "高槻　太郎") -> JSONValue {
            Feed.resident(["juminhyoCode": .string(code), "householdId": .string(household), "householdOrder": .number(JSONNumber(order)),
                           "version": .number(JSONNumber(version)), "name": .string(name)])
        }
        func apply(_ events: [JSONValue]) throws { _ = try store.apply(try SyncBatch.decode(Feed.batch(events)), at: Date()) }
        func members(_ h: String) throws -> [String] { try store.read { try $0.currentMemberCodes(household: h) } }
        try apply([Feed.upsert(1, r("11111111111", "H1", 1, 1)), Feed.upsert(2, r("22222222222", "H1", 2, 1))])
        try apply([Feed.upsert(3, r("22222222222", "H1", 2, 2, "新　名")), Feed.upsert(4, r("11111111111", "H1", 3, 2))])  // reorder
        #expect(try members("H1") == ["22222222222", "11111111111"])
        try apply([Feed.upsert(5, r("22222222222", "H2", 1, 3))])  // a move
        #expect(try members("H1") == ["11111111111"])
        #expect(try members("H2") == ["22222222222"])
        try apply([Feed.upsert(6, r("22222222222", "H1", 1, 2))])  // stale: stays in H2
        #expect(try members("H2") == ["22222222222"])
        #expect(try store.read { try $0.currentMembers(household: "H2") }.first?.version == 3)
        try apply([Feed.event(7, "resident.delete", [("juminhyoCode", .string("22222222222")), ("reason", .string("転出")), ("effectiveOn", .string("2026-11-20"))])])
        #expect(try members("H2").isEmpty)
        try apply([Feed.upsert(8, r("22222222222", "H2", 1, 4))])  // restore, household unchanged
        #expect(try members("H2") == ["22222222222"])
    }
}
