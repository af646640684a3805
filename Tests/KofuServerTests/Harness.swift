import Foundation
import KofuConfiguration
import KofuDigest
import KofuHTTPClient
import KofuJSON
import KofuServer
import KofuTesting
import Logging
import Testing

/// A real `KofuServer` on loopback ports in this process, loaded through its own sync listener.
final class Harness: @unchecked Sendable {
    let municipality: TestMunicipality
    let server: KofuServer
    let config: KofuConfig
    private let task: Task<Void, any Error>
    let tls: TLSClientOptions?
    let syncTLS: TLSClientOptions?

    static let pki = try! TestPKI()
    static var root: String { Demo.repositoryRoot()! }

    struct TLSFiles {
        let serverCert: String, serverKey: String, clientCA: String
        let client: TLSClientOptions, stranger: TLSClientOptions, anonymous: TLSClientOptions
    }

    /// `mutualTLS`: both listeners with TLS and a client CA; `tls` then holds the center's client options.
    init(hours: String = "00:00-24:00", closed: [String] = [], mutualTLS: Bool = false, load: Bool = true) async throws {
        let folder = NSTemporaryDirectory() + "kofu-server-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        var extra = ""
        var clientOptions: TLSClientOptions?
        if mutualTLS {
            let pki = Self.pki
            let server = try pki.issueTLS(commonName: "kofu test server")
            let client = try pki.issueTLS(commonName: "kofu test center", client: true)
            let ca = try pki.tlsCAPEM()
            try server.certPEM.write(toFile: folder + "/server.pem", atomically: true, encoding: .utf8)
            try server.keyPEM.write(toFile: folder + "/server.key", atomically: true, encoding: .utf8)
            try ca.write(toFile: folder + "/client-ca.pem", atomically: true, encoding: .utf8)
            extra = """

                [tls]
                center_cert = "server.pem"
                center_key = "server.key"
                center_client_ca = "client-ca.pem"
                sync_cert = "server.pem"
                sync_key = "server.key"
                sync_client_ca = "client-ca.pem"
                """
            clientOptions = TLSClientOptions(trustRootsPEM: ca, clientCertificatePEM: client.certPEM, clientKeyPEM: client.keyPEM)
        }
        municipality = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                            syncPort: try TestMunicipality.freePort(), hours: hours, closed: closed,
                                            pki: Self.pki, extraConfig: extra)
        config = try KofuConfig.load(path: municipality.configPath)
        var logger = Logger(label: "kofu-test", factory: { StreamLogHandler.standardError(label: $0) })
        logger.logLevel = .error
        server = try KofuServer(config: config, templatesDirectory: Self.root + "/Templates", logger: logger)
        tls = clientOptions
        syncTLS = clientOptions
        let server = self.server
        task = Task { try await server.run(signals: []) }
        // Wait for the listeners.
        for _ in 0..<200 {
            if let r = try? await HTTPClient.request(host: "127.0.0.1", port: municipality.centerPort, method: "GET",
                                                     path: "/healthz", tls: clientOptions), r.status == 200 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if load {
            let r = try await sync("POST", "/v1/sync/batches", municipality.batch())
            #expect(r.status == 200, "loading the replica: \(r.bodyText)")
        }
    }

    func stop() async {
        await server.shutdown()
        _ = try? await task.value
    }

    func center(_ method: String, _ path: String, _ body: [UInt8]? = nil, contentType: String? = "application/jose",
                headers: [(String, String)] = []) async throws -> HTTPResponse {
        var h = headers
        if let contentType { h.append(("Content-Type", contentType)) }
        return try await HTTPClient.request(host: "127.0.0.1", port: municipality.centerPort, method: method, path: path,
                                            headers: h, body: body, tls: tls)
    }

    func sync(_ method: String, _ path: String, _ body: [UInt8]? = nil, contentType: String? = "application/json") async throws -> HTTPResponse {
        var h: [(String, String)] = []
        if let contentType { h.append(("Content-Type", contentType)) }
        return try await HTTPClient.request(host: "127.0.0.1", port: municipality.syncPort, method: method, path: path,
                                            headers: h, body: body, tls: syncTLS)
    }

    func card(_ code: String) -> TestCard { municipality.resident(code).card }

    func issuance(_ code: String, kind: String = "juminhyo", scope: String = "self", members: [String]? = nil,
                  options: [(String, JSONValue)]? = nil, copies: Int = 1, requestId: String = UUID().uuidString.lowercased(),
                  issuedAt: Date = Date(), municipalityCode: String = TestMunicipality.code) -> [UInt8] {
        card(code).sign(payload: Self.issuancePayload(kind: kind, scope: scope, members: members, options: options, copies: copies,
                                                      requestId: requestId, issuedAt: issuedAt, municipality: municipalityCode))
    }

    static func issuancePayload(kind: String = "juminhyo", scope: String = "self", members: [String]? = nil,
                                options: [(String, JSONValue)]? = nil, copies: Int = 1,
                                requestId: String = UUID().uuidString.lowercased(), issuedAt: Date = Date(),
                                municipality: String = TestMunicipality.code) -> [UInt8] {
        var fields: [(String, JSONValue)] = [("kind", .string(kind)), ("scope", .string(scope)), ("copies", .number(JSONNumber(copies)))]
        if let members { fields.append(("members", .array(members.map { .string($0) }))) }
        if let options { fields.append(("options", .object(JSONObject(options.map { (key: $0.0, value: $0.1) })!))) }
        return TestMunicipality.payload(requestId: requestId, issuedAt: issuedAt, municipality: municipality, fields)
    }

    func eligibility(_ code: String) -> [UInt8] { card(code).sign(payload: TestMunicipality.payload()) }
}

extension HTTPResponse {
    var json: JSONValue? { try? JSONParser.parse(body) }

    var code: String? {
        guard case .object(let o)? = json, case .string(let c)? = o["code"] else { return nil }
        return c
    }

    /// Every problem document has the six members, none null or empty, and requestId = X-Request-Id.
    func expectProblem(_ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(self.status == status, "status for \(code): \(bodyText)", sourceLocation: sourceLocation)
        #expect(header("Content-Type")?.hasPrefix("application/problem+json") == true, sourceLocation: sourceLocation)
        guard case .object(let o)? = json else {
            Issue.record("not a JSON problem: \(bodyText)", sourceLocation: sourceLocation)
            return
        }
        #expect(o["code"] == .string(code), "\(bodyText)", sourceLocation: sourceLocation)
        #expect(o["status"] == .number(JSONNumber(status)), sourceLocation: sourceLocation)
        for member in ["type", "title", "kioskMessage", "requestId"] {
            guard case .string(let s)? = o[member], !s.isEmpty else {
                Issue.record("member \(member) missing or empty", sourceLocation: sourceLocation)
                continue
            }
        }
        #expect(o["requestId"] == header("X-Request-Id").map { .string($0) }, sourceLocation: sourceLocation)
    }
}
