import Foundation
import KofuDigest
import KofuJSON
import KofuZlib
import Replica
import Testing

/// The backends of `ReplicaStore`. Every test of `ReplicaConformanceTests` runs unchanged on each.
/// PostgreSQL needs `KOFU_TEST_POSTGRES_URL` (scripts/test.sh starts a throwaway server and sets
/// it); without it its cases are left out with the reason shown by `PostgresAvailability`,
/// unless `KOFU_REQUIRE_POSTGRES=1`, in which case they run and fail.
enum Backend: String, CustomTestStringConvertible, Sendable {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static let postgresURL: String? = ProcessInfo.processInfo.environment["KOFU_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let postgresRequired = ProcessInfo.processInfo.environment["KOFU_REQUIRE_POSTGRES"] == "1"

    static var all: [Backend] { postgresURL != nil || postgresRequired ? [.sqlite, .postgres] : [.sqlite] }

    /// A new, empty replica location of its own (a folder, or a namespace in the test database),
    /// so that tests run in parallel.
    func fresh() throws -> Location {
        switch self {
        case .sqlite:
            return Location(backend: self, place: NSTemporaryDirectory() + "kofu-conformance-\(UUID().uuidString)")
        case .postgres:
            guard Self.postgresURL != nil else {
                throw MissingPostgres()
            }
            return Location(backend: self, place: "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16))
        }
    }

    struct MissingPostgres: Error, CustomStringConvertible {
        var description: String { "KOFU_REQUIRE_POSTGRES=1 but KOFU_TEST_POSTGRES_URL is not set: run scripts/test.sh (it starts PostgreSQL)" }
    }

    struct Location {
        let backend: Backend
        let place: String

        /// Opens the replica there, as another process (or server) would: a new store object.
        func open() throws -> any ReplicaStore {
            switch backend {
            case .sqlite: try SQLiteReplica(folder: place)
            case .postgres: try PostgresReplica(url: Backend.postgresURL!, namespace: place)
            }
        }

        /// The physical replicas present (store files, or generation schemas): one, except
        /// while a reseed builds the next.
        func storage() throws -> [String] {
            switch backend {
            case .sqlite:
                try FileManager.default.contentsOfDirectory(atPath: place)
                    .filter { $0.hasPrefix("replica-") && !$0.hasSuffix("-wal") && !$0.hasSuffix("-shm") }.sorted()
            case .postgres:
                try PostgresReplica(url: Backend.postgresURL!, namespace: place).generations()
            }
        }
    }
}

@Suite struct PostgresAvailability {
    @Test(.disabled(if: Backend.postgresURL == nil,
                    "KOFU_TEST_POSTGRES_URL is not set: the PostgreSQL cases of ReplicaConformanceTests did not run (scripts/test.sh starts a PostgreSQL)"))
    func thePostgreSQLCasesRun() throws {
        #expect(Backend.all.contains(.postgres))
        let store = try PostgresReplica(url: Backend.postgresURL!, namespace: "t_availability")
        #expect(try store.lastSeq() >= 0)
    }

    /// The server closes every connection of the store (a restart, a failover): the next read,
    /// apply and status each get a new connection instead of failing.
    @Test(.enabled(if: Backend.all.contains(.postgres), "KOFU_TEST_POSTGRES_URL is not set"))
    func connectionsTheServerClosedAreReplaced() throws {
        let location = try Backend.postgres.fresh()
        let store = try location.open()
        let batch = try SyncBatch.decode(Feed.batch([Feed.upsert(1, Feed.resident(["juminhyoCode": .string("11111111111")]))]))
        #expect(try store.apply(batch, at: Date()).lastSeq == 1)
        #expect(try store.read { try $0.currentMemberCodes(household: "H0001") } == ["11111111111"])
        let psql = Process()
        psql.executableURL = URL(fileURLWithPath: "/usr/bin/psql")
        psql.arguments = [Backend.postgresURL!, "-X", "-A", "-t", "-c",
                          "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE application_name = 'kofu \(location.place)'"]
        let out = Pipe()
        psql.standardOutput = out
        try psql.run()
        let terminated = Int(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
        psql.waitUntilExit()
        #expect(terminated >= 2)  // the writer and a pooled reader
        #expect(try store.read { try $0.currentMemberCodes(household: "H0001") } == ["11111111111"])
        let next = try SyncBatch.decode(Feed.batch([Feed.upsert(2, Feed.resident(["juminhyoCode": .string("22222222222"), "householdOrder": .number(JSONNumber(2))]))]))
        #expect(try store.apply(next, at: Date()).lastSeq == 2)
        #expect(try store.status().residents == 2)
    }

    @Test func aURLsPasswordIsNeverShown() {
        #expect(PostgresReplica.redacted("postgres://kofu:s3cret@db.example:5432/kofu") == "postgres://kofu:***@db.example:5432/kofu")
        #expect(PostgresReplica.redacted("postgres://kofu@db/kofu") == "postgres://kofu@db/kofu")
    }

    @Test func aBadNamespaceIsRefused() {
        #expect(throws: StoreError.self) { try PostgresReplica(url: "postgres://127.0.0.1:1/none", namespace: "x; DROP") }
    }
}

@Suite struct ReplicaConformanceTests {
    let now = Date(timeIntervalSince1970: 1_795_000_000)

    func resident(_ code: String, household: String = "H1", order: Int = 1, name: String = "高槻　太郎", version: Int = 1) -> JSONValue {
        Feed.resident(["juminhyoCode": .string(code), "householdId": .string(household), "householdOrder": .number(JSONNumber(order)),
                       "name": .string(name), "version": .number(JSONNumber(version))])
    }

    func batch(_ events: [JSONValue]) throws -> SyncBatch { try SyncBatch.decode(Feed.batch(events)) }

    func card(_ code: String, _ hex: String = "0f") -> JSONValue {
        .object(JSONObject([(key: "juminhyoCode", value: .string(code)), (key: "certSha256", value: .string(String(repeating: hex, count: 32)))])!)
    }

    func seal(_ code: String, widthMm: String = "15.3") -> JSONValue {
        let impression: JSONValue = .object(JSONObject([(key: "png", value: .string(Data(Feed.seal).base64EncodedString())),
                                                        (key: "widthMm", value: .number(JSONNumber(text: widthMm)!)),
                                                        (key: "heightMm", value: .number(JSONNumber(15)))])!)
        return .object(JSONObject([(key: "juminhyoCode", value: .string(code)), (key: "registrationNumber", value: .string("R1")),
                                   (key: "registeredOn", value: .string("2020-01-01")), (key: "impression", value: impression)])!)
    }

    @Test(arguments: Backend.all) func appliesSkipsResentEventsAndRefusesGaps(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        let first = try batch([Feed.upsert(1, resident("11111111111")), Feed.upsert(2, resident("22222222222", order: 2))])
        #expect(try store.apply(first, at: now) == ApplyResult(applied: 2, skipped: 0, lastSeq: 2))
        #expect(try store.apply(first, at: now) == ApplyResult(applied: 0, skipped: 2, lastSeq: 2))  // resent: harmless
        let overlap = try batch([Feed.upsert(2, resident("22222222222", order: 2)), Feed.upsert(3, resident("33333333333", order: 3))])
        #expect(try store.apply(overlap, at: now) == ApplyResult(applied: 1, skipped: 1, lastSeq: 3))
        let gap = try batch([Feed.upsert(5, resident("44444444444"))])
        #expect(throws: ApplyError.sequenceGap(expected: 4)) { try store.apply(gap, at: now) }
        #expect(try store.status().residents == 3)
        #expect(try store.lastSeq() == 3)
    }

    @Test(arguments: Backend.all) func aBatchIsAllOrNothing(_ backend: Backend) throws {
        let store = try backend.fresh().open()
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
        // The store is usable after a refused batch (the transaction was rolled back).
        #expect(try store.apply(try batch([Feed.upsert(1, resident("11111111111"))]), at: now).lastSeq == 1)
    }

    @Test(arguments: Backend.all) func logicalDeletionHidesAndRestoreKeepsRestrictions(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        let restriction: JSONValue = .object(JSONObject([(key: "juminhyoCode", value: .string("11111111111")),
                                                         (key: "kind", value: .string("support-measure"))])!)
        _ = try store.apply(try batch([
            Feed.upsert(1, resident("11111111111")), Feed.upsert(2, resident("22222222222", order: 2)),
            Feed.event(3, "restriction.set", [("restriction", restriction)]),
            Feed.event(4, "restriction.set", [("restriction", restriction)]),  // twice: still one
            Feed.event(5, "resident.delete", [("juminhyoCode", .string("11111111111")), ("reason", .string("転出")),
                                              ("effectiveOn", .string("2026-11-20"))]),
        ]), at: now)
        #expect(try store.read { try $0.currentMembers(household: "H1") }.map(\.juminhyoCode) == ["22222222222"])
        #expect(try store.read { try $0.currentMemberCodes(household: "H1") } == ["22222222222"])
        var status = try store.status()
        #expect(status.residents == 1 && status.logicallyDeleted == 1 && status.restrictions == 1 && status.households == 1)
        _ = try store.apply(try batch([Feed.upsert(6, resident("11111111111", version: 2))]), at: now)  // 転出取消
        #expect(try store.read { try $0.currentMembers(household: "H1") }.map(\.juminhyoCode) == ["11111111111", "22222222222"])
        status = try store.status()
        #expect(status.logicallyDeleted == 0 && status.restrictions == 1)  // never lifted by a restore
        #expect(try store.read { try $0.restrictions("11111111111") } == [.supportMeasure])
        _ = try store.apply(try batch([Feed.event(7, "restriction.clear", [("restriction", restriction)])]), at: now)
        #expect(try store.read { try $0.restrictions("11111111111") }.isEmpty)
    }

    @Test(arguments: Backend.all) func staleVersionsChangeNothingButConsumeTheirSeq(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        _ = try store.apply(try batch([Feed.upsert(1, resident("11111111111", name: "新しい　名前", version: 5))]), at: now)
        let result = try store.apply(try batch([Feed.upsert(2, resident("11111111111", name: "古い　名前", version: 4))]), at: now)
        #expect(result == ApplyResult(applied: 1, skipped: 0, lastSeq: 2))
        #expect(try store.read { try $0.currentMembers(household: "H1") }.first?.name == "新しい　名前")
        // The same version again is applied (not stale).
        _ = try store.apply(try batch([Feed.upsert(3, resident("11111111111", name: "同じ　版", version: 5))]), at: now)
        #expect(try store.read { try $0.currentMembers(household: "H1") }.first?.name == "同じ　版")
    }

    @Test(arguments: Backend.all) func aCertificateIsBoundToOneResident(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        _ = try store.apply(try batch([Feed.upsert(1, resident("11111111111")), Feed.upsert(2, resident("22222222222", order: 2)),
                                       Feed.event(3, "card.bind", [("card", card("11111111111"))])]), at: now)
        let second = try batch([Feed.event(4, "card.bind", [("card", card("22222222222"))])])
        do {
            _ = try store.apply(second, at: now)
            Issue.record("bound twice")
        } catch {
            #expect(error == .invalid(InvalidEvent(index: 0, seq: 4, field: "card.certSha256", message: "this certificate is bound to another resident")))
        }
        let unbindOthers = try batch([Feed.event(4, "card.unbind", [("card", card("22222222222"))])])
        #expect(throws: ApplyError.invalid(InvalidEvent(index: 0, seq: 4, field: "card.certSha256",
                                                        message: "this certificate is bound to another resident"))) {
            try store.apply(unbindOthers, at: now)
        }
        #expect(try store.status().cards == 1)
        #expect(try store.read { try $0.resident(forCard: String(repeating: "0f", count: 32)) }?.record.juminhyoCode == "11111111111")
        _ = try store.apply(try batch([Feed.event(4, "card.unbind", [("card", card("11111111111"))])]), at: now)
        #expect(try store.read { try $0.resident(forCard: String(repeating: "0f", count: 32)) } == nil)
    }

