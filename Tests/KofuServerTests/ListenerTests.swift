import Foundation
import KofuHTTPClient
import KofuJSON
import KofuServer
import KofuTesting
import Testing

@Suite(.serialized) struct ListenerTests {
    @Test func mutualTLSRefusesOtherClientsOnBothListeners() async throws {
        let h = try await Harness(mutualTLS: true)
        defer { Task { await h.stop() } }
        let ca = try Harness.pki.tlsCAPEM()
        // The configured center's certificate works on the center listener (and the sync one here,
        // whose client CA is the same in this test).
        let ok = try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"))
        #expect(ok.status == 200)
        let stranger = try TestPKI()
        let foreign = try stranger.issueTLS(commonName: "someone else", client: true)
        let cases: [(String, TLSClientOptions)] = [
            ("no client certificate", TLSClientOptions(trustRootsPEM: ca)),
            ("a certificate from another CA", TLSClientOptions(trustRootsPEM: ca, clientCertificatePEM: foreign.certPEM,
                                                               clientKeyPEM: foreign.keyPEM)),
        ]
        for (name, options) in cases {
            for port in [h.municipality.centerPort, h.municipality.syncPort] {
                var refused = false
                do {
                    let r = try await HTTPClient.request(host: "127.0.0.1", port: port, method: "GET", path: "/healthz", tls: options)
                    refused = r.status == 0
                } catch {
                    refused = true
                }
                #expect(refused, "\(name) on port \(port)")
            }
        }
        // Plain HTTP to a TLS listener is no way around it either.
        var plainRefused = false
        do {
            let r = try await HTTPClient.request(host: "127.0.0.1", port: h.municipality.centerPort, method: "GET", path: "/healthz")
            plainRefused = r.status != 200
        } catch {
            plainRefused = true
        }
        #expect(plainRefused)
    }

    @Test func theSyncListener() async throws {
        let h = try await Harness(load: false)
        defer { Task { await h.stop() } }
        let empty = try await h.sync("GET", "/v1/sync/status")
        guard case .object(let s0)? = empty.json else { Issue.record("status"); return }
        #expect(s0.keys == ["lastSeq", "residents", "households", "seals", "cards", "restrictions", "logicallyDeleted",
                            "lastAppliedAt", "reseededAt"])
        #expect(s0["lastSeq"] == .number(JSONNumber(0)) && s0["lastAppliedAt"] == .null)
        let applied = try await h.sync("POST", "/v1/sync/batches", h.municipality.batch())
        #expect(applied.status == 200)
        #expect(applied.json == .object(JSONObject([("applied", .number(JSONNumber(h.municipality.eventCount))),
                                                    ("skipped", .number(JSONNumber(0))),
                                                    ("lastSeq", .number(JSONNumber(h.municipality.eventCount)))])!))
        // A resend is harmless; a gap is 409 with expected.
        let resend = try await h.sync("POST", "/v1/sync/batches", h.municipality.batch())
        #expect(resend.status == 200 && resend.bodyText.contains(#""skipped":\#(h.municipality.eventCount)"#))
        let gap = try await h.sync("POST", "/v1/sync/batches", h.municipality.batch(firstSeq: Int64(h.municipality.eventCount + 5)))
        gap.expectProblem(409, "SEQUENCE_GAP")
        guard case .object(let g)? = gap.json else { return }
        #expect(g["expected"] == .number(JSONNumber(h.municipality.eventCount + 1)))
        let status = try await h.sync("GET", "/v1/sync/status")
        guard case .object(let s)? = status.json else { return }
        #expect(s["residents"] == .number(JSONNumber(21)) && s["households"] == .number(JSONNumber(5)))
        #expect(s["logicallyDeleted"] == .number(JSONNumber(1)) && s["seals"] == .number(JSONNumber(1)))
        #expect(s["cards"] == .number(JSONNumber(11)) && s["restrictions"] == .number(JSONNumber(2)))
        // An invalid event names index, seq and field; nothing of the batch is applied.
        let next = h.municipality.eventCount + 1
        let bad = #"{"events":[{"seq":\#(next),"type":"seal.abolish","juminhyoCode":"10000000001"},{"seq":\#(next + 1),"type":"resident.delete","juminhyoCode":"10000000002","reason":"転出","effectiveOn":"2026-02-30"}]}"#
        let invalid = try await h.sync("POST", "/v1/sync/batches", Array(bad.utf8))
        invalid.expectProblem(422, "INVALID_EVENT")
        guard case .object(let i)? = invalid.json else { return }
        #expect(i["index"] == .number(JSONNumber(1)) && i["seq"] == .number(JSONNumber(next + 1)) && i["field"] == .string("effectiveOn"))
        #expect(try await h.sync("GET", "/v1/sync/status").body == status.body)
        // 10,001 events: 413 after parsing; over 64 MiB: 413 before it; wrong media type: 415; other paths: 404.
        let many = "{\"events\":[" + (0..<10_001).map { #"{"seq":\#(next + $0),"type":"seal.abolish","juminhyoCode":"10000000001"}"# }
            .joined(separator: ",") + "]}"
        try await h.sync("POST", "/v1/sync/batches", Array(many.utf8)).expectProblem(413, "PAYLOAD_TOO_LARGE")
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: h.municipality.syncPort)
        let huge = try await connection.send(method: "POST", path: "/v1/sync/batches",
                                             headers: [("Content-Type", "application/json"), ("Content-Length", String(64 * 1024 * 1024 + 1))],
                                             body: nil)
        await connection.close()
        huge.expectProblem(413, "PAYLOAD_TOO_LARGE")
        try await h.sync("POST", "/v1/sync/batches", h.municipality.batch(), contentType: "text/plain").expectProblem(415, "UNSUPPORTED_MEDIA_TYPE")
        try await h.sync("GET", "/v1/issuances").expectProblem(404, "NOT_FOUND")
        // After the batch, the Center API sees the replica.
        #expect(try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001")).status == 200)
    }

    @Test func theOpenAPIDocumentListsEveryRoute() async throws {
        let h = try await Harness(load: false)
        defer { Task { await h.stop() } }
        let r = try await h.center("GET", "/openapi.json", nil, contentType: nil)
        #expect(r.status == 200 && r.header("Content-Type") == "application/json")
        guard case .object(let doc)? = r.json, case .object(let paths)? = doc["paths"] else { Issue.record("document"); return }
        #expect(doc["openapi"] == .string("3.1.0"))
        let routes: [(String, String)] = [
            ("/v1/eligibility", "post"), ("/v1/issuances", "post"), ("/v1/issuances/{issuanceId}/outcome", "post"),
            ("/healthz", "get"), ("/readyz", "get"), ("/metrics", "get"), ("/openapi.json", "get"),
            ("/v1/sync/batches", "post"), ("/v1/sync/status", "get"),
        ]
        for (path, method) in routes {
            guard case .object(let item)? = paths[path] else { Issue.record("\(path) missing"); continue }
            #expect(item[method] != nil, "\(method) \(path)")
        }
        #expect(paths.count == routes.count, "the document lists routes the server does not serve: \(paths.keys)")
        // And every route the document lists answers something other than 404 on its listener.
        for (path, method) in routes {
            let concrete = path.replacingOccurrences(of: "{issuanceId}", with: "0000000000000000")
            let sync = path.hasPrefix("/v1/sync")
            let response = sync ? try await h.sync(method.uppercased(), concrete, method == "post" ? Array("{}".utf8) : nil)
                : try await h.center(method.uppercased(), concrete, method == "post" ? Array("{}".utf8) : nil,
                                     contentType: method == "post" ? "application/json" : nil)
            #expect(response.code != "NOT_FOUND" || path.contains("outcome"), "\(method) \(path) → \(response.status)")
        }
    }
}

