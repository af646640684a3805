import CardAuth
import Certificates
import Foundation
import KofuConfiguration
import KofuJSON
import KofuTesting
import Replica
import Testing

@testable import Issuance

/// Runs blocking work on Dispatch's global pool (the server uses NIOThreadPool).
struct DispatchRunner: WorkRunner {
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(IssuanceError) -> T) async throws(IssuanceError) -> T {
        let result: Result<T, IssuanceError> = await withCheckedContinuation { c in
            DispatchQueue.global().async {
                do throws(IssuanceError) { c.resume(returning: .success(try body())) } catch { c.resume(returning: .failure(error)) }
            }
        }
        return try result.get()
    }
}

/// The use case end to end on a real SQLite replica, real OpenSSL and real rendering, without
/// HTTP (the server tests add the wire).
final class Fixture: @unchecked Sendable {
    let municipality: TestMunicipality
    let config: KofuConfig
    let replica: SQLiteReplica
    let service: IssuanceService
    let hasher: KeyedHasher
    let state: IssuanceStateStore

    static let renderer: CertificateRenderer = {
        let root = Demo.repositoryRoot()!
        return try! CertificateRenderer(templatesDirectory: root + "/Templates", fonts: try! Demo.fontStack(root: root),
                                        municipality: try! Demo.municipality())
    }()

    init(minAge: Int = 15, hours: String = "00:00-24:00", closed: [String] = [], now: @escaping @Sendable () -> Date = { Date() }) throws {
        let folder = NSTemporaryDirectory() + "kofu-issuance-" + UUID().uuidString
        municipality = try TestMunicipality(root: Demo.repositoryRoot()!, folder: folder, centerPort: 18443, syncPort: 18444,
                                            hours: hours, closed: closed, minAge: minAge, pki: Fixture.pki)
        config = try KofuConfig.load(path: municipality.configPath)
        guard case .sqlite(let path) = config.replica else { throw IssuanceError(.internalError) }
        replica = try SQLiteReplica(folder: path)
        _ = try replica.apply(try SyncBatch.decode(municipality.batch()), at: Date())
        state = try IssuanceStateStore(folder: path)
        hasher = try KeyedHasher.loadOrCreate(folder: config.audit.path)
        let trust = try TrustStore(anchorFiles: config.trust.anchors, intermediateFiles: config.trust.intermediates,
                                   crlDirectory: config.trust.crlDir, policyOID: config.trust.policyOID)
        service = IssuanceService(settings: IssuanceSettings(config), replica: replica, state: state,
                                  audit: try AuditLog(folder: config.audit.path), trust: trust, renderer: Fixture.renderer,
                                  hasher: hasher, runner: DispatchRunner(), clock: now)
    }

    static let pki = try! TestPKI()

    func card(_ code: String) -> TestCard { municipality.resident(code).card }

    func eligibility(_ code: String, requestId: String = UUID().uuidString.lowercased()) async -> Result<Answer, IssuanceError> {
        await service.eligibility(card(code).sign(payload: TestMunicipality.payload(requestId: requestId)))
    }

    func issue(_ code: String, kind: String = "juminhyo", scope: String = "self", members: [String]? = nil,
               options: [(String, JSONValue)]? = nil, copies: Int = 1, requestId: String = UUID().uuidString.lowercased(),
               card: TestCard? = nil) async -> Result<Answer, IssuanceError> {
        var fields: [(String, JSONValue)] = [("kind", .string(kind)), ("scope", .string(scope)), ("copies", .number(JSONNumber(copies)))]
        if let members { fields.append(("members", .array(members.map { .string($0) }))) }
        if let options { fields.append(("options", .object(JSONObject(options.map { (key: $0.0, value: $0.1) })!))) }
        let jws = (card ?? self.card(code)).sign(payload: TestMunicipality.payload(requestId: requestId, fields))
        return await service.issue(jws)
    }

    func member(_ code: String) -> String { hasher.memberId(code) }
}

extension Result where Success == Answer, Failure == IssuanceError {
    var code: String {
        switch self {
        case .success: "OK"
        case .failure(let e): e.code.rawValue
        }
    }

    var pdf: [UInt8]? {
        if case .success(let a) = self, case .pdf(let bytes, _, _, _, _) = a.body { return bytes }
        return nil
    }

    var issuanceId: String? {
        if case .success(let a) = self, case .pdf(_, let id, _, _, _) = a.body { return id }
        return nil
    }

