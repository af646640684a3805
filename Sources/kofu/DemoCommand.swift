import ArgumentParser
import Foundation
import Issuance
import KofuConfiguration
import KofuHTTPClient
import KofuJSON
import KofuServer
import KofuTesting
import Logging
import Replica

struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Build a demo municipality, serve it on loopback and issue sample certificates through HTTP.",
        discussion: """
            Builds the fictional 架空市 in a working folder under the current folder (a test CA, a card \
            per resident, households with IVS, 外字 and compatibility-ideograph names, a 外国人住民, seals), \
            starts the server on free loopback ports, loads the replica through the sync listener, asks \
            for eligibility and issues sample certificates through the real Center API, and writes the \
            PDFs. Each PDF's absolute path is printed on a line of its own. Exits 0 when done, or with \
            --keep-serving keeps serving until SIGTERM or SIGINT (then exits 0).
            The demo's residents are fictional; like the server, it prints counts and codes, not their data.
            """)

    @Option(help: "Working folder for the demo, under the current folder (replaced on each run).")
    var output: String = "kofu-demo"

    @Option(help: "Repository root holding Templates/ and Fonts/ (found automatically in a checkout).")
    var root: String?

    @Flag(help: "Keep serving after the samples, until SIGTERM or SIGINT.")
    var keepServing = false

    @Option(help: ArgumentHelp(
        "PostgreSQL instead of the embedded SQLite store: `[replica] url` of an empty database.",
        discussion: "The replica, idempotency records and audit log go to that database; one that already holds a replica is refused.",
        valueName: "postgres-url"))
    var replicaUrl: String?

    static let marker = ".kofu-demo"

    func run() throws {
        guard let root = locateRoot(root) else { Self.fail("cannot find Templates/ and Fonts/; pass --root") }
        let folder = URL(fileURLWithPath: output, relativeTo: URL(fileURLWithPath: FileManager.default.currentDirectoryPath))
            .standardizedFileURL.path
        let fm = FileManager.default
        if fm.fileExists(atPath: folder) {
            guard fm.fileExists(atPath: folder + "/" + Self.marker) || ((try? fm.contentsOfDirectory(atPath: folder))?.isEmpty ?? false) else {
                Self.fail("\(folder) exists and is not a kofu demo folder; pass --output")
            }
            try? fm.removeItem(atPath: folder)
        }
        do {
            try fm.createDirectory(atPath: folder, withIntermediateDirectories: true)
            _ = fm.createFile(atPath: folder + "/" + Self.marker, contents: Data("kofu demo working folder\n".utf8))
        } catch {
            Self.fail("cannot create \(folder): \(error)")
        }
        print("kofu demo: working folder \(folder)")
        let keep = keepServing, url = replicaUrl
        let failure = runBlocking { try await DemoRun(root: root, folder: folder, keepServing: keep, replicaURL: url).run() }
        if let failure { Self.fail("\(failure)") }
    }
}

struct DemoFailure: Error, CustomStringConvertible {
    let description: String
}

