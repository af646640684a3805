import Foundation
import KofuHTTPClient
import KofuJSON
import KofuTesting
import Testing

/// Two `kofu serve` processes on one PostgreSQL (`[replica] url`), as behind a load balancer
/// (operations.md "More than one server"). Needs KOFU_TEST_POSTGRES_URL (scripts/test.sh starts a
/// PostgreSQL); fails without it when KOFU_REQUIRE_POSTGRES=1. Each test has a database of its own.
@Suite(.serialized) struct MultiServerTests {
    static let root = Demo.repositoryRoot()!
    static let kofu = root + "/.build/debug/kofu"
    static let url = ProcessInfo.processInfo.environment["KOFU_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    static let runs = url != nil || ProcessInfo.processInfo.environment["KOFU_REQUIRE_POSTGRES"] == "1"

    /// A new database beside the test one; its URL.
    static func freshDatabase() throws -> String {
        let url = try #require(Self.url, "KOFU_REQUIRE_POSTGRES=1 but KOFU_TEST_POSTGRES_URL is not set")
        let name = "kofu_ms_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "").prefix(12)
        let r = try Tools.run("psql", [url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", "CREATE DATABASE \(name) ENCODING 'UTF8' TEMPLATE template0"])
        #expect(r.status == 0, "\(r.stderr)")
        return url[..<url.lastIndex(of: "/")!] + "/" + name
    }

    static func psql(_ url: String, _ sql: String) throws -> String {
        let r = try Tools.run("psql", [url, "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql])
        #expect(r.status == 0, "\(r.stderr)")
        return r.stdout
    }

    final class Server: @unchecked Sendable {
        let process = Process()
        let centerPort: Int
        let syncPort: Int
        let config: String

        init(_ m: TestMunicipality, database: String, name: String) throws {
            let ports = name == "a" ? (m.centerPort, m.syncPort) : (try TestMunicipality.freePort(), try TestMunicipality.freePort())
            (centerPort, syncPort) = ports
            let text = try String(contentsOfFile: m.configPath, encoding: .utf8)
                .replacingOccurrences(of: "[replica]\npath = \"replica\"", with: "[replica]\nurl = \"\(database)\"")
                .replacingOccurrences(of: "center = \"127.0.0.1:\(m.centerPort)\"", with: "center = \"127.0.0.1:\(ports.0)\"")
                .replacingOccurrences(of: "sync = \"127.0.0.1:\(m.syncPort)\"", with: "sync = \"127.0.0.1:\(ports.1)\"")
            #expect(text.contains("url = \"postgres"))
            config = m.folder + "/kofu-\(name).toml"
            try text.write(toFile: config, atomically: true, encoding: .utf8)
            process.executableURL = URL(fileURLWithPath: MultiServerTests.kofu)
            process.arguments = ["serve", "--config", config]
            let log = m.folder + "/serve-\(name).log"
            _ = FileManager.default.createFile(atPath: log, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: log))
            process.standardError = handle
            process.standardOutput = handle
            try process.run()
        }

        func stop() {
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
    }

    static func call(_ port: Int, _ method: String, _ path: String, _ body: [UInt8]? = nil, _ type: String? = nil) async throws -> HTTPResponse {
        try await HTTPClient.request(host: "127.0.0.1", port: port, method: method, path: path,
                                     headers: type.map { [("Content-Type", $0)] } ?? [], body: body)
    }

    static func waitFor(_ port: Int, _ path: String) async -> Bool {
        for _ in 0..<300 {
            if (try? await call(port, "GET", path))?.status == 200 { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return false
    }

    static func juminhyo(_ m: TestMunicipality, requestId: String = UUID().uuidString.lowercased()) -> [UInt8] {
        m.head.card.sign(payload: TestMunicipality.payload(requestId: requestId, [
            ("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))]))
    }

    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)"), .timeLimit(.minutes(5)))
    func twoServersOnOneDatabaseActAsOne() async throws {
        let database = try Self.freshDatabase()
        let folder = NSTemporaryDirectory() + "kofu-multi-" + UUID().uuidString
        let m = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort())
        let a = try Server(m, database: database, name: "a")
        defer { a.stop() }
        let b = try Server(m, database: database, name: "b")
        defer { b.stop() }
        let (upA, upB) = (await Self.waitFor(a.centerPort, "/healthz"), await Self.waitFor(b.centerPort, "/healthz"))
        #expect(upA && upB)

        // A sync batch applied through one server is seen by the other.
        #expect(try await Self.call(a.syncPort, "POST", "/v1/sync/batches", m.batch(), "application/json").status == 200)
        let status = try await Self.call(b.syncPort, "GET", "/v1/sync/status").bodyText
        #expect(status.contains("\"lastSeq\":\(m.eventCount)"), "\(status)")
        let (readyA, readyB) = (await Self.waitFor(a.centerPort, "/readyz"), await Self.waitFor(b.centerPort, "/readyz"))
        #expect(readyA && readyB)

        // The same requestId sent to both at once: one issuance, the same 交付番号 and bytes from both.
        var issued: [String] = []
        for _ in 0..<6 {
            let body = Self.juminhyo(m)
            async let fromA = Self.call(a.centerPort, "POST", "/v1/issuances", body, "application/jose")
            async let fromB = Self.call(b.centerPort, "POST", "/v1/issuances", body, "application/jose")
            let (ra, rb) = try await (fromA, fromB)
            #expect(ra.status == 201 && rb.status == 201, "\(ra.status) \(rb.status) \(rb.bodyText)")
            let id = try #require(ra.header("X-Issuance-Id"))
            #expect(rb.header("X-Issuance-Id") == id)
            let sameBytes = ra.body == rb.body  // (a Bool, so that a failure does not print two PDFs)
            #expect(sameBytes)
            issued.append(id)
            // Retried later on either server: the same answer.
            let again = try await Self.call(b.centerPort, "POST", "/v1/issuances", body, "application/jose")
            let sameAgain = again.body == ra.body
            #expect(again.status == 201 && again.header("X-Issuance-Id") == id && sameAgain)
        }
        #expect(Set(issued).count == issued.count)
        // An outcome for an issuance of one server, recorded through the other, once.
        let outcome = Array(#"{"outcome":"printed"}"#.utf8)
        #expect(try await Self.call(b.centerPort, "POST", "/v1/issuances/\(issued[0])/outcome", outcome, "application/json").status == 200)
        #expect(try await Self.call(a.centerPort, "POST", "/v1/issuances/\(issued[0])/outcome", Array(#"{"outcome":"failed"}"#.utf8),
                                    "application/json").status == 409)
        var audit = try Tools.run(Self.kofu, ["audit", "verify", "--config", b.config])
        #expect(audit.status == 0 && audit.stdout.contains("intact: \(issued.count + 1) records"), "\(audit.stdout) \(audit.stderr)")

        // Killing one server mid-load loses no acknowledged batch and no acknowledged issuance.
        final class Acknowledged: @unchecked Sendable {
            let lock = NSLock()
            var issuances: [(id: String, body: [UInt8], pdf: [UInt8])] = []
            var lastSeq: Int64 = 0
        }
        let acked = Acknowledged()
        let eventCount = Int64(m.eventCount)
        let (centerA, syncA) = (a.centerPort, a.syncPort)
        let load = Task {
            await withTaskGroup(of: Void.self) { group in
                for _ in 0..<3 {
                    group.addTask {
                        for _ in 0..<40 {
                            let body = Self.juminhyo(m)
                            guard let r = try? await Self.call(centerA, "POST", "/v1/issuances", body, "application/jose") else { return }
                            if r.status == 201, let id = r.header("X-Issuance-Id") { acked.lock.withLock { acked.issuances.append((id, body, r.body)) } }
                        }
                    }
                }
                group.addTask {
                    var seq = eventCount + 1
                    for _ in 0..<40 {
                        guard let r = try? await Self.call(syncA, "POST", "/v1/sync/batches", m.batch(firstSeq: seq), "application/json") else { return }
                        if r.status == 200 { acked.lock.withLock { acked.lastSeq = seq + eventCount - 1 } }
                        seq += eventCount
                    }
                }
            }
        }
        for _ in 0..<600 where acked.lock.withLock({ acked.issuances.count < 8 || acked.lastSeq == 0 }) {
            try await Task.sleep(for: .milliseconds(20))
        }
        kill(a.process.processIdentifier, SIGKILL)
        await load.value
        a.process.waitUntilExit()
        let (kept, lastSeq) = acked.lock.withLock { (acked.issuances, acked.lastSeq) }
        #expect(kept.count >= 8 && lastSeq > 0)
        let after = try await Self.call(b.syncPort, "GET", "/v1/sync/status").bodyText
        let seen = after.split(separator: ",").first { $0.contains("\"lastSeq\"") }.flatMap { Int64($0.split(separator: ":").last!.filter(\.isNumber)) }
        #expect((seen ?? 0) >= lastSeq, "\(after) vs acknowledged \(lastSeq)")
        let lines = try Self.psql(database, "SELECT convert_from(line, 'UTF8') FROM kofu.audit ORDER BY seq")
        for k in kept {
            #expect(lines.contains("\"issuanceId\":\"\(k.id)\""), "acknowledged \(k.id) not in the audit chain")
        }
        // Each acknowledged certificate, retried on the surviving server, is the same answer.
        for k in kept.prefix(3) {
            let r = try await Self.call(b.centerPort, "POST", "/v1/issuances", k.body, "application/jose")
            let same = r.body == k.pdf
            #expect(r.status == 201 && r.header("X-Issuance-Id") == k.id && same)
        }
        audit = try Tools.run(Self.kofu, ["audit", "verify", "--config", b.config])
        #expect(audit.status == 0 && audit.stdout.contains("intact"), "\(audit.stdout) \(audit.stderr)")
        // No resident data in the shared tables' names or the servers' logs.
        let log = try String(contentsOfFile: folder + "/serve-b.log", encoding: .utf8)
        for r in m.residents { #expect(!log.contains(r.code) && !lines.contains(r.code)) }
    }

    /// `kofu suspend` on one server's configuration suspends every server on the database (the
    /// switch is a row of it); `kofu resume` on the other resumes both. Readiness is unaffected.
    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)"), .timeLimit(.minutes(5)))
    func suspendingThroughOneServerSuspendsEvery() async throws {
        let database = try Self.freshDatabase()
        let folder = NSTemporaryDirectory() + "kofu-multi-suspend-" + UUID().uuidString
        let m = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort())
        let a = try Server(m, database: database, name: "a")
        defer { a.stop() }
        let b = try Server(m, database: database, name: "b")
        defer { b.stop() }
        let (upA, upB) = (await Self.waitFor(a.centerPort, "/healthz"), await Self.waitFor(b.centerPort, "/healthz"))
        #expect(upA && upB)
        #expect(try await Self.call(a.syncPort, "POST", "/v1/sync/batches", m.batch(), "application/json").status == 200)
        let (readyA, readyB) = (await Self.waitFor(a.centerPort, "/readyz"), await Self.waitFor(b.centerPort, "/readyz"))
        #expect(readyA && readyB)
        /// The status and code each server answers a fresh request with, once both answer `status`.
        func untilBoth(_ status: Int) async throws -> [String] {
            var codes: [String] = []
            for _ in 0..<100 {
                codes = []
                var statuses: [Int] = []
                for port in [a.centerPort, b.centerPort] {
                    let r = try await Self.call(port, "POST", "/v1/issuances", Self.juminhyo(m), "application/jose")
                    statuses.append(r.status)
                    if case .object(let o)? = try? JSONParser.parse(r.body), case .string(let c)? = o["code"] { codes.append(c) }
                }
                if statuses == [status, status] { return codes }
                try await Task.sleep(for: .milliseconds(100))
            }
            Issue.record("both servers did not answer \(status)")
            return codes
        }
        #expect(try await untilBoth(201).isEmpty)
        var r = try Tools.run(Self.kofu, ["suspend", "--config", a.config])
        #expect(r.status == 0 && r.stdout.contains("every server"), "\(r.stdout) \(r.stderr)")
        #expect(try await untilBoth(503) == ["SERVICE_SUSPENDED", "SERVICE_SUSPENDED"])
        #expect(try await Self.call(b.centerPort, "GET", "/readyz").status == 200)
        r = try Tools.run(Self.kofu, ["suspend", "--config", b.config, "--status"])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance suspended since "), "\(r.stdout)")
        r = try Tools.run(Self.kofu, ["resume", "--config", b.config])
        #expect(r.status == 0 && r.stdout.hasPrefix("issuance running"), "\(r.stdout)")
        #expect(try await untilBoth(201).isEmpty)
    }

    /// `kofu demo --replica-url`: the demo municipality on PostgreSQL, its audit chain in the
    /// database (not in the folder); a database that holds a replica already is refused.
    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)"), .timeLimit(.minutes(5)))
    func theDemoRunsOnPostgreSQL() throws {
        let database = try Self.freshDatabase()
        let folder = NSTemporaryDirectory() + "kofu-multi-demo-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        func demo(_ output: String) throws -> Tools.Result {
            try Tools.run(Self.kofu, ["demo", "--root", Self.root, "--output", output, "--replica-url", database], in: folder)
        }
        var r = try demo("first")
        #expect(r.status == 0 && r.stdout.contains("kofu demo: audit log intact, 6 records"), "\(r.stdout) \(r.stderr)")
        let pdfs = r.stdout.split(separator: "\n").filter { $0.hasSuffix(".pdf") }
        #expect(pdfs.count == 5 && pdfs.allSatisfy { FileManager.default.fileExists(atPath: String($0)) })
        let config = try String(contentsOfFile: folder + "/first/kofu.toml", encoding: .utf8)
        #expect(config.contains("url = \"\(database)\"") && !config.contains("path = \"replica\""))
        #expect(!FileManager.default.fileExists(atPath: folder + "/first/audit/audit.log"))
        #expect(try Self.psql(database, "SELECT count(*) FROM kofu.audit").trimmingCharacters(in: .whitespacesAndNewlines) == "6")
        r = try demo("second")
        #expect(r.status == 1 && r.stderr.contains("holds a replica already"), "\(r.stdout) \(r.stderr)")
        #expect(try Self.psql(database, "SELECT count(*) FROM kofu.audit").trimmingCharacters(in: .whitespacesAndNewlines) == "6")
    }

    /// The operators' commands on the PostgreSQL replica: sync apply, reseed (dry run, refusal,
    /// switch), audit verify, all through `[replica] url`.
    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)"))
    func theCommandsWorkOnPostgreSQL() throws {
        let database = try Self.freshDatabase()
        let folder = NSTemporaryDirectory() + "kofu-multi-cli-" + UUID().uuidString
        let m = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort())
        let config = folder + "/kofu-pg.toml"
        try String(contentsOfFile: m.configPath, encoding: .utf8)
            .replacingOccurrences(of: "[replica]\npath = \"replica\"", with: "[replica]\nurl = \"\(database)\"")
            .write(toFile: config, atomically: true, encoding: .utf8)
        #expect(try Tools.run(Self.kofu, ["audit", "verify", "--config", config]).stdout.contains("intact: 0 records"))
        let batch = folder + "/batch.json"
        try Data(m.batch()).write(to: URL(fileURLWithPath: batch))
        var r = try Tools.run(Self.kofu, ["sync", "apply", "--config", config, batch])
        #expect(r.status == 0 && r.stdout == "{\"applied\":\(m.eventCount),\"skipped\":0,\"lastSeq\":\(m.eventCount)}\n", "\(r.stdout) \(r.stderr)")
        r = try Tools.run(Self.kofu, ["sync", "apply", "--config", config, batch])
        #expect(r.status == 0 && r.stdout.contains("\"skipped\":\(m.eventCount)"))

        let extract = folder + "/extract.jsonl"
        try Data(m.extract(asOfSeq: 5000, dropping: ["10000000002"])).write(to: URL(fileURLWithPath: extract))
        r = try Tools.run(Self.kofu, ["reseed", "--config", config, "--extract", extract, "--dry-run"])
        #expect(r.status == 0 && r.stdout.contains("dry run") && r.stdout.contains("last seq 5000"), "\(r.stdout) \(r.stderr)")
        #expect(try Self.psql(database, "SELECT value FROM kofu_r1.meta WHERE key = 'last_seq'").contains("\(m.eventCount)"))
        var corrupt = Array(m.extract(asOfSeq: 5000))
        corrupt[corrupt.count / 2] = 0x7B
        try Data(corrupt).write(to: URL(fileURLWithPath: folder + "/corrupt.jsonl"))
        r = try Tools.run(Self.kofu, ["reseed", "--config", config, "--extract", folder + "/corrupt.jsonl"])
        #expect(r.status == 1 && r.stderr.contains("line "), "\(r.stderr)")
        r = try Tools.run(Self.kofu, ["reseed", "--config", config, "--extract", extract])
        #expect(r.status == 0 && r.stdout.contains("physically deleted"), "\(r.stdout) \(r.stderr)")
        // One generation, the new one; the old schema is gone.
        let schemas = try Self.psql(database, "SELECT string_agg(nspname, ',' ORDER BY nspname) FROM pg_namespace WHERE nspname LIKE 'kofu\\_r%'")
        let live = try Self.psql(database, "SELECT schema_name FROM kofu.live")
        #expect(schemas.trimmingCharacters(in: .whitespacesAndNewlines) == live.trimmingCharacters(in: .whitespacesAndNewlines) && !live.contains("kofu_r1\n"))
        #expect(try Self.psql(database, "SELECT count(*) FROM \(live.trimmingCharacters(in: .whitespacesAndNewlines)).residents WHERE code = '10000000002'")
            .trimmingCharacters(in: .whitespacesAndNewlines) == "0")
        // The feed continues from asOfSeq + 1: older events are skipped, a gap is refused.
        r = try Tools.run(Self.kofu, ["sync", "apply", "--config", config, batch])
        #expect(r.status == 0 && r.stdout.contains("\"applied\":0"))
        try Data(m.batch(firstSeq: 5002)).write(to: URL(fileURLWithPath: batch))
        r = try Tools.run(Self.kofu, ["sync", "apply", "--config", config, batch])
        #expect(r.status == 1 && r.stdout.contains("\"expected\":5001"))
        // Deploy/README.md's table of the database names every table kofu keeps in its schema.
        #expect(try Tools.run(Self.kofu, ["suspend", "--config", config]).status == 0)
        let guide = try String(contentsOfFile: Self.root + "/Deploy/README.md", encoding: .utf8)
        let tables = try Self.psql(database, "SELECT tablename FROM pg_tables WHERE schemaname = 'kofu' ORDER BY 1")
            .split(separator: "\n").map(String.init)
        #expect(tables.count >= 7)
        for t in tables { #expect(guide.contains("`kofu.\(t)`"), "Deploy/README.md does not name kofu.\(t)") }
    }

    /// `kofu reseed` while both servers answer: no request fails during the switch, and afterwards
    /// both serve the new replica (a resident left out of the extract is gone on both).
    @Test(.enabled(if: runs, "KOFU_TEST_POSTGRES_URL is not set (scripts/test.sh starts a PostgreSQL)"), .timeLimit(.minutes(5)))
    func aReseedSwitchesBothServersWithoutFailingARequest() async throws {
        let database = try Self.freshDatabase()
        let folder = NSTemporaryDirectory() + "kofu-multi-reseed-" + UUID().uuidString
        let m = try TestMunicipality(root: Self.root, folder: folder, centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort())
        let a = try Server(m, database: database, name: "a")
        defer { a.stop() }
        let b = try Server(m, database: database, name: "b")
        defer { b.stop() }
        let (upA, upB) = (await Self.waitFor(a.centerPort, "/healthz"), await Self.waitFor(b.centerPort, "/healthz"))
        #expect(upA && upB)
        #expect(try await Self.call(a.syncPort, "POST", "/v1/sync/batches", m.batch(), "application/json").status == 200)
        let (readyA, readyB) = (await Self.waitFor(a.centerPort, "/readyz"), await Self.waitFor(b.centerPort, "/readyz"))
        #expect(readyA && readyB)
        func selfCertificate(_ code: String) -> [UInt8] {
            m.resident(code).card.sign(payload: TestMunicipality.payload([
                ("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", .number(JSONNumber(1)))]))
        }
        #expect(try await Self.call(b.centerPort, "POST", "/v1/issuances", selfCertificate("20000000001"), "application/jose").status == 201)

        final class Statuses: @unchecked Sendable {
            let lock = NSLock()
            var codes: [Int] = []
            var stop = false
        }
        let statuses = Statuses()
        let ports = [a.centerPort, b.centerPort]
        let load = Task {
            var i = 0
            while !statuses.lock.withLock({ statuses.stop }) && i < 400 {
                let r = try? await Self.call(ports[i % 2], "POST", "/v1/issuances", Self.juminhyo(m), "application/jose")
                statuses.lock.withLock { statuses.codes.append(r?.status ?? -1) }
                i += 1
            }
        }
        let extract = folder + "/extract.jsonl"
        try Data(m.extract(asOfSeq: 1000, dropping: ["20000000001"])).write(to: URL(fileURLWithPath: extract))
        let reseed = Process()
        reseed.executableURL = URL(fileURLWithPath: Self.kofu)
        reseed.arguments = ["reseed", "--config", a.config, "--extract", extract]
        reseed.standardOutput = FileHandle.nullDevice
        reseed.standardError = FileHandle.nullDevice
        try await Task.sleep(for: .milliseconds(200))
        try reseed.run()
        while reseed.isRunning { try await Task.sleep(for: .milliseconds(20)) }
        try await Task.sleep(for: .milliseconds(200))
        statuses.lock.withLock { statuses.stop = true }
        await load.value
        #expect(reseed.terminationStatus == 0)
        let codes = statuses.lock.withLock { statuses.codes }
        #expect(!codes.isEmpty && codes.allSatisfy { $0 == 201 }, "\(Dictionary(grouping: codes, by: { $0 }).mapValues(\.count))")
        for port in ports {
            let gone = try await Self.call(port, "POST", "/v1/issuances", selfCertificate("20000000001"), "application/jose")
            #expect(gone.status == 401 && gone.bodyText.contains("CARD_NOT_REGISTERED"), "\(gone.status) \(gone.bodyText)")
            #expect(try await Self.call(port, "POST", "/v1/issuances", Self.juminhyo(m), "application/jose").status == 201)
        }
        #expect(try await Self.call(b.syncPort, "GET", "/v1/sync/status").bodyText.contains("\"lastSeq\":1000"))
        let generations = try Self.psql(database, "SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'kofu\\_r%'")
        #expect(generations.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        let audit = try Tools.run(Self.kofu, ["audit", "verify", "--config", b.config])
        #expect(audit.status == 0, "\(audit.stdout) \(audit.stderr)")
    }
}