    var json: JSONValue? {
        if case .success(let a) = self, case .json(let bytes) = a.body { return try? JSONParser.parse(bytes) }
        return nil
    }
}

@Suite(.serialized) struct AuthorizationMatrixTests {
    @Test func eligibilityListsCurrentUnrestrictedMembersInOrder() async throws {
        let f = try Fixture()
        let answer = await f.eligibility("10000000001")
        let json = try #require(answer.json)
        guard case .object(let o) = json, case .array(let certificates)? = o["certificates"],
              case .object(let juminhyo) = certificates[0], case .array(let members)? = juminhyo["members"],
              case .object(let inkan) = certificates[1] else { Issue.record("shape"); return }
        #expect(members.count == 5)
        let names = members.compactMap { m -> String? in
            guard case .object(let mo) = m, case .string(let n)? = mo["displayName"] else { return nil }
            return n
        }
        #expect(names.map { Array($0.unicodeScalars) } == Demo.household().map { Array($0.name.unicodeScalars) })
        #expect(inkan["available"] == .bool(true))
        // H2: the restricted spouse is left out, the deleted child too; no seal.
        let other = try #require(await f.eligibility("20000000001").json)
        guard case .object(let oo) = other, case .array(let oc)? = oo["certificates"], case .object(let oj) = oc[0],
              case .array(let om)? = oj["members"], case .object(let oi) = oc[1] else { Issue.record("shape"); return }
        #expect(om.count == 1)
        #expect(oi["reason"] == .string("SEAL_NOT_REGISTERED"))
    }

    @Test func theMatrix() async throws {
        let f = try Fixture()
        // self, household, members
        #expect(await f.issue("10000000001").code == "OK")
        #expect(await f.issue("10000000002", scope: "household").code == "OK")
        #expect(await f.issue("10000000001", scope: "members", members: [f.member("10000000003"), f.member("10000000001")]).code == "OK")
        // another household's member, an unknown id, a deleted member
        #expect(await f.issue("10000000001", scope: "members", members: [f.member("20000000001")]).code == "NOT_SAME_HOUSEHOLD")
        #expect(await f.issue("10000000001", scope: "members", members: ["m_nobody"]).code == "NOT_SAME_HOUSEHOLD")
        #expect(await f.issue("20000000001", scope: "members", members: [f.member("20000000003")]).code == "NOT_SAME_HOUSEHOLD")
        // restricted member named explicitly or through the household; restricted requester
        #expect(await f.issue("20000000001", scope: "members", members: [f.member("20000000002")]).code == "ISSUANCE_RESTRICTED")
        #expect(await f.issue("20000000001", scope: "household").code == "ISSUANCE_RESTRICTED")
        #expect(await f.issue("20000000001").code == "OK")
        #expect(await f.issue("20000000002").code == "ISSUANCE_RESTRICTED")
        #expect(await f.issue("40000000001").code == "ISSUANCE_RESTRICTED")
        #expect(await f.eligibility("40000000001").code == "ISSUANCE_RESTRICTED")
        // deleted requester, unbound card
        #expect(await f.issue("20000000003").code == "REQUESTER_NOT_CURRENT")
        #expect(await f.issue("", card: f.municipality.unboundCard).code == "CARD_NOT_REGISTERED")
        // inkan: self with a seal; for others; without a seal
        #expect(await f.issue("10000000001", kind: "inkan").code == "OK")
        #expect(await f.issue("10000000001", kind: "inkan", scope: "household").code == "SELF_ONLY")
        #expect(await f.issue("10000000002", kind: "inkan").code == "SEAL_NOT_REGISTERED")
        #expect(await f.issue("10000000001", kind: "inkan", options: [("domicile", .bool(false))]).code == "OPTION_NOT_ALLOWED")
        // under age (7 years old), for eligibility too
        #expect(await f.issue("10000000004").code == "REQUESTER_UNDER_AGE")
        #expect(await f.eligibility("10000000004").code == "REQUESTER_UNDER_AGE")
        // 個人番号 / 住民票コード, whatever the value
        #expect(await f.issue("10000000001", options: [("individualNumber", .bool(false))]).code == "OPTION_NOT_ALLOWED")
        #expect(await f.issue("10000000001", options: [("residentCode", .string("x"))]).code == "OPTION_NOT_ALLOWED")
        #expect(await f.issue("10000000001", options: [("domicle", .bool(true))]).code == "MALFORMED_REQUEST")
        // a name no font draws: eligible, refused at issuance
        #expect(await f.eligibility("30000000001").code == "OK")
        #expect(await f.issue("30000000001").code == "GAIJI_UNRENDERABLE")
    }