    @Test(arguments: Backend.all) func textAndSealsAreStoredByteExactlyAndSurviveReopening(_ backend: Backend) throws {
        let location = try backend.fresh()
        let name = "\u{FA10}本\u{3000}葛\u{E0102}城"
        do {
            let store = try location.open()
            _ = try store.apply(try batch([Feed.upsert(1, resident("11111111111", name: name)),
                                           Feed.event(2, "seal.register", [("seal", seal("11111111111"))])]), at: now)
        }
        let reopened = try location.open()
        let stored = try #require(try reopened.read { try $0.currentMembers(household: "H1") }.first)
        #expect(Array(stored.name.utf8) == Array(name.utf8))
        #expect(!stored.name.unicodeScalars.elementsEqual("\u{585A}本\u{3000}葛\u{E0102}城".unicodeScalars))
        let activeSeal = try #require(try reopened.read { try $0.activeSeal("11111111111") })
        #expect(activeSeal.png == Feed.seal && activeSeal.widthMm == 15.3 && activeSeal.heightMm == 15 && activeSeal.registrationNumber == "R1")
        #expect(try reopened.lastSeq() == 2)
        #expect(try reopened.status().lastAppliedAt == "2026-11-18T11:06:40Z")
        #expect(try reopened.status().seals == 1)
        _ = try reopened.apply(try batch([Feed.event(3, "seal.abolish", [("juminhyoCode", .string("11111111111"))])]), at: now)
        #expect(try reopened.read { try $0.activeSeal("11111111111") } == nil)
        #expect(try reopened.status().seals == 0)
    }

