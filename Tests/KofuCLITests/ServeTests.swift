import Foundation
import KofuHTTPClient
import KofuJSON
import KofuTesting
import Testing

/// `kofu serve` as a real process: refusal at start, the log on standard error, drain on SIGTERM.
@Suite(.serialized) struct ServeTests {
    static let root = Demo.repositoryRoot()!
    static let kofu = root + "/.build/debug/kofu"

    @Test func aBadConfigurationStopsTheServerBeforeAnyListenerOpens() throws {
        let folder = NSTemporaryDirectory() + "kofu-serve-" + UUID().uuidString
        let m = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort())
        let text = try String(contentsOfFile: m.configPath, encoding: .utf8)
        let cases: [(String, String, String)] = [
            ("unknown key", text.replacingOccurrences(of: "clock_skew_seconds = 300", with: "clock_skew = 300"), "clock_skew"),
            ("public address without TLS", text.replacingOccurrences(of: "center = \"127.0.0.1:", with: "center = \"0.0.0.0:"), "0.0.0.0"),
            ("missing anchor", text.replacingOccurrences(of: "/anchor.pem", with: "/missing.pem"), "missing.pem"),
            ("missing official seal", text.replacingOccurrences(of: "official-seal.png", with: "nope.png"), "nope.png"),
        ]
        for (name, config, mention) in cases {
            let path = folder + "/bad.toml"
            try config.write(toFile: path, atomically: true, encoding: .utf8)
            let r = try Tools.run(Self.kofu, ["serve", "--config", path])
            #expect(r.status == 1, "\(name): \(r.stderr)")
            #expect(r.stderr.contains(mention), "\(name): \(r.stderr)")
        }
        #expect(try Tools.run(Self.kofu, ["serve"]).status == 2)
        #expect(try Tools.run(Self.kofu, ["serve", "--config", folder + "/none.toml"]).status == 1)
    }

    @Test func aFullRunLogsNoResidentDataAndDrainsOnSIGTERM() async throws {
        let folder = NSTemporaryDirectory() + "kofu-serve-" + UUID().uuidString
        let m = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort())
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.kofu)
        process.arguments = ["serve", "--config", m.configPath]
        let logPath = folder + "/stderr.log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }
        func call(_ port: Int, _ method: String, _ path: String, _ body: [UInt8]? = nil, _ type: String? = nil) async throws -> HTTPResponse {
            try await HTTPClient.request(host: "127.0.0.1", port: port, method: method, path: path,
                                         headers: type.map { [("Content-Type", $0)] } ?? [], body: body)
        }
        var up = false
        for _ in 0..<300 where !up {
            up = (try? await call(m.centerPort, "GET", "/healthz"))?.status == 200
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(up)
        #expect(try await call(m.syncPort, "POST", "/v1/sync/batches", m.batch(), "application/json").status == 200)
        var ready = false
        for _ in 0..<100 where !ready {  // within 30 s of start
            ready = (try? await call(m.centerPort, "GET", "/readyz"))?.status == 200
            if !ready { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(ready)
        var seen: [String] = []
        for code in m.residents.map(\.code) {
            let card = m.resident(code).card
            for fields: [(String, JSONValue)] in [
                [],
                [("kind", .string("juminhyo")), ("scope", .string("household")), ("copies", .number(JSONNumber(1))),
                 ("options", .object(JSONObject([("domicile", .bool(true)), ("foreignResidentItems", .bool(true))])!))],
                [("kind", .string("inkan")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))],
            ] {
                let path = fields.isEmpty ? "/v1/eligibility" : "/v1/issuances"
                let r = try await call(m.centerPort, "POST", path, card.sign(payload: TestMunicipality.payload(fields)), "application/jose")
                seen.append(r.header("X-Issuance-Id") ?? "")
                for (name, value) in r.headers where name.lowercased() != "x-issuance-id" {
                    #expect(!m.residents.contains { value.contains($0.code) }, "header \(name)")
                }
            }
        }
        if let id = seen.first(where: { !$0.isEmpty }) {
            #expect(try await call(m.centerPort, "POST", "/v1/issuances/\(id)/outcome", Array(#"{"outcome":"failed","detail":"jam"}"#.utf8),
                                   "application/json").status == 200)
        }
        let metrics = try await call(m.centerPort, "GET", "/metrics").bodyText
        let status = try await call(m.syncPort, "GET", "/v1/sync/status").bodyText

        // SIGTERM with a request in flight: it is answered, then the process exits 0 within 10 s.
        let big = m.resident("50000000001").card.sign(payload: TestMunicipality.payload([
            ("kind", .string("juminhyo")), ("scope", .string("household")), ("copies", .number(JSONNumber(1)))]))
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: m.centerPort)
        async let inFlight = connection.send(method: "POST", path: "/v1/issuances", headers: [("Content-Type", "application/jose")], body: big)
        try await Task.sleep(for: .milliseconds(5))
        kill(process.processIdentifier, SIGTERM)
        let answered = try await inFlight
        #expect(answered.status == 201)
        await connection.close()
        let deadline = Date().addingTimeInterval(10)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        if !process.isRunning { #expect(process.terminationStatus == 0) }
        try log.close()

        let output = try String(contentsOfFile: logPath, encoding: .utf8)
        #expect(output.contains("DEVELOPMENT MODE"))
        #expect(output.contains("GAIJI_UNRENDERABLE") && output.contains("U+E0100"))
        for text in [output, metrics, status] {
            for r in m.residents {
                #expect(!text.contains(r.code), "住民票コード in the output")
                #expect(!text.contains(r.name), "a name in the output")
            }
            for person in Demo.household() {
                #expect(!text.contains(person.nameKana) && !text.contains(person.address))
            }
            #expect(!text.contains("見本町"))
        }
    }
}
