import Foundation
import KofuJSON
import Replica
import Testing

@Suite struct SQLiteReplicaTests {
    let folder = NSTemporaryDirectory() + "kofu-replica-\(UUID().uuidString)"
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func resident(_ code: String, household: String = "H1", order: Int = 1, name: String = "高槻　太郎", version: Int = 1) -> JSONValue {
        Feed.resident(["juminhyoCode": .string(code), "householdId": .string(household), "householdOrder": .number(JSONNumber(order)),
                       "name": .string(name), "version": .number(JSONNumber(version))])
    }

    func batch(_ events: [JSONValue]) throws -> SyncBatch { try SyncBatch.decode(Feed.batch(events)) }

    func code(_ body: [(String, JSONValue)], _ key: String = "juminhyoCode") -> [(String, JSONValue)] { body }

    @Test func appliesSkipsResentEventsAndRefusesGaps() throws {
        let store = try SQLiteReplica(folder: folder)
        let first = try batch([Feed.upsert(1, resident("11111111111")), Feed.upsert(2, resident("22222222222", order: 2))])
        #expect(try store.apply(first, at: now) == ApplyResult(applied: 2, skipped: 0, lastSeq: 2))
        #expect(try store.apply(first, at: now) == ApplyResult(applied: 0, skipped: 2, lastSeq: 2))  // resent: harmless
        let overlap = try batch([Feed.upsert(2, resident("22222222222", order: 2)), Feed.upsert(3, resident("33333333333", order: 3))])
        #expect(try store.apply(overlap, at: now) == ApplyResult(applied: 1, skipped: 1, lastSeq: 3))
        let gap = try batch([Feed.upsert(5, resident("44444444444"))])
        #expect(throws: ApplyError.sequenceGap(expected: 4)) { try store.apply(gap, at: now) }
        #expect(try store.status().residents == 3)
    }

    @Test func aBatchIsAllOrNothing() throws {
        let store = try SQLiteReplica(folder: folder)
        let bad = try batch([
            Feed.upsert(1, resident("11111111111")),
            Feed.event(2, "seal.abolish", [("juminhyoCode", .string("99999999999"))]),  // nobody
        ])
        do {
            _ = try store.apply(bad, at: now)
            Issue.record("applied")
        } catch {
            guard case .invalid(let e) = error else { Issue.record("\(error)"); return }
            #expect(e.index == 1 && e.seq == 2 && e.field == "juminhyoCode")
        }
        let status = try store.status()
        #expect(status.residents == 0 && status.lastSeq == 0 && status.lastAppliedAt == nil)
    }

    @Test func logicalDeletionHidesAndRestoreKeepsRestrictions() throws {
        let store = try SQLiteReplica(folder: folder)
        let restriction: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("11111111111")),
                                                         (key: "kind", value: .string("support-measure"))])!)
        _ = try store.apply(try batch([
            Feed.upsert(1, resident("11111111111")), Feed.upsert(2, resident("22222222222", order: 2)),
            Feed.event(3, "restriction.set", [("restriction", restriction)]),
            Feed.event(4, "resident.delete", [("juminhyoCode", .string("11111111111")), ("reason", .string("転出")),
                                              ("effectiveOn", .string("2026-11-20"))]),
        ]), at: now)
        #expect(try store.read { try $0.currentMembers(household: "H1") }.map(\.juminhyoCode) == ["22222222222"])
        var status = try store.status()
        #expect(status.residents == 1 && status.logicallyDeleted == 1 && status.restrictions == 1)
        _ = try store.apply(try batch([Feed.upsert(5, resident("11111111111", version: 2))]), at: now)  // 転出取消
        #expect(try store.read { try $0.currentMembers(household: "H1") }.map(\.juminhyoCode) == ["11111111111", "22222222222"])
        status = try store.status()
        #expect(status.logicallyDeleted == 0 && status.restrictions == 1)  // never lifted by a restore
    }

    @Test func staleVersionsChangeNothingButConsumeTheirSeq() throws {
        let store = try SQLiteReplica(folder: folder)
        _ = try store.apply(try batch([Feed.upsert(1, resident("11111111111", name: "新しい　名前", version: 5))]), at: now)
        let result = try store.apply(try batch([Feed.upsert(2, resident("11111111111", name: "古い　名前", version: 4))]), at: now)
        #expect(result == ApplyResult(applied: 1, skipped: 0, lastSeq: 2))
        #expect(try store.read { try $0.currentMembers(household: "H1") }.first?.name == "新しい　名前")
    }

    @Test func aCertificateIsBoundToOneResident() throws {
        let store = try SQLiteReplica(folder: folder)
        func card(_ code: String) -> JSONValue {
            .object(JSONObject([(key: "juminhyoCode", value: .string(code)), (key: "certSha256", value: .string(String(repeating: "0f", count: 32)))])!)
        }
        _ = try store.apply(try batch([Feed.upsert(1, resident("11111111111")), Feed.upsert(2, resident("22222222222", order: 2)),
                                       Feed.event(3, "card.bind", [("card", card("11111111111"))])]), at: now)
        let second = try batch([Feed.event(4, "card.bind", [("card", card("22222222222"))])])
        do {
            _ = try store.apply(second, at: now)
            Issue.record("bound twice")
        } catch {
            #expect(error == .invalid(InvalidEvent(index: 0, seq: 4, field: "card.certSha256", message: "this certificate is bound to another resident")))
        }
        #expect(try store.status().cards == 1)
    }

    @Test func textIsStoredByteExactlyAndSurvivesReopening() throws {
        let name = "\u{FA10}本\u{3000}葛\u{E0102}城"
        do {
            let store = try SQLiteReplica(folder: folder)
            _ = try store.apply(try batch([Feed.upsert(1, resident("11111111111", name: name))]), at: now)
        }
        let reopened = try SQLiteReplica(folder: folder)
        let stored = try #require(try reopened.read { try $0.currentMembers(household: "H1") }.first)
        #expect(Array(stored.name.utf8) == Array(name.utf8))
        #expect(try reopened.lastSeq() == 1)
        #expect(try reopened.status().lastAppliedAt == "2026-11-18T11:06:40Z")
    }
}