struct DemoRun {
    /// What `kofu loadtest --demo` needs, in `loadtest-cards.json`: the cards of requesters that
    /// may have their own 住民票 (with their household's names, so that loadtest can check whom each
    /// PDF names), the refusals this municipality makes certain (each with its expected status and
    /// code), and for the sync scenario the sync port and one household's records. Beside it,
    /// `loadtest-extract.jsonl` is the municipality as a reseed extract. The demo's residents are
    /// fictional; a real installation has no such files.
    static func writeLoadtestCards(_ m: TestMunicipality, to path: String) throws {
        // Households without restricted members, so that scope household is answered 201 as well.
        let eligible = ["10000000001", "10000000002", "10000000003", "10000000005", "50000000001"]
        func object(_ pairs: [(String, JSONValue)]) -> JSONValue { .object(JSONObject(pairs.map { (key: $0.0, value: $0.1) })!) }
        func pem(_ card: TestCard) -> [(String, JSONValue)] {
            [("certificatePEM", .string(card.certificatePEM())), ("privateKeyPEM", .string(card.privateKeyPEM()))]
        }
        let cards: [JSONValue] = eligible.map { code in
            let r = m.resident(code)
            let household = m.residents.filter { $0.household == r.household && $0.code != "20000000003" }
            return object([
                ("household", .string(r.household)), ("name", .string(r.name)),
                ("householdNames", .array(household.map { .string($0.name) })),
                ("headName", .string(household[0].name)), ("seal", .bool(code == "10000000001")),
            ] + pem(r.card))
        }
        let selfOnly: [(String, JSONValue)] = [("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))]
        let refusals: [(String, TestCard, String, [(String, JSONValue)], Int, String)] = [
            ("a restricted requester (支援措置)", m.resident("20000000002").card, "eligibility", [], 403, "ISSUANCE_RESTRICTED"),
            ("a requester under 発行制御", m.resident("40000000001").card, "issuance", selfOnly, 403, "ISSUANCE_RESTRICTED"),
            ("a requester under the age limit", m.resident("10000000004").card, "issuance", selfOnly, 403, "REQUESTER_UNDER_AGE"),
            ("a requester who moved out (転出)", m.resident("20000000003").card, "eligibility", [], 403, "REQUESTER_NOT_CURRENT"),
            ("a card bound to nobody", m.unboundCard, "issuance", selfOnly, 401, "CARD_NOT_REGISTERED"),
            ("a household with a restricted member", m.resident("20000000001").card, "issuance",
             [("kind", .string("juminhyo")), ("scope", .string("household")), ("copies", .number(JSONNumber(1)))], 403, "ISSUANCE_RESTRICTED"),
            ("a name no font draws (葛+U+E0100)", m.resident("30000000001").card, "issuance", selfOnly, 422, "GAIJI_UNRENDERABLE"),
            ("an 印鑑登録証明書 without a seal", m.resident("10000000002").card, "issuance",
             [("kind", .string("inkan")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))], 422, "SEAL_NOT_REGISTERED"),
            ("a request for the 個人番号", m.head.card, "issuance",
             selfOnly + [("options", .object(JSONObject([("individualNumber", .bool(true))])!))], 422, "OPTION_NOT_ALLOWED"),
            ("an 印鑑登録証明書 for the household", m.head.card, "issuance",
             [("kind", .string("inkan")), ("scope", .string("household")), ("copies", .number(JSONNumber(1)))], 403, "SELF_ONLY"),
        ]
        let refusalValues: [JSONValue] = refusals.map { what, card, endpoint, fields, status, code in
            // A reseed's extract holds no logically deleted resident, so after one the moved-out
            // requester's card is bound to nobody.
            let afterReseed: [(String, JSONValue)] = code == "REQUESTER_NOT_CURRENT"
                ? [("afterReseed", object([("status", .number(JSONNumber(401))), ("code", .string("CARD_NOT_REGISTERED"))]))] : []
            return object([
                ("what", .string(what)), ("endpoint", .string(endpoint)), ("fields", object(fields)),
                ("status", .number(JSONNumber(status))), ("code", .string(code)),
            ] + afterReseed + pem(card))
        }
        let others = m.residents.map { JSONValue.object(JSONObject([("household", .string($0.household)), ("name", .string($0.name))])!) }
        let document = JSONValue.object(JSONObject([
            ("municipality", .string(TestMunicipality.code)), ("cards", .array(cards)), ("refusals", .array(refusalValues)),
            ("residents", .array(others)), ("syncPort", .number(JSONNumber(m.syncPort))),
            ("flipHousehold", .string("H5")), ("flipRecords", .array(m.residentRecords(household: "H5").map { .object($0) })),
        ])!)
        try Data(serialize(document)).write(to: URL(fileURLWithPath: path))
        _ = chmod(path, 0o600)
        let extract = (path as NSString).deletingLastPathComponent + "/" + LoadtestCards.extractName
        try Data(m.extract(asOfSeq: Int64(m.eventCount))).write(to: URL(fileURLWithPath: extract))
        _ = chmod(extract, 0o600)
    }

    let root: String
    let folder: String
    let keepServing: Bool
    let replicaURL: String?

    func run() async throws {
        let municipality = try TestMunicipality(root: root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                                syncPort: try TestMunicipality.freePort(), replicaURL: replicaURL)
        print("kofu demo: configuration \(municipality.configPath)")
        try Self.writeLoadtestCards(municipality, to: folder + "/" + LoadtestCards.fileName)
        let config = try KofuConfig.load(path: municipality.configPath)
        guard let templates = locateTemplates(root + "/Templates") else { throw DemoFailure(description: "no Templates/") }
        let server = try KofuServer(config: config, templatesDirectory: templates, logger: makeLogger())
        let serving = Task { try await server.run() }
        let center = municipality.centerPort, sync = municipality.syncPort
        func call(_ port: Int, _ method: String, _ path: String, _ body: [UInt8]? = nil, _ type: String? = nil) async throws -> HTTPResponse {
            try await HTTPClient.request(host: "127.0.0.1", port: port, method: method, path: path,
                                         headers: type.map { [("Content-Type", $0)] } ?? [], body: body)
        }
        var up = false
        for _ in 0..<300 where !up {
            up = (try? await call(center, "GET", "/healthz"))?.status == 200
            if !up { try await Task.sleep(for: .milliseconds(50)) }
        }
        guard up else { throw DemoFailure(description: "the server did not start") }
        print("kofu demo: serving the Center API on http://127.0.0.1:\(center) and the sync feed on http://127.0.0.1:\(sync)")

        if replicaURL != nil {
            // The demo loads its municipality from seq 1: a database with a replica already is not its own.
            let before = try await call(sync, "GET", "/v1/sync/status")
            if case .object(let o)? = try? JSONParser.parse(before.body), case .number(let n)? = o["lastSeq"], n.int64 != 0 {
                await server.shutdown()
                try? await serving.value
                throw DemoFailure(description: "--replica-url: the database holds a replica already (lastSeq \(n)); give the demo an empty database")
            }
        }
        let loaded = try await call(sync, "POST", "/v1/sync/batches", municipality.batch(), "application/json")
        guard loaded.status == 200 else { throw DemoFailure(description: "sync batch refused: \(loaded.bodyText)") }
        print("kofu demo: POST /v1/sync/batches → \(loaded.status) \(loaded.bodyText)")
        let status = try await call(sync, "GET", "/v1/sync/status")
        print("kofu demo: GET /v1/sync/status → \(status.bodyText)")
        let ready = try await call(center, "GET", "/readyz")
        print("kofu demo: GET /readyz → \(ready.status)")

        let head = municipality.head.card
        let eligibility = try await call(center, "POST", "/v1/eligibility", head.sign(payload: TestMunicipality.payload()), "application/jose")
        var memberIds: [String] = []
        if case .object(let o)? = try? JSONParser.parse(eligibility.body), case .array(let certificates)? = o["certificates"],
           case .object(let juminhyo)? = certificates.first, case .array(let members)? = juminhyo["members"] {
            memberIds = members.compactMap { m in
                guard case .object(let mo) = m, case .string(let id)? = mo["memberId"] else { return nil }
                return id
            }
        }
        print("kofu demo: POST /v1/eligibility → \(eligibility.status), juminhyo for \(memberIds.count) members")

        let samples: [(String, TestCard, [(String, JSONValue)])] = [
            ("juminhyo-household.pdf", head, [
                ("kind", .string("juminhyo")), ("scope", .string("household")), ("copies", .number(JSONNumber(1))),
                ("options", .object(JSONObject([("domicile", .bool(true)), ("relationship", .bool(true)),
                                                ("foreignResidentItems", .bool(true))])!)),
            ]),
            ("juminhyo-self.pdf", head, [("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))]),
            ("juminhyo-members.pdf", head, [
                ("kind", .string("juminhyo")), ("scope", .string("members")), ("copies", .number(JSONNumber(2))),
                ("members", .array(memberIds.suffix(2).map { .string($0) })),
                ("options", .object(JSONObject([("foreignResidentItems", .bool(true))])!)),
            ]),
            ("juminhyo-12-persons.pdf", municipality.resident("50000000001").card,
             [("kind", .string("juminhyo")), ("scope", .string("household")), ("copies", .number(JSONNumber(1)))]),
            ("inkan.pdf", head, [("kind", .string("inkan")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))]),
        ]
        var firstIssuance: String?
        for (name, card, fields) in samples {
            let r = try await call(center, "POST", "/v1/issuances", card.sign(payload: TestMunicipality.payload(fields)), "application/jose")
            guard r.status == 201 else { throw DemoFailure(description: "\(name): \(r.status) \(r.bodyText)") }
            let path = folder + "/" + name
            try Data(r.body).write(to: URL(fileURLWithPath: path))
            firstIssuance = firstIssuance ?? r.header("X-Issuance-Id")
            FileHandle.standardError.write(Data(
                "kofu demo: \(name): 201, 交付番号 \(r.header("X-Issuance-Id") ?? "?"), \(r.header("X-Page-Count") ?? "?") page(s), \(r.body.count) bytes\n".utf8))
            print(path)
        }
        if let id = firstIssuance {
            let outcome = try await call(center, "POST", "/v1/issuances/\(id)/outcome", Array(#"{"outcome":"printed"}"#.utf8), "application/json")
            print("kofu demo: POST /v1/issuances/\(id)/outcome → \(outcome.status) \(outcome.bodyText)")
        }
        // Refusals the kiosk sends to the counter, as the center sees them.
        let refusals: [(String, TestCard, [(String, JSONValue)])] = [
            ("a name with an unregistered variation sequence (葛+U+E0100)", municipality.resident("30000000001").card,
             [("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))]),
            ("another household's member", head, [("kind", .string("juminhyo")), ("scope", .string("members")),
                                                  ("copies", .number(JSONNumber(1))), ("members", .array([.string("m_someone_else")]))]),
            ("an 印鑑登録証明書 for the household", head, [("kind", .string("inkan")), ("scope", .string("household")),
                                                     ("copies", .number(JSONNumber(1)))]),
            ("a request for the 個人番号", head, [("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", .number(JSONNumber(1))),
                                             ("options", .object(JSONObject([("individualNumber", .bool(true))])!))]),
        ]
        for (what, card, fields) in refusals {
            let r = try await call(center, "POST", "/v1/issuances", card.sign(payload: TestMunicipality.payload(fields)), "application/jose")
            var code = "?"
            if case .object(let o)? = try? JSONParser.parse(r.body), case .string(let c)? = o["code"] { code = c }
            print("kofu demo: refused as expected: \(what) → \(r.status) \(code)")
        }
        let audit: AuditLog.Verification
        switch config.replica {
        case .sqlite: audit = AuditLog.verify(folder: config.audit.path)
        case .postgres(let url): audit = SharedIssuanceRecords.verify(try PostgresIssuanceState(url: url))
        }
        print("kofu demo: audit log \(audit.fault ?? "intact"), \(audit.records) records (kofu audit verify --config \(municipality.configPath))")
        if keepServing {
            print("kofu demo: serving until SIGTERM or SIGINT")
            try await serving.value
        } else {
            await server.shutdown()
            try await serving.value
        }
    }
}
