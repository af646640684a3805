import KofuConfiguration
import Foundation
import Testing

/// A folder with the files a configuration names, and the configuration of operations.md.
struct Setup {
    let folder: String

    init() throws {
        folder = NSTemporaryDirectory() + "kofu-config-\(UUID().uuidString)"
        let fm = FileManager.default
        try fm.createDirectory(atPath: folder + "/crl", withIntermediateDirectories: true)
        for name in ["seal.png", "jpki-root.pem", "jpki-auth-ca.pem", "gaiji.ttf", "base.ttf",
                     "center-server.pem", "center-server.key", "center-ca.pem", "sync-server.pem", "sync-server.key", "upstream-ca.pem"] {
            try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/" + name))
        }
    }

    static let sample = """
        [municipality]
        code = "272078"                 # 全国地方公共団体コード
        name = "高槻市"
        authority = "高槻市長　高槻　太郎"
        official_seal = "seal.png"
        official_seal_mm = 21.0

        [listen]
        center = "127.0.0.1:8443"
        sync = "127.0.0.1:8444"

        [trust]
        anchors = ["jpki-root.pem"]
        intermediates = [
          "jpki-auth-ca.pem",   # trailing comma allowed
        ]
        crl_dir = "crl"
        policy_oid = "1.2.392.200149.8.5.1.3.30"
        clock_skew_seconds = 300

        [replica]
        path = "replica"

        [fonts]
        base = "base.ttf"
        gaiji = ["gaiji.ttf"]

        [issuance]
        min_requester_age = 15
        hours = "06:30-23:00"
        closed = ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"]

        [audit]
        path = "audit"
        retention_years = 5
        """

    func parse(_ text: String) -> Result<KofuConfig, ConfigError> {
        Result { () throws(ConfigError) in try KofuConfig.parse(text, folder: folder) }
    }
}

@Suite struct ConfigurationTests {
    @Test func theSpecsSampleIsValidAndResolved() throws {
        let setup = try Setup()
        let config = try setup.parse(Setup.sample).get()
        #expect(config.municipality.code == "272078")
        #expect(Array(config.municipality.authority.unicodeScalars) == Array("高槻市長　高槻　太郎".unicodeScalars))
        #expect(config.municipality.officialSeal == setup.folder + "/seal.png")
        #expect(config.listen.center == ListenAddress(host: "127.0.0.1", port: 8443))
        #expect(config.trust.intermediates == [setup.folder + "/jpki-auth-ca.pem"])
        #expect(config.replica == .sqlite(path: setup.folder + "/replica"))
        #expect(config.issuance.hours == ServiceHours(startMinute: 390, endMinute: 1380))
        #expect(config.issuance.closed.count == 6)
        #expect(config.tls == nil)
    }

    @Test func onlyTheRequiredKeysGiveTheDefaults() throws {
        let setup = try Setup()
        let dropped = ["intermediates", "jpki-auth-ca", "  ]", "clock_skew", "gaiji", "[issuance]", "min_requester", "hours", "closed", "retention"]
        let minimal = Setup.sample.split(separator: "\n").filter { line in
            line != "]" && !dropped.contains { line.contains($0) }
        }.joined(separator: "\n")
        let config = try setup.parse(minimal).get()
        #expect(config.trust.intermediates.isEmpty && config.fonts.gaiji.isEmpty)
        #expect(config.trust.clockSkewSeconds == 300 && config.issuance.minRequesterAge == 15 && config.audit.retentionYears == 5)
        #expect(config.issuance.hours.startMinute == 390 && config.issuance.hours.endMinute == 1380)
        #expect(config.issuance.closed.count == 6)
    }

    /// Each fault names its key (and line where the key was written).
    @Test(arguments: [
        ("code = \"272078\"", "code = \"272079\"", "municipality.code"),       // wrong check digit
        ("code = \"272078\"", "code = 272078", "municipality.code"),           // wrong type
        ("name = \"高槻市\"\n", "name = \"高槻市\"\nnmae = \"x\"\n", "municipality.nmae"),  // unknown key
        ("[replica]", "[replika]", "[replika]"),                               // unknown table (and replica missing)
        ("official_seal = \"seal.png\"", "official_seal = \"missing.png\"", "municipality.official_seal"),
        ("official_seal_mm = 21.0", "official_seal_mm = \"21\"", "municipality.official_seal_mm"),
        ("center = \"127.0.0.1:8443\"", "center = \"0.0.0.0:8443\"", "listen.center"),  // not loopback without [tls]
        ("center = \"127.0.0.1:8443\"", "center = \"127.0.0.1\"", "listen.center"),
        ("sync = \"127.0.0.1:8444\"", "sync = \"127.0.0.1:8443\"", "listen.sync"),
        ("anchors = [\"jpki-root.pem\"]", "anchors = []", "trust.anchors"),
        ("crl_dir = \"crl\"", "crl_dir = \"no-such-folder\"", "trust.crl_dir"),
        ("policy_oid = \"1.2.392.200149.8.5.1.3.30\"", "policy_oid = \"1.2.x\"", "trust.policy_oid"),
        ("clock_skew_seconds = 300", "clock_skew_seconds = -1", "trust.clock_skew_seconds"),
        ("path = \"replica\"", "path = \"replica\"\nurl = \"postgres://db/kofu\"", "replica.url"),
        ("base = \"base.ttf\"", "base = \"none.ttf\"", "fonts.base"),
        ("hours = \"06:30-23:00\"", "hours = \"23:00-06:30\"", "issuance.hours"),
        ("hours = \"06:30-23:00\"", "hours = \"06:30-24:01\"", "issuance.hours"),
        ("closed = [\"12-29\"", "closed = [\"02-30\"", "issuance.closed"),
        ("min_requester_age = 15", "min_requester_age = 15.5", "issuance.min_requester_age"),
        ("[audit]\npath = \"audit\"", "[audit]", "audit.path"),
    ])
    func faultsNameTheirKey(original: String, replacement: String, key: String) throws {
        let setup = try Setup()
        #expect(Setup.sample.contains(original))
        switch setup.parse(Setup.sample.replacingOccurrences(of: original, with: replacement)) {
        case .success: Issue.record("accepted")
        case .failure(let error): #expect(error.key == key, "\(error)")
        }
    }

