import Foundation
import KofuHTTPClient
import KofuTesting
import Testing

/// Deploy/ as an operator uses it: the example configurations pass `kofu config check`, the
/// systemd units pass `systemd-analyze verify`, and the TLS material of `Deploy/tls/make-tls.sh`
/// gives a `kofu serve` whose listeners admit only the client certificates of their own CA.
@Suite(.serialized) struct DeployTests {
    static let root = Demo.repositoryRoot()!
    static let kofu = root + "/.build/debug/kofu"
    static let deploy = root + "/Deploy"

    /// The files under /etc/kofu that the examples name (relative to the configuration's folder),
    /// as Deploy/README.md lays them out.
    static let etcFiles = [
        "official-seal.png", "tls/center-server.pem", "tls/center-server.key", "tls/center-ca.pem",
        "tls/sync-server.pem", "tls/sync-server.key", "tls/upstream-ca.pem", "jpki/jpki-root.pem",
        "jpki/jpki-auth-ca.pem", "gaiji/municipal-gaiji.ttf",
    ]

    /// Lays an example out as installed: `<folder>/etc/kofu/kofu.toml` with placeholder files and
    /// `<folder>/var/lib/kofu/crl`, the example's `/var/lib/kofu/` paths moved under `folder`.
    static func install(_ example: String, in folder: String) throws -> String {
        let etc = folder + "/etc/kofu", state = folder + "/var/lib/kofu"
        let fm = FileManager.default
        for sub in ["tls", "jpki", "gaiji"] { try fm.createDirectory(atPath: etc + "/" + sub, withIntermediateDirectories: true) }
        try fm.createDirectory(atPath: state + "/crl", withIntermediateDirectories: true)
        for name in etcFiles { try Data("placeholder".utf8).write(to: URL(fileURLWithPath: etc + "/" + name)) }
        let text = try String(contentsOfFile: deploy + "/config/" + example, encoding: .utf8)
        #expect(text.contains("/var/lib/kofu/"))
        let path = etc + "/kofu.toml"
        try text.replacingOccurrences(of: "/var/lib/kofu/", with: state + "/").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: ["single-server.toml", "two-servers-postgres.toml"])
    func exampleConfigurationPassesConfigCheck(_ example: String) throws {
        let folder = NSTemporaryDirectory() + "kofu-deploy-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let config = try Self.install(example, in: folder)
        let r = try Tools.run(Self.kofu, ["config", "check", "--config", config])
        #expect(r.status == 0, "\(example): \(r.stderr)")
        #expect(r.stdout.contains("高槻市 (272078)") && r.stdout.hasSuffix(", TLS\n"), "\(r.stdout)")
        // Not vacuous: the check reads the files the example names.
        try FileManager.default.removeItem(atPath: folder + "/etc/kofu/gaiji/municipal-gaiji.ttf")
        let missing = try Tools.run(Self.kofu, ["config", "check", "--config", config])
        #expect(missing.status == 1 && missing.stderr.contains("fonts.gaiji"), "\(missing.stderr)")
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze")),
          arguments: ["kofu.service", "kofu-reseed@.service"])
    func systemdUnitPassesVerify(_ unit: String) throws {
        let folder = NSTemporaryDirectory() + "kofu-units-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        // verify checks that ExecStart's binary exists: point it at the one just built.
        let text = try String(contentsOfFile: Self.deploy + "/systemd/" + unit, encoding: .utf8)
        #expect(text.contains("ExecStart=/usr/local/bin/kofu "))
        try text.replacingOccurrences(of: "/usr/local/bin/kofu", with: Self.kofu)
            .write(toFile: folder + "/" + unit, atomically: true, encoding: .utf8)
        let r = try Tools.run("/usr/bin/systemd-analyze", ["verify", folder + "/" + unit])
        #expect(r.status == 0 && r.stderr.isEmpty && r.stdout.isEmpty, "\(unit): \(r.stdout)\(r.stderr)")
    }

