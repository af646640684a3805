import ArgumentParser
import CardAuth
import Certificates
import Foundation
import Issuance
import KofuConfiguration
import KofuJSON
import KofuTesting
import Replica

/// Where one issuance's CPU goes, step by step on one thread (no HTTP, no durable write).
struct BenchPipeline: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pipeline",
        abstract: "Microseconds per step of a one-person issuance on one thread (JWS, path validation, snapshot, render).")

    @Option(help: "Iterations per step.")
    var count: Int = 2000

    @Option(help: "Repository root holding Templates/ and Fonts/ (found automatically in a checkout).")
    var root: String?

    func run() throws {
        guard let root = locateRoot(root) else { Self.fail("cannot find Templates/ and Fonts/; pass --root") }
        let folder = NSTemporaryDirectory() + "kofu-bench-pipeline-" + UUID().uuidString
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let m = try TestMunicipality(root: root, folder: folder, centerPort: 1, syncPort: 2)
        let config = try KofuConfig.load(path: m.configPath)
        guard case .sqlite(let path) = config.replica else { return }
        let replica = try SQLiteReplica(folder: path)
        _ = try replica.apply(try SyncBatch.decode(m.batch()), at: Date())
        let trust = try TrustStore(anchorFiles: config.trust.anchors, intermediateFiles: config.trust.intermediates,
                                   crlDirectory: config.trust.crlDir, policyOID: config.trust.policyOID)
        let renderer = try KofuTesting.Demo.renderer(root: root)
        renderer.warmUp()
        let card = m.head.card
        let bodies = (0..<count).map { _ in
            card.sign(payload: TestMunicipality.payload([("kind", .string("juminhyo")), ("scope", .string("self")),
                                                         ("copies", .number(JSONNumber(1)))]))
        }
        func time(_ name: String, _ body: (Int) throws -> Void) rethrows {
            let start = DispatchTime.now().uptimeNanoseconds
            for i in 0..<count { try body(i) }
            let us = Double(DispatchTime.now().uptimeNanoseconds - start) / 1000 / Double(count)
            print(String(format: "| %@ | %.1f |", name, us))
        }
        print("| step | µs per call |")
        print("| --- | ---: |")
        let parsed = try bodies.map { try CompactJWS.parse($0) }
        try time("CompactJWS.parse (base64url, I-JSON header and payload, DER certificate)") { _ = try CompactJWS.parse(bodies[$0]) }
        try time("verifySignature (RS256)") { try parsed[$0].verifySignature() }
        try time("TrustStore.verify (X509_verify_cert, CRLs, policy)") { try trust.verify(parsed[$0].certificate, at: Date()) }
        try time("JSONParser.parse (payload)") { _ = try JSONParser.parse(parsed[$0].payload) }
        try time("replica.read { resident(forCard:) }") { _ in
            _ = try replica.read { try $0.resident(forCard: card.sha256Hex) }
        }
        try time("replica.read { currentMemberCodes }") { _ in
            _ = try replica.read { try $0.currentMemberCodes(household: "H1") }
        }
        let person = KofuTesting.Demo.household()[0]
        try time("render (one-person 住民票)") { i in
            _ = try renderer.render(KofuTesting.Demo.juminhyo([person], householdSize: 5, id: String(format: "BENCH%011d", i)))
        }
    }
}