    @Test func outsideServiceHoursAndClosedDays() async throws {
        let jstNow = JapanTime.minuteOfDay(Date())
        // A one-minute window well away from now.
        let start = (jstNow + 600) % (24 * 60 - 1)
        let hours = String(format: "%02d:%02d-%02d:%02d", start / 60, start % 60, (start + 1) / 60, (start + 1) % 60)
        let f = try Fixture(hours: hours)
        #expect(await f.eligibility("10000000001").code == "OUTSIDE_SERVICE_HOURS")
        #expect(await f.issue("10000000001").code == "OUTSIDE_SERVICE_HOURS")
        let today = JapanTime.date(Date())
        let g = try Fixture(closed: [String(format: "%02d-%02d", today.month, today.day)])
        #expect(await g.issue("10000000001").code == "OUTSIDE_SERVICE_HOURS")
    }

    @Test func thePrintedPeopleAreTheSubjectsInHouseholdOrder() async throws {
        let f = try Fixture()
        let answer = await f.issue("10000000001", scope: "members", members: [f.member("10000000005"), f.member("10000000002")],
                                   options: [("relationship", .bool(true)), ("foreignResidentItems", .bool(true))])
        let pdf = try #require(answer.pdf)
        let path = try Tools.temporaryFile(pdf)
        let text = Tools.squeezed(try Tools.pdfText(path))
        let household = Demo.household()
        let spouse = Tools.squeezed(household[1].name), foreign = Tools.squeezed(household[4].name)
        let a = try #require(text.range(of: spouse)), b = try #require(text.range(of: foreign))
        #expect(a.lowerBound < b.lowerBound)
        #expect(!text.contains(Tools.squeezed(household[2].name)))
        #expect(!text.contains("見本一郎"))
        #expect(text.contains(try #require(answer.issuanceId)))
        #expect(text.contains("世帯の一部"))
        #expect(try Tools.qpdfCheck(path).status == 0)
    }

    @Test func idempotencyAndReplay() async throws {
        let f = try Fixture()
        let id = UUID().uuidString.lowercased()
        let payload = TestMunicipality.payload(requestId: id, [("kind", .string("juminhyo")), ("scope", .string("self")),
                                                                ("copies", .number(JSONNumber(2)))])
        let jws = f.card("10000000001").sign(payload: payload)
        // Byte-identical requests at the same time: one issuance, the same bytes for all.
        let results = await withTaskGroup(of: Result<Answer, IssuanceError>.self) { group in
            for _ in 0..<8 { group.addTask { await f.service.issue(jws) } }
            var all: [Result<Answer, IssuanceError>] = []
            for await r in group { all.append(r) }
            return all
        }
        #expect(Set(results.compactMap(\.issuanceId)).count == 1)
        #expect(Set(results.compactMap(\.pdf)).count == 1)
        #expect(results.filter { if case .success(let a) = $0 { a.newIssuance != nil } else { false } }.count == 1)
        // Later, the same again: the same answer.
        let again = await f.service.issue(jws)
        #expect(again.issuanceId == results[0].issuanceId && again.pdf == results[0].pdf)
        // Another payload, or another card, with the same requestId.
        let other = TestMunicipality.payload(requestId: id, [("kind", .string("juminhyo")), ("scope", .string("self")),
                                                              ("copies", .number(JSONNumber(3)))])
        #expect(await f.service.issue(f.card("10000000001").sign(payload: other)).code == "REQUEST_REPLAYED")
        #expect(await f.service.issue(f.card("10000000002").sign(payload: payload)).code == "REQUEST_REPLAYED")
        #expect(await f.service.eligibility(f.card("10000000001").sign(payload: payload)).code != "OK")
        // A refusal is not recorded: the requestId stays free.
        let refusedId = UUID().uuidString.lowercased()
        #expect(await f.issue("10000000001", kind: "inkan", scope: "household", requestId: refusedId).code == "SELF_ONLY")
        #expect(await f.issue("10000000001", requestId: refusedId).code == "OK")
        // Only one audit record for the replayed issuance.
        let log = try String(contentsOfFile: f.config.audit.path + "/" + AuditLog.logName, encoding: .utf8)
        #expect(log.components(separatedBy: results[0].issuanceId!).count - 1 == 1)
        #expect(AuditLog.verify(folder: f.config.audit.path).fault == nil)
    }