    /// Every `kofu <command>` the guide writes exists, with every `--option` written on its line.
    @Test func everyCommandInTheGuideExists() throws {
        let guide = try String(contentsOfFile: Self.deploy + "/README.md", encoding: .utf8)
        let nested = ["config": ["check"], "sync": ["apply"], "audit": ["verify"]]
        let top = ["serve", "demo", "loadtest", "reseed", "suspend", "resume", "bench"] + nested.keys
        var checked: [String: Set<String>] = [:]
        for line in guide.split(separator: "\n") {
            let tokens = line.split(whereSeparator: { " `\"'()$".contains($0) }).map(String.init)
            for (i, token) in tokens.enumerated() where token == "kofu" || token.hasSuffix("/kofu") {
                guard i + 1 < tokens.count, top.contains(tokens[i + 1]) else { continue }
                var command = [tokens[i + 1]]
                if let subs = nested[tokens[i + 1]] {
                    guard i + 2 < tokens.count, subs.contains(tokens[i + 2]) else {
                        Issue.record("unknown command in the guide: \(line)")
                        continue
                    }
                    command.append(tokens[i + 2])
                }
                let options = tokens[(i + 1 + command.count)...].prefix { !["|", ">", "&&", ";"].contains($0) }.filter { $0.hasPrefix("--") }
                checked[command.joined(separator: " "), default: []].formUnion(options)
            }
        }
        #expect(Set(checked.keys).isSuperset(of: ["serve", "reseed", "sync apply", "audit verify", "config check"]), "\(checked.keys)")
        for (command, options) in checked {
            let help = try Tools.run(Self.kofu, command.split(separator: " ").map(String.init) + ["--help"])
            #expect(help.status == 0, "kofu \(command)")
            for option in options { #expect(help.stdout.contains(option + " ") || help.stdout.contains(option + "\n"), "kofu \(command) \(option)") }
        }
    }

    @Test func makeTLSRefusesBadUsageAndKeepsWhatExists() throws {
        let folder = NSTemporaryDirectory() + "kofu-tls-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let script = Self.deploy + "/tls/make-tls.sh"
        #expect(try Tools.run("/bin/bash", [script, "--center-san", "DNS:a.example", folder]).status == 2)  // no --sync-san
        #expect(try Tools.run("/bin/bash", [script, "--center-san", "a.example", "--sync-san", "IP:10.0.0.5", folder]).status == 2)
        #expect(!FileManager.default.fileExists(atPath: folder))
        let args = [script, "--center-san", "DNS:kofu.example,IP:127.0.0.1", "--sync-san", "IP:127.0.0.1", folder]
        var r = try Tools.run("/bin/bash", args)
        #expect(r.status == 0, "\(r.stderr)")
        let before = try Data(contentsOf: URL(fileURLWithPath: folder + "/center-server.pem"))
        r = try Tools.run("/bin/bash", args)
        #expect(r.status == 0 && !r.stdout.contains("created") && r.stdout.contains("kept \(folder)/server-ca.pem"))
        #expect(try Data(contentsOf: URL(fileURLWithPath: folder + "/center-server.pem")) == before)
        // Renewal: a certificate moved away is made again, signed by the CA that was kept.
        try FileManager.default.removeItem(atPath: folder + "/center-server.pem")
        try FileManager.default.removeItem(atPath: folder + "/center-server.key")
        r = try Tools.run("/bin/bash", args)
        #expect(r.status == 0 && r.stdout.contains("created \(folder)/center-server.pem") && r.stdout.contains("kept \(folder)/server-ca.pem"))
        let verified = try Tools.run("/usr/bin/openssl", ["verify", "-CAfile", folder + "/server-ca.pem", folder + "/center-server.pem"])
        #expect(verified.status == 0, "\(verified.stderr)")
        // A key without its certificate is a fault, not something to overwrite.
        try FileManager.default.removeItem(atPath: folder + "/sync-server.pem")
        #expect(try Tools.run("/bin/bash", args).status == 1)
    }

    @Test func makeTLSMaterialGivesMutualTLSOnBothListeners() async throws {
        let folder = NSTemporaryDirectory() + "kofu-tls-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let tls = folder + "/tls"
        let made = try Tools.run("/bin/bash", [Self.deploy + "/tls/make-tls.sh", "--center-san", "DNS:kofu.example,IP:127.0.0.1",
                                               "--sync-san", "DNS:kofu-sync.example", tls])
        #expect(made.status == 0, "\(made.stderr)")
        let fm = FileManager.default
        #expect((try fm.attributesOfItem(atPath: tls)[.posixPermissions] as? Int) == 0o700)
        let keys = try fm.contentsOfDirectory(atPath: tls).filter { $0.hasSuffix(".key") }.sorted()
        #expect(keys == ["center-ca.key", "center-client.key", "center-server.key", "server-ca.key", "sync-server.key",
                         "upstream-ca.key", "upstream-client.key"])
        for key in keys { #expect((try fm.attributesOfItem(atPath: tls + "/" + key)[.posixPermissions] as? Int) == 0o600, "\(key)") }

        let m = try TestMunicipality(root: Self.root, folder: folder + "/m", centerPort: try TestMunicipality.freePort(),
                                     syncPort: try TestMunicipality.freePort(), extraConfig: """
            [tls]
            center_cert = "\(tls)/center-server.pem"
            center_key = "\(tls)/center-server.key"
            center_client_ca = "\(tls)/center-ca.pem"
            sync_cert = "\(tls)/sync-server.pem"
            sync_key = "\(tls)/sync-server.key"
            sync_client_ca = "\(tls)/upstream-ca.pem"
            """)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.kofu)
        process.arguments = ["serve", "--config", m.configPath]
        let logPath = folder + "/stderr.log"
        _ = fm.createFile(atPath: logPath, contents: nil)
        let log = try FileHandle(forWritingTo: URL(fileURLWithPath: logPath))
        process.standardError = log
        process.standardOutput = log
        try process.run()
        defer { if process.isRunning { process.terminate() } }