    @Test func hoursAllowTheWholeDay() throws {
        let setup = try Setup()
        let config = try setup.parse(Setup.sample.replacingOccurrences(of: "06:30-23:00", with: "00:00-24:00")).get()
        #expect(config.issuance.hours.contains(minuteOfDay: 0) && config.issuance.hours.contains(minuteOfDay: 1439))
        #expect(!ServiceHours(startMinute: 390, endMinute: 1380).contains(minuteOfDay: 1380))  // end exclusive
    }

    @Test func tlsAllowsOtherAddressesAndChecksItsFiles() throws {
        let setup = try Setup()
        let tls = """
            [tls]
            center_cert = "center-server.pem"
            center_key = "center-server.key"
            center_client_ca = "center-ca.pem"
            sync_cert = "sync-server.pem"
            sync_key = "sync-server.key"
            sync_client_ca = "upstream-ca.pem"
            """
        let text = Setup.sample.replacingOccurrences(of: "127.0.0.1:8443", with: "0.0.0.0:8443") + "\n" + tls
        let config = try setup.parse(text).get()
        #expect(config.tls?.centerClientCA == setup.folder + "/center-ca.pem")
        let broken = setup.parse(text.replacingOccurrences(of: "\"sync-server.key\"", with: "\"nope.key\""))
        #expect(throws: ConfigError.self) { try broken.get() }
    }

    @Test func anUnreadableFileIsRefused() {
        #expect(throws: ConfigError.self) { try KofuConfig.load(path: "/nonexistent/kofu.toml") }
    }

    @Test(arguments: ["272078", "131016", "011002", "473821"])
    func municipalityCheckDigits(code: String) {
        #expect(KofuConfig.isValidMunicipalityCode(code))
        let wrong = String(code.dropLast()) + String((Int(String(code.last!))! + 1) % 10)
        #expect(!KofuConfig.isValidMunicipalityCode(wrong))
    }
}

@Suite struct TOMLTests {
    func error(_ text: String) -> TOMLError? {
        do { _ = try TOMLDocument.parse(text); return nil } catch { return error }
    }

    @Test func stringsAreKeptExactly() throws {
        let doc = try TOMLDocument.parse("[a]\nb = \"\\uFA10本\u{3000}葛\u{E0102}\"\nc = 'C:\\path'\n")
        #expect(doc["a"]?[0].value == .string("\u{FA10}本\u{3000}葛\u{E0102}"))
        guard case .string(let s) = doc["a"]![0].value else { return }
        #expect(Array(s.unicodeScalars) == Array("\u{FA10}本\u{3000}葛\u{E0102}".unicodeScalars))  // not U+585A
        #expect(doc["a"]?[1].value == .string("C:\\path"))
    }

    @Test(arguments: [
        ("[a]\nb = 1\nb = 2\n", 3),           // duplicate key
        ("[a]\n[a]\n", 2),                    // duplicate table
        ("[a]\nb = 1 2\n", 2),                // trailing garbage
        ("[a]\nb = \"x\n", 2),                // unterminated string
        ("[a]\nb.c = 1\n", 2),                // dotted keys are not in the subset
        ("[a]\nb = {c = 1}\n", 2),            // inline tables
        ("[[a]]\n", 1),
        ("[a]\nb = 1979-05-27\n", 2),         // dates
        ("[a]\nb = 007\n", 2),                // leading zeros
        ("[a]\nb = 0x1F\n", 2),
        ("[a]\nb = \"\\q\"\n", 2),            // unknown escape
        ("[a]\nb = yes\n", 2),
        ("[a]\n\n\nb = [1,\n 2\n", 4),        // unterminated array: named where it opened
        ("[a]\nb = \"\\uD800\"\n", 2),        // a surrogate is not a scalar
        ("[a]\nb = 99999999999999999999\n", 2),
    ])
    func refusedWithItsLine(text: String, line: Int) {
        #expect(error(text)?.line == line, "\(String(describing: error(text)))")
    }

    /// Found by the toml fuzz harness: each `[` was a recursive call, and `kofu config check`
    /// died of a stack overflow on 20 000 of them.
    @Test func deeplyNestedArraysAreRefusedNotAStackOverflow() throws {
        let nested = "[a]\nb = " + String(repeating: "[", count: 32) + "1" + String(repeating: "]", count: 32) + "\n"
        var value = try #require(TOMLDocument.parse(nested)["a"]?.first?.value)
        for _ in 0..<32 {
            guard case .array(let items) = value, items.count == 1 else { Issue.record("not 32 nested arrays"); return }
            value = items[0]
        }
        #expect(value == .integer(1))
        for depth in [33, 200_000] {
            let text = "[a]\nb = " + String(repeating: "[", count: depth) + "\n"
            #expect(error(text)?.message == "arrays nested more than 32 deep")
        }
    }
}