    @Test func freshness() async throws {
        let f = try Fixture()
        for offset in [-301.0, 301.0] {
            let payload = TestMunicipality.payload(issuedAt: Date().addingTimeInterval(offset))
            #expect(await f.service.eligibility(f.card("10000000001").sign(payload: payload)).code == "REQUEST_EXPIRED")
        }
        let payload = TestMunicipality.payload(issuedAt: Date().addingTimeInterval(-290))
        #expect(await f.service.eligibility(f.card("10000000001").sign(payload: payload)).code == "OK")
    }

    @Test func outcomes() async throws {
        let f = try Fixture()
        let id = try #require(await f.issue("10000000001").issuanceId)
        let printed = Array(#"{"outcome":"printed"}"#.utf8)
        let first = await f.service.outcome(issuanceId: id, body: printed)
        #expect(first.code == "OK")
        #expect(await f.service.outcome(issuanceId: id, body: printed).json == first.json)
        #expect(await f.service.outcome(issuanceId: id, body: Array(#"{"outcome":"failed","detail":"paper jam"}"#.utf8)).code == "OUTCOME_CONFLICT")
        #expect(await f.service.outcome(issuanceId: "ZZZZZZZZZZZZZZZZ", body: printed).code == "ISSUANCE_NOT_FOUND")
        #expect(await f.service.outcome(issuanceId: "../x", body: printed).code == "ISSUANCE_NOT_FOUND")
        #expect(await f.service.outcome(issuanceId: id, body: Array(#"{"outcome":"lost"}"#.utf8)).code == "MALFORMED_REQUEST")
        #expect(await f.service.outcome(issuanceId: id, body: Array(#"{"outcome":"printed","x":1}"#.utf8)).code == "MALFORMED_REQUEST")
        let second = try #require(await f.issue("10000000001").issuanceId)
        #expect(await f.service.outcome(issuanceId: second, body: Array(#"{"outcome":"failed","detail":"jam"}"#.utf8)).code == "OK")
        let log = try String(contentsOfFile: f.config.audit.path + "/" + AuditLog.logName, encoding: .utf8)
        #expect(log.contains(#""outcome":"failed","void":true"#))
        #expect(AuditLog.verify(folder: f.config.audit.path) == AuditLog.Verification(records: 4, fault: nil))
    }

    @Test func theAuditLogHoldsNoPersonalData() async throws {
        let f = try Fixture()
        _ = await f.issue("10000000001", scope: "household", options: [("domicile", .bool(true))])
        _ = await f.issue("10000000001", kind: "inkan")
        let log = try String(contentsOfFile: f.config.audit.path + "/" + AuditLog.logName, encoding: .utf8)
        for r in f.municipality.residents {
            #expect(!log.contains(r.code))
            #expect(!log.contains(r.name))
        }
        #expect(!log.contains(Demo.address) && !log.contains("架空市"))
    }
}

@Suite struct RestartTests {
    @Test func anAnsweredRequestIsReplayedAfterARestart() async throws {
        let f = try Fixture()
        let payload = TestMunicipality.payload([("kind", .string("juminhyo")), ("scope", .string("household")),
                                                ("copies", .number(JSONNumber(1)))])
        let jws = f.card("10000000001").sign(payload: payload)
        let first = await f.service.issue(jws)
        let pdf = try #require(first.pdf)
        // A new process: every store opened again from its files.
        guard case .sqlite(let path) = f.config.replica else { return }
        let replica = try SQLiteReplica(folder: path)
        let trust = try TrustStore(anchorFiles: f.config.trust.anchors, intermediateFiles: f.config.trust.intermediates,
                                   crlDirectory: f.config.trust.crlDir, policyOID: f.config.trust.policyOID)
        let restarted = IssuanceService(settings: IssuanceSettings(f.config), replica: replica,
                                        state: try IssuanceStateStore(folder: path), audit: try AuditLog(folder: f.config.audit.path),
                                        trust: trust, renderer: Fixture.renderer,
                                        hasher: try KeyedHasher.loadOrCreate(folder: f.config.audit.path), runner: DispatchRunner())
        let again = await restarted.issue(jws)
        #expect(again.issuanceId == first.issuanceId)
        #expect(again.pdf == pdf)
        if case .success(let a) = again { #expect(a.newIssuance == nil) }
        // The memberIds are those of before the restart.
        #expect(try KeyedHasher.loadOrCreate(folder: f.config.audit.path).memberId("10000000001") == f.member("10000000001"))
        #expect(AuditLog.verify(folder: f.config.audit.path) == AuditLog.Verification(records: 1, fault: nil))
    }
}