    @Test(arguments: Backend.all) func aSnapshotDoesNotSeeBatchesCommittedDuringIt(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        func upsert(_ seq: Int, _ code: String, _ order: Int, _ name: String, _ version: Int = 1) -> JSONValue {
            Feed.upsert(seq, Feed.resident(["juminhyoCode": .string(code), "householdOrder": .number(JSONNumber(order)),
                                            "name": .string(name), "version": .number(JSONNumber(version))]))
        }
        _ = try store.apply(try SyncBatch.decode(Feed.batch([upsert(1, "11111111111", 1, "旧　名"), upsert(2, "22222222222", 2, "旧　子"),
                                                              Feed.event(3, "card.bind", [("card", card("11111111111"))])])), at: Date())
        let later = try SyncBatch.decode(Feed.batch([upsert(4, "11111111111", 1, "新　名", 2), upsert(5, "22222222222", 2, "新　子", 2)]))
        let seen = try store.read { snapshot -> [String] in
            let requester = try #require(try snapshot.resident(forCard: String(repeating: "0f", count: 32)))
            _ = try store.apply(later, at: Date())  // commits while this request is reading
            // Another reader started now sees the commit; this one does not.
            #expect(try store.read { try $0.currentMembers(household: "H0001").map(\.name) } == ["新　名", "新　子"])
            return [requester.record.name] + (try snapshot.currentMembers(household: requester.record.householdId).map(\.name))
        }
        #expect(seen == ["旧　名", "旧　名", "旧　子"])  // all old, never a mix
        let after = try store.read { try $0.currentMembers(household: "H0001").map(\.name) }
        #expect(after == ["新　名", "新　子"])
    }