@Suite struct SnapshotTests {
    let folder = NSTemporaryDirectory() + "kofu-snapshot-\(UUID().uuidString)"

    @Test func aSnapshotDoesNotSeeBatchesCommittedDuringIt() throws {
        let store = try SQLiteReplica(folder: folder)
        let card: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("11111111111")),
                                                  (key: "certSha256", value: .string(String(repeating: "0f", count: 32)))])!)
        func upsert(_ seq: Int, _ code: String, _ order: Int, _ name: String, _ version: Int = 1) -> JSONValue {
            Feed.upsert(seq, Feed.resident(["juminhyoCode": .string(code), "householdOrder": .number(JSONNumber(order)),
                                            "name": .string(name), "version": .number(JSONNumber(version))]))
        }
        _ = try store.apply(try SyncBatch.decode(Feed.batch([upsert(1, "11111111111", 1, "旧　名"), upsert(2, "22222222222", 2, "旧　子"),
                                                              Feed.event(3, "card.bind", [("card", card)])])), at: Date())
        let later = try SyncBatch.decode(Feed.batch([upsert(4, "11111111111", 1, "新　名", 2), upsert(5, "22222222222", 2, "新　子", 2)]))
        let seen = try store.read { snapshot -> [String] in
            let requester = try #require(try snapshot.resident(forCard: String(repeating: "0f", count: 32)))
            _ = try store.apply(later, at: Date())  // commits while this request is reading
            return [requester.record.name] + (try snapshot.currentMembers(household: requester.record.householdId).map(\.name))
        }
        #expect(seen == ["旧　名", "旧　名", "旧　子"])  // all old, never a mix
        let after = try store.read { try $0.currentMembers(household: "H0001").map(\.name) }
        #expect(after == ["新　名", "新　子"])
    }

    @Test func deletedRequesterAndUnknownCard() throws {
        let store = try SQLiteReplica(folder: folder)
        let card: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("11111111111")),
                                                  (key: "certSha256", value: .string(String(repeating: "aa", count: 32)))])!)
        _ = try store.apply(try SyncBatch.decode(Feed.batch([
            Feed.upsert(1, Feed.resident(["juminhyoCode": .string("11111111111")])),
            Feed.event(2, "card.bind", [("card", card)]),
            Feed.event(3, "resident.delete", [("juminhyoCode", .string("11111111111")), ("reason", .string("死亡")),
                                              ("effectiveOn", .string("2026-11-20"))]),
        ])), at: Date())
        let (deleted, unknown, members, seal) = try store.read { snapshot throws in
            (try snapshot.resident(forCard: String(repeating: "aa", count: 32))?.deleted,
             try snapshot.resident(forCard: String(repeating: "bb", count: 32)),
             try snapshot.currentMembers(household: "H0001"), try snapshot.activeSeal("11111111111"))
        }
        #expect(deleted == true && unknown == nil && members.isEmpty && seal == nil)
    }
}