        func pem(_ name: String) throws -> String { try String(contentsOfFile: tls + "/" + name, encoding: .utf8) }
        let serverCA = try pem("server-ca.pem")
        func client(_ name: String?, hostname: String? = nil) throws -> TLSClientOptions {
            guard let name else { return TLSClientOptions(trustRootsPEM: serverCA, serverHostname: hostname) }
            return TLSClientOptions(trustRootsPEM: serverCA, clientCertificatePEM: try pem(name + ".pem"),
                                    clientKeyPEM: try pem(name + ".key"), serverHostname: hostname)
        }
        // The sync certificate names only kofu-sync.example (no IP SAN, which NIOSSL would accept for any name).
        let center = try client("center-client"), upstream = try client("upstream-client", hostname: "kofu-sync.example")
        func call(_ port: Int, _ method: String, _ path: String, _ tls: TLSClientOptions, _ body: [UInt8]? = nil) async throws -> HTTPResponse {
            try await HTTPClient.request(host: "127.0.0.1", port: port, method: method, path: path,
                                         headers: body == nil ? [] : [("Content-Type", "application/json")], body: body, tls: tls)
        }
        var up = false
        for _ in 0..<300 where !up && process.isRunning {
            up = (try? await call(m.centerPort, "GET", "/healthz", center))?.status == 200
            if !up { try await Task.sleep(for: .milliseconds(100)) }
        }
        #expect(up, "\((try? String(contentsOfFile: logPath, encoding: .utf8)) ?? "")")
        guard up else { return }
        #expect(try await call(m.syncPort, "POST", "/v1/sync/batches", upstream, m.batch()).status == 200)
        #expect(try await call(m.syncPort, "GET", "/v1/sync/status", upstream).bodyText.contains("\"residents\":21"))
        #expect(try await call(m.centerPort, "GET", "/readyz", center).status == 200)