@Suite(.serialized) struct ReseedWhileServingTests {
    @Test func aRunningServerSeesTheReseedAndForgetsTheRemoved() async throws {
        let h = try await Harness()
        defer { Task { await h.stop() } }
        let before = try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"))
        #expect(before.status == 200)
        let spouse = h.eligibility("10000000002")
        #expect(try await h.center("POST", "/v1/eligibility", spouse).status == 200)
        // Server renewal: a full extract without the spouse, loaded by another process.
        let path = h.municipality.folder + "/extract.jsonl"
        try Data(h.municipality.extract(asOfSeq: 1000, dropping: ["10000000002"])).write(to: URL(fileURLWithPath: path))
        let kofu = Harness.root + "/.build/debug/kofu"
        let r = try Tools.run(kofu, ["reseed", "--config", h.municipality.configPath, "--extract", path])
        #expect(r.status == 0, "\(r.stdout) \(r.stderr)")
        // Every request after reseed exited sees the new replica: the removed card is not registered,
        // the memberIds are unchanged, the feed continues at asOfSeq + 1.
        try await h.center("POST", "/v1/eligibility", h.eligibility("10000000002")).expectProblem(401, "CARD_NOT_REGISTERED")
        let after = try await h.center("POST", "/v1/eligibility", h.eligibility("10000000001"))
        #expect(after.status == 200)
        func ids(_ r: HTTPResponse) -> [String] {
            guard case .object(let o)? = r.json, case .array(let c)? = o["certificates"], case .object(let j) = c[0],
                  case .array(let m)? = j["members"] else { return [] }
            return m.compactMap { if case .object(let mo) = $0, case .string(let id)? = mo["memberId"] { id } else { nil } }
        }
        #expect(ids(after).count == 4 && Set(ids(after)).isSubset(of: Set(ids(before))))
        let status = try await h.sync("GET", "/v1/sync/status")
        guard case .object(let s)? = status.json else { return }
        #expect(s["lastSeq"] == .number(JSONNumber(1000)) && s["logicallyDeleted"] == .number(JSONNumber(0)))
        #expect(s["reseededAt"] != .null)
        try await h.sync("POST", "/v1/sync/batches", h.municipality.batch(firstSeq: 2000)).expectProblem(409, "SEQUENCE_GAP")
        // The old store files are gone.
        guard case .sqlite(let folder) = h.config.replica else { return }
        let files = try FileManager.default.contentsOfDirectory(atPath: folder).filter { $0.hasPrefix("replica-") }
        #expect(files.filter { $0.hasSuffix(".sqlite") }.count == 1, "\(files)")
    }
}