    @Test(arguments: Backend.all) func deletedRequesterAndUnknownCard(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        _ = try store.apply(try SyncBatch.decode(Feed.batch([
            Feed.upsert(1, Feed.resident(["juminhyoCode": .string("11111111111")])),
            Feed.event(2, "card.bind", [("card", card("11111111111", "aa"))]),
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

    /// Two store objects on one location (two processes, or two servers on one database) apply
    /// the same feed at once: every event is applied exactly once.
    @Test(arguments: Backend.all) func concurrentAppliersApplyEachEventOnce(_ backend: Backend) throws {
        let location = try backend.fresh()
        let stores = [try location.open(), try location.open()]
        let batches = try (0..<20).map { b in
            try batch((1...5).map { i in
                let seq = b * 5 + i
                return Feed.upsert(seq, resident(String(format: "%011d", seq), household: "H\(seq % 7)", order: seq))
            })
        }
        let applied = Counter()
        DispatchQueue.concurrentPerform(iterations: 2) { worker in
            for b in batches {
                do {
                    applied.add(try stores[worker].apply(b, at: now).applied)
                } catch {
                    applied.fail("\(error)")
                }
            }
        }
        #expect(applied.failures.isEmpty, "\(applied.failures)")
        #expect(applied.value == 100)
        #expect(try stores[0].status().residents == 100 && stores[1].lastSeq() == 100)
    }

    final class Counter: @unchecked Sendable {
        private let lock = NSLock()
        private var n = 0
        private var errors: [String] = []
        func add(_ k: Int) { lock.withLock { n += k } }
        func fail(_ e: String) { lock.withLock { errors.append(e) } }
        var value: Int { lock.withLock { n } }
        var failures: [String] { lock.withLock { errors } }
    }

    // MARK: reseed

    func extractFile(_ bytes: [UInt8], gzip: Bool = true) throws -> String {
        let path = NSTemporaryDirectory() + "kofu-conformance-extract-\(UUID().uuidString).jsonl" + (gzip ? ".gz" : "")
        try Data(gzip ? Zlib.deflate(bytes, gzip: true) : bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test(.timeLimit(.minutes(1)), arguments: Backend.all) func reseedSwitchesAtomicallyAndDeletesTheOld(_ backend: Backend) throws {
        let location = try backend.fresh()
        let store = try location.open()
        _ = try store.apply(try batch([
            Feed.upsert(1, Extracts.resident("11111111111")), Feed.upsert(2, Extracts.resident("33333333333", order: 3)),
            Feed.event(3, "card.bind", [("card", card("33333333333", "cc"))]),
        ]), at: now)
        let oldStorage = try location.storage()
        #expect(oldStorage.count == 1)
        let path = try extractFile(Extracts.make([Extracts.line("resident", Extracts.resident("11111111111")),
                                                  Extracts.line("card", Extracts.card("11111111111", "ab")),
                                                  Extracts.line("resident", Extracts.resident("22222222222", order: 2))], asOfSeq: 900))

        // A request reading while the switch happens finishes on the old data; a read that starts
        // after the switch sees the new. (The reseed runs beside the read: on PostgreSQL the old
        // generation's drop waits for reads still on it.)
        let result = ReseedResult()
        let (before, stillBefore) = try store.read { snapshot throws -> ([String], [String]) in
            let before = try snapshot.currentMembers(household: "H1").map(\.juminhyoCode)
            let thread = Thread {
                do { result.set(.success(try store.reseed(extractFile: path, municipality: "272078", at: self.now))) } catch { result.set(.failure(error)) }
            }
            thread.start()
            var switched = false
            for _ in 0..<3000 where !switched {
                switched = try store.read { try $0.currentMembers(household: "H1").map(\.juminhyoCode) } == ["11111111111", "22222222222"]
                if !switched { usleep(10_000) }
            }
            #expect(switched)
            return (before, try snapshot.currentMembers(household: "H1").map(\.juminhyoCode))
        }
        #expect(before == ["11111111111", "33333333333"] && stillBefore == before)
        let summary = try result.wait().get()
        #expect(summary.residents == 2 && summary.cards == 1 && summary.droppedResidents == 1 && summary.droppedCards == 1 && summary.lastSeq == 900)
        #expect(try store.read { try $0.currentMembers(household: "H1").map(\.juminhyoCode) } == ["11111111111", "22222222222"])
        // The resident left out of the extract is unreachable, by card or by household.
        #expect(try store.read { try $0.resident(forCard: String(repeating: "cc", count: 32)) } == nil)
        #expect(try store.read { try $0.resident(forCard: String(repeating: "ab", count: 32)) }?.record.juminhyoCode == "11111111111")
        // 物理削除: one physical replica remains, not the old one.
        let newStorage = try location.storage()
        #expect(newStorage.count == 1 && newStorage != oldStorage)
        let status = try store.status()
        #expect(status.lastSeq == 900 && status.reseededAt == "2026-11-18T11:06:40Z" && status.residents == 2 && status.cards == 1)
        // The feed continues from asOfSeq + 1.
        #expect(throws: ApplyError.sequenceGap(expected: 901)) {
            try store.apply(try batch([Feed.upsert(905, Extracts.resident("44444444444"))]), at: now)
        }
        #expect(try store.apply(try batch([Feed.upsert(901, Extracts.resident("44444444444", order: 4))]), at: now).lastSeq == 901)
        // Another process opening the location sees the new replica.
        #expect(try location.open().status().residents == 3)
    }

    final class ReseedResult: @unchecked Sendable {
        private let done = DispatchSemaphore(value: 0)
        private var value: Result<ReseedSummary, any Error>?
        func set(_ r: Result<ReseedSummary, any Error>) { value = r; done.signal() }
        func wait() -> Result<ReseedSummary, any Error> { done.wait(); return value! }
    }

    @Test(arguments: Backend.all) func aRefusedReseedLeavesTheLiveReplicaServing(_ backend: Backend) throws {
        let location = try backend.fresh()
        let store = try location.open()
        _ = try store.apply(try batch([Feed.upsert(1, Extracts.resident("11111111111")),
                                       Feed.event(2, "card.bind", [("card", card("11111111111", "ab"))])]), at: now)
        let storage = try location.storage()
        // Many good lines first (several COPY flushes on PostgreSQL), then a fault near the end.
        var lines = (0..<3000).map { Extracts.line("resident", Extracts.resident(String(format: "5%010d", $0), household: "B\($0 / 4)", order: $0 % 4 + 1)) }
        lines.append(Extracts.line("resident", Feed.resident(["juminhyoCode": .string("66666666666"), "birthDate": .string("1958-13-01")])))
        lines.append(Extracts.line("resident", Extracts.resident("77777777777")))
        let badLine = try extractFile(Extracts.make(lines))
        do {
            _ = try store.reseed(extractFile: badLine, municipality: "272078", at: now)
            Issue.record("switched")
        } catch {
            guard case .extract(let e) = error else { Issue.record("\(error)"); return }
            #expect(e.line == 3002 && e.field == "birthDate")
        }
        let badChecksum = Extracts.make([Extracts.line("resident", Extracts.resident("22222222222"))], checksum: String(repeating: "0", count: 64))
        #expect(throws: ReseedError.self) { try store.reseed(extractFile: try extractFile(badChecksum, gzip: false), municipality: "272078", at: now) }
        // Nothing switched, nothing left behind, the live replica answers as before.
        #expect(try location.storage() == storage)
        #expect(try store.read { try $0.resident(forCard: String(repeating: "ab", count: 32)) }?.record.juminhyoCode == "11111111111")
        let status = try store.status()
        #expect(status.lastSeq == 2 && status.residents == 1 && status.reseededAt == nil)
        #expect(try store.apply(try batch([Feed.upsert(3, Extracts.resident("22222222222", order: 2))]), at: now).lastSeq == 3)
        // A good extract afterwards switches.
        lines.removeLast(2)
        let summary = try store.reseed(extractFile: try extractFile(Extracts.make(lines, asOfSeq: 40)), municipality: "272078", at: now)
        #expect(summary.residents == 3000 && summary.droppedResidents == 2 && summary.droppedCards == 1)
        #expect(try store.status().residents == 3000 && store.lastSeq() == 40)
        #expect(try store.read { try $0.currentMemberCodes(household: "B10") } == (40..<44).map { String(format: "5%010d", $0) })
        #expect(try location.storage().count == 1)
    }

    @Test(arguments: Backend.all) func anInMemoryReseedAndADryRun(_ backend: Backend) throws {
        let store = try backend.fresh().open()
        _ = try store.apply(try batch([Feed.upsert(1, Extracts.resident("11111111111")),
                                       Feed.event(2, "seal.register", [("seal", seal("11111111111"))])]), at: now)
        let extract = try Extract.validate(bytes: Extracts.make([Extracts.line("resident", Extracts.resident("22222222222"))]), municipality: "272078")
        let dry = try store.summary(of: extract)
        #expect(dry.droppedResidents == 1 && dry.droppedSeals == 1 && dry.residents == 1)
        #expect(try store.status().lastSeq == 2 && store.status().residents == 1)  // nothing changed
        let summary = try store.reseed(extract, at: now)
        #expect(summary == dry)
        #expect(try store.status().residents == 1 && store.status().seals == 0 && store.lastSeq() == 500)
        #expect(try store.read { try $0.activeSeal("11111111111") } == nil)
    }
}