        // The guide's reseed runbook against the running server: dry run, reseed, check the counts
        // over mutual TLS, resume the feed from asOfSeq + 1.
        let asOfSeq = Int64(m.eventCount + 10)
        let extract = folder + "/extract.jsonl"
        try Data(m.extract(asOfSeq: asOfSeq, dropping: ["40000000001"])).write(to: URL(fileURLWithPath: extract))
        let dry = try Tools.run(Self.kofu, ["reseed", "--config", m.configPath, "--extract", extract, "--dry-run"])
        #expect(dry.status == 0 && dry.stdout.contains("20 residents") && dry.stdout.contains("dry run"), "\(dry.stdout)\(dry.stderr)")
        #expect(try await call(m.syncPort, "GET", "/v1/sync/status", upstream).bodyText.contains("\"residents\":21"))
        let reseed = try Tools.run(Self.kofu, ["reseed", "--config", m.configPath, "--extract", extract])
        #expect(reseed.status == 0, "\(reseed.stderr)")
        let status = try await call(m.syncPort, "GET", "/v1/sync/status", upstream).bodyText
        #expect(status.contains("\"lastSeq\":\(asOfSeq),\"residents\":20,") && status.contains("\"logicallyDeleted\":0")
                && !status.contains("\"reseededAt\":null"), "\(status)")
        #expect(try await call(m.centerPort, "GET", "/readyz", center).status == 200)
        let resumed = try await call(m.syncPort, "POST", "/v1/sync/batches", upstream, m.batch(firstSeq: asOfSeq + 2))
        #expect(resumed.status == 409 && resumed.bodyText.contains("\"expected\":\(asOfSeq + 1)"), "\(resumed.bodyText)")
        // The SANs come from the arguments.
        let san = try Tools.run("/usr/bin/openssl", ["x509", "-in", tls + "/center-server.pem", "-noout", "-ext", "subjectAltName"])
        #expect(san.stdout.contains("DNS:kofu.example, IP Address:127.0.0.1"), "\(san.stdout)")

        // Each listener refuses, in the handshake, no certificate and the other listener's client.
        let refusals: [(String, Int, TLSClientOptions)] = [
            ("center, no client certificate", m.centerPort, try client(nil)),
            ("center, the upstream's certificate", m.centerPort, upstream),
            ("sync, no client certificate", m.syncPort, try client(nil, hostname: "kofu-sync.example")),
            ("sync, the center's certificate", m.syncPort, try client("center-client", hostname: "kofu-sync.example")),
            ("sync, a name not in the SAN", m.syncPort, try client("upstream-client", hostname: "other.example")),
            ("sync, by address (not in the SAN)", m.syncPort, try client("upstream-client")),
        ]
        for (name, port, options) in refusals {
            var refused = false
            do {
                refused = try await call(port, "GET", "/healthz", options).status == 0
            } catch {
                refused = true
            }
            #expect(refused, "\(name)")
        }

        kill(process.processIdentifier, SIGTERM)
        let deadline = Date().addingTimeInterval(15)
        while process.isRunning && Date() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        #expect(!process.isRunning)
        if !process.isRunning { #expect(process.terminationStatus == 0) }
        try log.close()
        #expect(try !String(contentsOfFile: logPath, encoding: .utf8).contains("DEVELOPMENT MODE"))
        // The files the guide's table names are the ones a server leaves (audit.head comes with the first record).
        let guide = try String(contentsOfFile: Self.deploy + "/README.md", encoding: .utf8)
        let left = try fm.contentsOfDirectory(atPath: m.folder + "/replica") + fm.contentsOfDirectory(atPath: m.folder + "/audit")
        for name in ["current", "issuance-state.sqlite", "audit.log", "keyed-hash.key"] {
            #expect(left.contains(name) && guide.contains("/" + name), "\(name): \(left)")
        }
        #expect(left.contains { $0.hasPrefix("replica-") && $0.hasSuffix(".sqlite") } && guide.contains("replica-<uuid>.sqlite"))
        #expect(guide.contains("audit/audit.log`, `audit.head`") && guide.contains("replica/SUSPENDED"))
        // The guide's daily check on a server that has issued nothing yet.
        let audit = try Tools.run(Self.kofu, ["audit", "verify", "--config", m.configPath])
        #expect(audit.status == 0 && audit.stdout == "audit log intact: 0 records\n", "\(audit.stdout)\(audit.stderr)")
    }
}
