import Foundation
import KofuDigest
import KofuHTTPClient
import KofuJSON
import KofuServer
import KofuTesting
import Testing

/// The Center API through real HTTP on loopback: every row of center-api.md's error table from
/// the input that should produce it, the order of precedence, and the success headers.
@Suite(.serialized) struct CenterAPITests {
    static func b64url(_ s: String) -> String { TestCard.base64url(Array(s.utf8)) }

    @Test func transportRowsAndUnknownPaths() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        // 404 before any check of content type or body, on both listeners.
        try await h.center("POST", "/v1/nothing", Array("x".utf8), contentType: "text/plain").expectProblem(404, "NOT_FOUND")
        try await h.center("GET", "/", nil, contentType: nil).expectProblem(404, "NOT_FOUND")
        try await h.sync("POST", "/v1/eligibility", Array("x".utf8)).expectProblem(404, "NOT_FOUND")
        try await h.center("POST", "/v1/sync/batches", h.municipality.batch(), contentType: "application/json").expectProblem(404, "NOT_FOUND")
        // 413 before parsing, by Content-Length and by a chunked body; 413 before 415.
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 64 * 1024 + 1)
        try await h.center("POST", "/v1/issuances", big, contentType: "text/plain").expectProblem(413, "PAYLOAD_TOO_LARGE")
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: h.municipality.centerPort)
        let chunked = try await connection.sendChunked(method: "POST", path: "/v1/eligibility",
                                                       headers: [("Content-Type", "application/jose")],
                                                       chunks: Array(repeating: [UInt8](repeating: 0x41, count: 16 * 1024), count: 5))
        await connection.close()
        chunked.expectProblem(413, "PAYLOAD_TOO_LARGE")
        // 415
        try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"), contentType: "application/json")
            .expectProblem(415, "UNSUPPORTED_MEDIA_TYPE")
        try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"), contentType: nil)
            .expectProblem(415, "UNSUPPORTED_MEDIA_TYPE")
        #expect(try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"),
                                   contentType: "Application/JOSE; charset=utf-8").status == 200)
    }

    @Test func aBodyOfUpTo64KiBIsJudgedInFull() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        // Insignificant white space in the payload, up to just under 64 KiB of JWS.
        let plain = TestMunicipality.payload()
        let spaced = [UInt8(ascii: "{")] + [UInt8](repeating: 0x20, count: 46_000) + plain.dropFirst()
        let jws = h.card("10000000001").sign(payload: Array(spaced))
        #expect(jws.count <= 64 * 1024 && jws.count > 60 * 1024)
        let r = try await h.center("POST", "/v1/eligibility", jws)
        #expect(r.status == 200, "\(r.bodyText)")
    }

    @Test func malformedRequests() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let card = h.card("10000000001")
        let good = String(decoding: h.eligibility("10000000001"), as: UTF8.self)
        let parts = good.split(separator: ".", omittingEmptySubsequences: false).map(String.init)
        let payloadWith = { (text: String) in card.sign(payload: Array(text.utf8)) }
        let id = UUID().uuidString.lowercased()
        let common = #""requestId":"\#(id)","issuedAt":"\#(TestMunicipality.rfc3339(Date()))","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}"#
        let cases: [(String, [UInt8])] = [
            ("not a JWS", Array("hello".utf8)),
            ("two segments", Array((parts[0] + "." + parts[1]).utf8)),
            ("padding", Array((parts[0] + "=." + parts[1] + "." + parts[2]).utf8)),
            ("a + in base64url", Array((parts[0] + "." + parts[1] + "+." + parts[2]).utf8)),
            ("duplicate key", payloadWith("{\(common),\"requestId\":\"\(id)\"}")),
            ("trailing data", payloadWith("{\(common)} {}")),
            ("unknown field", payloadWith("{\(common),\"extra\":1}")),
            ("unknown terminal field", payloadWith(#"{"requestId":"\#(id)","issuedAt":"\#(TestMunicipality.rfc3339(Date()))","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1","x":1}}"#)),
            ("missing field", payloadWith(#"{"requestId":"\#(id)","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}}"#)),
            ("bad date", payloadWith(#"{"requestId":"\#(id)","issuedAt":"2026-13-01T00:00:00Z","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}}"#)),
            ("not a uuid", payloadWith(#"{"requestId":"abc","issuedAt":"\#(TestMunicipality.rfc3339(Date()))","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}}"#)),
            ("terminal too long", payloadWith(#"{"requestId":"\#(id)","issuedAt":"\#(TestMunicipality.rfc3339(Date()))","municipality":"999997","terminal":{"terminalId":"\#(String(repeating: "K", count: 33))","storeCode":"S1"}}"#)),
            ("two x5c", card.sign(payload: TestMunicipality.payload(), header: Array(#"{"alg":"RS256","typ":"kofu-request","x5c":["\#(Data(card.certificateDER).base64EncodedString())","\#(Data(card.certificateDER).base64EncodedString())"]}"#.utf8))),
        ]
        for (name, body) in cases {
            let r = try await h.center("POST", "/v1/eligibility", body)
            #expect(r.code == "MALFORMED_REQUEST", "\(name): \(r.bodyText)")
            r.expectProblem(400, "MALFORMED_REQUEST")
        }
        let issuanceCases: [(String, [UInt8])] = [
            ("copies 0", card.sign(payload: Harness.issuancePayload(copies: 0))),
            ("copies 11", card.sign(payload: Harness.issuancePayload(copies: 11))),
            ("kind", card.sign(payload: Harness.issuancePayload(kind: "koseki"))),
            ("scope", card.sign(payload: Harness.issuancePayload(scope: "all"))),
            ("members without scope members", card.sign(payload: Harness.issuancePayload(members: ["m_x"]))),
            ("scope members without members", card.sign(payload: Harness.issuancePayload(scope: "members"))),
            ("empty members", card.sign(payload: Harness.issuancePayload(scope: "members", members: []))),
            ("duplicate members", card.sign(payload: Harness.issuancePayload(scope: "members", members: ["m_a", "m_a"]))),
            ("unknown option", card.sign(payload: Harness.issuancePayload(options: [("domicle", .bool(true))]))),
            ("option not boolean", card.sign(payload: Harness.issuancePayload(options: [("domicile", .string("yes"))]))),
        ]
        for (name, body) in issuanceCases {
            let r = try await h.center("POST", "/v1/issuances", body)
            #expect(r.code == "MALFORMED_REQUEST", "\(name): \(r.bodyText)")
        }
        // X-Request-Id is the payload's requestId once it was decoded, even when a later check fails.
        let rid = UUID().uuidString.lowercased()
        let r = try await h.center("POST", "/v1/issuances", h.issuance("10000000001", kind: "inkan", scope: "household", requestId: rid))
        r.expectProblem(403, "SELF_ONLY")
        #expect(r.header("X-Request-Id") == rid)
    }

    @Test func authenticationRowsAndTheirOrder() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let pki = Harness.pki
        let card = h.card("10000000001")
        let payload = TestMunicipality.payload()
        // SIGNATURE_INVALID: alg none, RS512, a payload that is not what was signed.
        for alg in ["none", "RS512", "HS256"] {
            let header = Array(#"{"alg":"\#(alg)","typ":"kofu-request","x5c":["\#(Data(card.certificateDER).base64EncodedString())"]}"#.utf8)
            try await h.center("POST", "/v1/eligibility", card.sign(payload: payload, header: header)).expectProblem(401, "SIGNATURE_INVALID")
        }
        let signed = String(decoding: card.sign(payload: payload), as: UTF8.self).split(separator: ".").map(String.init)
        let tampered = signed[0] + "." + TestCard.base64url(TestMunicipality.payload()) + "." + signed[2]
        try await h.center("POST", "/v1/eligibility", Array(tampered.utf8)).expectProblem(401, "SIGNATURE_INVALID")
        // WRONG_MUNICIPALITY (a valid code that is not ours); it comes before the path checks.
        try await h.center("POST", "/v1/eligibility", card.sign(payload: TestMunicipality.payload(municipality: "272078")))
            .expectProblem(400, "WRONG_MUNICIPALITY")
        try await h.center("POST", "/v1/eligibility", card.sign(payload: TestMunicipality.payload(municipality: "999990")))
            .expectProblem(400, "WRONG_MUNICIPALITY")  // a bad check digit: served nowhere
        try await h.center("POST", "/v1/eligibility", card.sign(payload: TestMunicipality.payload(municipality: "99999")))
            .expectProblem(400, "MALFORMED_REQUEST")
        let expired = try pki.issueCard(TestPKI.CardOptions(notBefore: -86_400 * 400, notAfter: -86_400))
        try await h.center("POST", "/v1/eligibility", expired.sign(payload: TestMunicipality.payload(municipality: "272078")))
            .expectProblem(400, "WRONG_MUNICIPALITY")
        // A bad signature comes before the municipality.
        let header = Array(#"{"alg":"none","typ":"kofu-request","x5c":["\#(Data(card.certificateDER).base64EncodedString())"]}"#.utf8)
        try await h.center("POST", "/v1/eligibility", card.sign(payload: TestMunicipality.payload(municipality: "272078"), header: header))
            .expectProblem(401, "SIGNATURE_INVALID")
        // Path, validity, revocation.
        try await h.center("POST", "/v1/eligibility", expired.sign(payload: payload)).expectProblem(401, "CARD_CERT_EXPIRED")
        let stranger = try pki.issueCard(TestPKI.CardOptions(issuer: .untrusted))
        try await h.center("POST", "/v1/eligibility", stranger.sign(payload: payload)).expectProblem(401, "CARD_CERT_UNTRUSTED")
        let noPolicy = try pki.issueCard(TestPKI.CardOptions(includePolicy: false))
        try await h.center("POST", "/v1/eligibility", noPolicy.sign(payload: payload)).expectProblem(401, "CARD_CERT_UNTRUSTED")
        let revoked = try pki.issueCard()
        let crl = h.config.trust.crlDir + "/intermediate.crl"
        try pki.writeCRL(to: crl, revoking: [revoked], thisUpdate: Date().addingTimeInterval(-60),
                         nextUpdate: Date().addingTimeInterval(3600), number: 100)
        var status = ""
        for _ in 0..<40 {  // the CRL folder is re-read within a second or two
            status = try await h.center("POST", "/v1/eligibility", revoked.sign(payload: TestMunicipality.payload())).code ?? ""
            if status == "CARD_CERT_REVOKED" { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(status == "CARD_CERT_REVOKED")
        // Binding: never bound; bound to a logically deleted resident.
        try await h.center("POST", "/v1/eligibility", h.municipality.unboundCard.sign(payload: payload)).expectProblem(401, "CARD_NOT_REGISTERED")
        try await h.center("POST", "/v1/eligibility", h.eligibility("20000000003")).expectProblem(403, "REQUESTER_NOT_CURRENT")
        // Freshness, and a not-registered card is refused before its freshness is looked at.
        try await h.center("POST", "/v1/eligibility", card.sign(payload: TestMunicipality.payload(issuedAt: Date().addingTimeInterval(-600))))
            .expectProblem(401, "REQUEST_EXPIRED")
        try await h.center("POST", "/v1/eligibility",
                           h.municipality.unboundCard.sign(payload: TestMunicipality.payload(issuedAt: Date().addingTimeInterval(-600))))
            .expectProblem(401, "CARD_NOT_REGISTERED")
    }

    @Test func authorizationRowsThroughHTTP() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let eligibility = try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"))
        #expect(eligibility.status == 200 && eligibility.header("Content-Type") == "application/json")
        guard case .object(let o)? = eligibility.json, case .array(let certs)? = o["certificates"], case .object(let j) = certs[0],
              case .array(let members)? = j["members"] else { Issue.record("eligibility shape"); return }
        let ids = members.compactMap { m -> String? in
            guard case .object(let mo) = m, case .string(let id)? = mo["memberId"] else { return nil }
            return id
        }
        #expect(ids.count == 5 && ids.allSatisfy { !$0.contains("1000000000") })
        try await h.center("POST", "/v1/issuances", h.issuance("10000000001", scope: "members", members: ["m_unknown"])).expectProblem(403, "NOT_SAME_HOUSEHOLD")
        try await h.center("POST", "/v1/issuances", h.issuance("10000000001", kind: "inkan", scope: "members", members: [ids[0]])).expectProblem(403, "SELF_ONLY")
        try await h.center("POST", "/v1/issuances", h.issuance("20000000002")).expectProblem(403, "ISSUANCE_RESTRICTED")
        try await h.center("POST", "/v1/issuances", h.issuance("10000000004")).expectProblem(403, "REQUESTER_UNDER_AGE")
        try await h.center("POST", "/v1/issuances", h.issuance("10000000001", options: [("individualNumber", .bool(true))])).expectProblem(422, "OPTION_NOT_ALLOWED")
        try await h.center("POST", "/v1/issuances", h.issuance("10000000002", kind: "inkan")).expectProblem(422, "SEAL_NOT_REGISTERED")
        try await h.center("POST", "/v1/issuances", h.issuance("30000000001")).expectProblem(422, "GAIJI_UNRENDERABLE")
        // 422 OPTION_NOT_ALLOWED comes before the 403s; 403 before 422 SEAL_NOT_REGISTERED.
        try await h.center("POST", "/v1/issuances", h.issuance("20000000002", options: [("residentCode", .bool(false))])).expectProblem(422, "OPTION_NOT_ALLOWED")
        try await h.center("POST", "/v1/issuances", h.issuance("10000000002", kind: "inkan", scope: "household")).expectProblem(403, "SELF_ONLY")
    }

    @Test func issuanceHeadersReplayAndOutcome() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let rid = UUID().uuidString.lowercased()
        let body = h.issuance("10000000001", scope: "household", options: [("domicile", .bool(true)), ("relationship", .bool(true))],
                              copies: 3, requestId: rid)
        let r = try await h.center("POST", "/v1/issuances", body)
        #expect(r.status == 201 && r.header("Content-Type") == "application/pdf")
        let id = try #require(r.header("X-Issuance-Id"))
        #expect(id.utf8.allSatisfy { (48...57).contains($0) || (65...90).contains($0) })
        #expect(r.header("X-Copies") == "3" && r.header("X-Request-Id") == rid)
        #expect(r.header("X-Content-SHA256") == SHA256.hex(SHA256.hash(r.body)))
        let path = try Tools.temporaryFile(r.body)
        let info = try Tools.run("pdfinfo", [path]).stdout
        let pages = info.split(separator: "\n").first { $0.hasPrefix("Pages:") }.map { $0.dropFirst(6).trimmingCharacters(in: .whitespaces) }
        #expect(pages == r.header("X-Page-Count"))
        #expect(Tools.squeezed(try Tools.pdfText(path)).contains(id))
        #expect(try Tools.qpdfCheck(path).status == 0)
        // The same request again: the same 交付番号 and bytes. Another payload: 409.
        let again = try await h.center("POST", "/v1/issuances", body)
        #expect(again.status == 201 && again.header("X-Issuance-Id") == id && again.body == r.body)
        try await h.center("POST", "/v1/issuances", h.issuance("10000000001", copies: 2, requestId: rid)).expectProblem(409, "REQUEST_REPLAYED")
        // Outcome.
        let printed = Array(#"{"outcome":"printed"}"#.utf8)
        let o1 = try await h.center("POST", "/v1/issuances/\(id)/outcome", printed, contentType: "application/json")
        #expect(o1.status == 200)
        guard case .object(let oo)? = o1.json else { Issue.record("outcome body"); return }
        #expect(oo.keys == ["issuanceId", "outcome", "recordedAt"] && oo["outcome"] == .string("printed"))
        let o2 = try await h.center("POST", "/v1/issuances/\(id)/outcome", printed, contentType: "application/json")
        #expect(o2.status == 200 && o2.body == o1.body)
        try await h.center("POST", "/v1/issuances/\(id)/outcome", Array(#"{"outcome":"failed"}"#.utf8), contentType: "application/json")
            .expectProblem(409, "OUTCOME_CONFLICT")
        try await h.center("POST", "/v1/issuances/NOPE/outcome", printed, contentType: "application/json").expectProblem(404, "ISSUANCE_NOT_FOUND")
        try await h.center("POST", "/v1/issuances/\(id)/outcome", Array(#"{"outcome":"printed","at":1}"#.utf8), contentType: "application/json")
            .expectProblem(400, "MALFORMED_REQUEST")
        try await h.center("POST", "/v1/issuances/\(id)/outcome", printed, contentType: "application/jose")
            .expectProblem(415, "UNSUPPORTED_MEDIA_TYPE")
        // Metrics: one issuance counted, replays not.
        let metrics = try await h.center("GET", "/metrics", nil, contentType: nil)
        #expect(metrics.header("Content-Type")?.hasPrefix("text/plain; version=0.0.4") == true)
        #expect(metrics.bodyText.contains(#"kofu_issuances_total{kind="juminhyo"} 1"#))
        #expect(metrics.bodyText.contains(#"kofu_issuances_total{kind="inkan"} 0"#))
        for name in ["kofu_requests_total", "kofu_request_duration_seconds", "kofu_replica_last_seq", "kofu_replica_age_seconds",
                     "kofu_crl_age_seconds"] {
            #expect(metrics.bodyText.contains(name), "\(name)")
        }
    }

    @Test func outsideHoursSuspensionAndReadiness() async throws {
        let jst = (Calendar(identifier: .gregorian).dateComponents(in: TimeZone(secondsFromGMT: 9 * 3600)!, from: Date()))
        let minute = (jst.hour! * 60 + jst.minute! + 600) % (23 * 60)
        let hours = String(format: "%02d:%02d-%02d:%02d", minute / 60, minute % 60, (minute + 1) / 60, (minute + 1) % 60)
        let h = try await Harness(hours: hours)
        defer { Task { await h.stop() } }
        try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001")).expectProblem(503, "OUTSIDE_SERVICE_HOURS")
        try await h.center("POST", "/v1/issuances", h.issuance("10000000001")).expectProblem(503, "OUTSIDE_SERVICE_HOURS")
        // Readiness does not depend on hours.
        #expect(try await h.center("GET", "/readyz", nil, contentType: nil).status == 200)

        let open = try await Harness()
        defer { Task { await open.stop() } }
        guard case .sqlite(let folder) = open.config.replica else { return }
        _ = FileManager.default.createFile(atPath: folder + "/" + KofuServer.suspensionFileName, contents: nil)
        var code = ""
        for _ in 0..<20 {
            code = try await open.center("POST", "/v1/eligibility", open.eligibility("10000000001")).code ?? "OK"
            if code == "SERVICE_SUSPENDED" { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(code == "SERVICE_SUSPENDED")
        #expect(try await open.center("GET", "/readyz", nil, contentType: nil).status == 200)
        // No valid CRL: alive, not ready, and card requests get REVOCATION_UNAVAILABLE.
        try? FileManager.default.removeItem(atPath: folder + "/" + KofuServer.suspensionFileName)
        for file in try FileManager.default.contentsOfDirectory(atPath: open.config.trust.crlDir) {
            try FileManager.default.removeItem(atPath: open.config.trust.crlDir + "/" + file)
        }
        var ready = 200
        for _ in 0..<20 {
            ready = try await open.center("GET", "/readyz", nil, contentType: nil).status
            if ready == 503 { break }
            try await Task.sleep(for: .milliseconds(250))
        }
        #expect(ready == 503)
        #expect(try await open.center("GET", "/healthz", nil, contentType: nil).status == 200)
        try await open.center("POST", "/v1/eligibility", open.eligibility("10000000001")).expectProblem(401, "REVOCATION_UNAVAILABLE")
    }
}
