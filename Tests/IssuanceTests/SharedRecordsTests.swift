import Foundation
import KofuJSON
import Replica
import Testing

@testable import Issuance

/// The idempotency records and the audit chain in PostgreSQL, as several servers share them.
/// Needs KOFU_TEST_POSTGRES_URL (scripts/test.sh); fails without it when KOFU_REQUIRE_POSTGRES=1.
@Suite struct SharedRecordsTests {
    static let url = ProcessInfo.processInfo.environment["KOFU_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let runs = url != nil || ProcessInfo.processInfo.environment["KOFU_REQUIRE_POSTGRES"] == "1"

    /// Two servers' stores on one namespace of their own.
    func servers() throws -> (SharedIssuanceRecords, SharedIssuanceRecords, PostgresIssuanceState) {
        let url = try #require(Self.url, "KOFU_REQUIRE_POSTGRES=1 but KOFU_TEST_POSTGRES_URL is not set")
        let namespace = "t_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(16)
        let a = try PostgresIssuanceState(url: url, namespace: namespace)
        let b = try PostgresIssuanceState(url: url, namespace: namespace)
        return (SharedIssuanceRecords(store: a), SharedIssuanceRecords(store: b), a)
    }

    func answer(_ requestId: String, issuanceId: String?, body: [UInt8]) -> StoredAnswer {
        StoredAnswer(requestId: requestId, endpoint: "issuances", payloadSHA256: Array(repeating: 7, count: 32), certSHA256: "ab",
                     status: 201, issuanceId: issuanceId, kind: issuanceId == nil ? nil : "juminhyo", pageCount: 1, copies: 1, body: body,
                     bodyExpiresAt: 2_000_000_000, expiresAt: 2_000_000_000)
    }

    func record(_ id: String) -> JSONObject {
        JSONObject([("type", .string("issuance")), ("issuanceId", .string(id)), ("copies", .number(JSONNumber(1)))])!
    }

    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)")) func theSameRequestIdCommittedOnTwoServersAtOnceKeepsOneIssuance() throws {
        let (a, b, store) = try servers()
        let rounds = 20
        final class Box: @unchecked Sendable {
            let lock = NSLock()
            var kept: [[StoredAnswer]] = [[], []]
            var errors: [String] = []
        }
        let box = Box()
        DispatchQueue.concurrentPerform(iterations: 2) { server in
            let records = server == 0 ? a : b
            for i in 0..<rounds {
                // Each server rendered its own answer (its own 交付番号 and bytes) for request i.
                let id = String(format: "%@%015d", server == 0 ? "A" : "B", i)
                let mine = answer("req-\(i)", issuanceId: id, body: Array("pdf of \(id)".utf8))
                do {
                    let kept = try records.commit([(audit: record(id), answer: mine),
                                                   (audit: nil, answer: answer("elig-\(server)-\(i)", issuanceId: nil, body: []))],
                                                  createdAt: 1)
                    box.lock.withLock { box.kept[server].append(kept[0]) }
                } catch {
                    box.lock.withLock { box.errors.append("\(error)") }
                }
            }
        }
        #expect(box.errors.isEmpty, "\(box.errors)")
        // Both servers answer every request with the same kept answer, and it is in the store.
        #expect(box.kept[0] == box.kept[1])
        for (i, kept) in box.kept[0].enumerated() {
            #expect(try a.answer(requestId: "req-\(i)") == kept)
            #expect(try b.issuance(kept.issuanceId!) != nil)
        }
        // One audit record per kept issuance, one chain, intact.
        let verification = SharedIssuanceRecords.verify(store)
        #expect(verification == AuditLog.Verification(records: rounds, fault: nil))
        let (log, _) = try store.auditExport()
        let text = String(decoding: log, as: UTF8.self)
        for kept in box.kept[0] { #expect(text.contains(kept.issuanceId!)) }
    }

    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)")) func outcomesAreRecordedOnceAcrossServersAndTheChainVerifies() throws {
        let (a, b, store) = try servers()
        _ = try a.commit([(audit: record("X000000000000001"), answer: answer("r1", issuanceId: "X000000000000001", body: [1]))], createdAt: 1)
        let outcome = JSONObject([("type", .string("outcome")), ("issuanceId", .string("X000000000000001")), ("outcome", .string("printed"))])!
        let first = try b.setOutcome("X000000000000001", outcome: "printed", recordedAt: "2026-12-02T00:00:00Z", audit: outcome)
        #expect(first?.outcome == "printed")
        let second = try a.setOutcome("X000000000000001", outcome: "failed", recordedAt: "2026-12-02T00:00:01Z", audit: outcome)
        #expect(second?.outcome == "printed" && second?.recordedAt == "2026-12-02T00:00:00Z")  // the first stays, nothing appended
        #expect(try a.setOutcome("X000000000000999", outcome: "printed", recordedAt: "t", audit: outcome) == nil)
        #expect(SharedIssuanceRecords.verify(store) == AuditLog.Verification(records: 2, fault: nil))
        // The stored lines are those AuditLog writes: the chain checks like a file's.
        let (log, head) = try store.auditExport()
        let folder = NSTemporaryDirectory() + "kofu-shared-audit-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data(log).write(to: URL(fileURLWithPath: folder + "/" + AuditLog.logName))
        try Data(try #require(head)).write(to: URL(fileURLWithPath: folder + "/" + AuditLog.headName))
        #expect(AuditLog.verify(folder: folder) == AuditLog.Verification(records: 2, fault: nil))
        // An edited record is found by its 交付番号.
        let edited = String(decoding: log, as: UTF8.self).replacingOccurrences(of: "\"copies\":1", with: "\"copies\":2")
        let fault = AuditLog.verify(log: Array(edited.utf8), head: head, headName: "head").fault
        #expect(fault?.contains("X000000000000001") == true && fault?.contains("edited") == true)
        // The keyed-hash key is one row, the same for every server.
        let key = try store.keyedHashKey()
        let again = try PostgresIssuanceState(url: Self.url!, namespace: store.namespace).keyedHashKey()
        #expect(key.count == 32 && again == key)
    }

    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)")) func purgeErasesBodiesThenForgetsAnswers() throws {
        let (a, _, _) = try servers()
        let old = StoredAnswer(requestId: "old", endpoint: "eligibility", payloadSHA256: [1], certSHA256: "c", status: 200,
                               issuanceId: nil, kind: nil, pageCount: 0, copies: 0, body: [9], bodyExpiresAt: 10, expiresAt: 20)
        _ = try a.commit([(audit: nil, answer: old)], createdAt: 1)
        #expect(try a.purge(now: 15) == 1)
        #expect(try a.answer(requestId: "old")?.body == nil)
        #expect(try a.answer(requestId: "old")?.status == 200)
        _ = try a.purge(now: 25)
        #expect(try a.answer(requestId: "old") == nil)
    }
}
