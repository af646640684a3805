import Foundation
import KofuJSON
import KofuTesting
import Testing

struct LoadtestTestError: Error, CustomStringConvertible {
    let description: String
}

/// `kofu loadtest` through real processes: `kofu demo --keep-serving` on loopback, then each
/// collision scenario as a short bounded run whose JSON report is read back; and the in-process
/// PDF checker against pdftotext and against certificates that must fail it.
@Suite(.serialized) struct LoadtestTests {
    static let root = Demo.repositoryRoot()!
    static let kofu = root + "/.build/debug/kofu"

    /// A demo server for the suite's tests: its working folder and Center API URL.
    final class DemoServer: @unchecked Sendable {
        let folder: String
        let demo: String
        let url: String
        let process: Process
        let pdfs: [String]

        init() throws {
            folder = NSTemporaryDirectory() + "kofu-loadtest-" + UUID().uuidString
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
            demo = folder + "/kofu-demo"
            process = Process()
            process.executableURL = URL(fileURLWithPath: LoadtestTests.kofu)
            process.arguments = ["demo", "--keep-serving", "--root", LoadtestTests.root]
            process.currentDirectoryURL = URL(fileURLWithPath: folder)
            let out = folder + "/demo.out"
            _ = FileManager.default.createFile(atPath: out, contents: nil)
            let handle = try FileHandle(forWritingTo: URL(fileURLWithPath: out))
            process.standardOutput = handle
            process.standardError = FileHandle.nullDevice
            try process.run()
            var text = ""
            for _ in 0..<1200 where !text.contains("serving until") {
                Thread.sleep(forTimeInterval: 0.1)
                text = (try? String(contentsOfFile: out, encoding: .utf8)) ?? ""
            }
            guard let range = text.range(of: "serving the Center API on "),
                  let url = text[range.upperBound...].split(separator: " ").first else {
                process.terminate()
                throw LoadtestTestError(description: "kofu demo did not start: \(text)")
            }
            self.url = String(url)
            pdfs = text.split(separator: "\n").map(String.init).filter { $0.hasSuffix(".pdf") }
        }

        func stop() {
            if process.isRunning {
                process.terminate()
                process.waitUntilExit()
            }
            try? FileManager.default.removeItem(atPath: folder)
        }
    }

    /// `kofu demo` without --keep-serving: the sample PDFs, and no process left behind.
    static let samples = Result { () throws -> String in
        let folder = NSTemporaryDirectory() + "kofu-loadtest-pdfs-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: kofu)
        process.arguments = ["demo", "--root", root]
        process.currentDirectoryURL = URL(fileURLWithPath: folder)
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw LoadtestTestError(description: "kofu demo exited \(process.terminationStatus)") }
        return folder + "/kofu-demo"
    }

    func loadtest(_ s: DemoServer, _ args: [String], demo: String? = nil) throws -> (Tools.Result, [String: JSONValue]) {
        let report = s.folder + "/report-\(UUID().uuidString).json"
        let r = try Tools.run(Self.kofu, ["loadtest", "--demo", demo ?? s.demo, "--url", s.url, "--report", report] + args)
        var json: [String: JSONValue] = [:]
        if let data = FileManager.default.contents(atPath: report), case .object(let o) = try JSONParser.parse(Array(data)) {
            for m in o.members { json[m.key] = m.value }
        }
        return (r, json)
    }

    static func int(_ v: JSONValue?) -> Int {
        if case .number(let n)? = v, let i = n.int64 { return Int(i) }
        return -1
    }

    @Test func pdfTextReadsEveryDemoCertificateAsPdftotextDoes() throws {
        let demo = try Self.samples.get()
        let pdfs = try FileManager.default.contentsOfDirectory(atPath: demo).filter { $0.hasSuffix(".pdf") }.map { demo + "/" + $0 }
        #expect(pdfs.count == 5)
        for path in pdfs {
            let bytes = Array(try Data(contentsOf: URL(fileURLWithPath: path)))
            let ours = Tools.squeezed(try PDFText.pages(bytes).joined())
            let poppler = Tools.squeezed(try Tools.pdfText(path))
            #expect(!ours.isEmpty)
            #expect(ours.unicodeScalars.elementsEqual(poppler.unicodeScalars), "\(path)")
        }
        // Anything it cannot read is refused, never taken for an empty page.
        #expect(throws: (any Error).self) { try PDFText.pages(Array("%PDF-1.7\nnot really\n".utf8)) }
    }

    @Test func theCheckerFailsCertificatesOfTheWrongPeopleOrAMix() throws {
        let demo = try Self.samples.get()
        let large = Array(try Data(contentsOf: URL(fileURLWithPath: demo + "/juminhyo-12-persons.pdf")))
        let text = try PDFText.pages(large)
        #expect(text.count == 3)
        // Its 交付番号 from the audit record with the file's SHA-256.
        let sha = String(try Tools.run("sha256sum", [demo + "/juminhyo-12-persons.pdf"]).stdout.prefix(64))
        let audit = try String(contentsOfFile: demo + "/audit/audit.log", encoding: .utf8)
        guard let record = audit.split(separator: "\n").first(where: { $0.contains(sha) }),
              let range = record.range(of: #""issuanceId":""#) else {
            Issue.record("no audit record for the PDF")
            return
        }
        let id = String(record[range.upperBound...].prefix { $0 != "\"" })
        #expect(CertificateCheck.problems(pdf: large, issuanceId: id, pages: 3, mustName: ["見本　一郎"], mustNotName: ["葛󠄂城　太郎"]).isEmpty)
        // Another 交付番号, another page count, a name it must not hold, a name it lacks.
        #expect(!CertificateCheck.problems(pdf: large, issuanceId: "X" + id.dropFirst(), pages: 3, mustName: [], mustNotName: []).isEmpty)
        #expect(!CertificateCheck.problems(pdf: large, issuanceId: id, pages: 2, mustName: [], mustNotName: []).isEmpty)
        #expect(!CertificateCheck.problems(pdf: large, issuanceId: id, pages: 3, mustName: [], mustNotName: ["見本　二郎"]).isEmpty)
        #expect(!CertificateCheck.problems(pdf: large, issuanceId: id, pages: 3, mustName: ["偽名　太郎"], mustNotName: []).isEmpty)
        // All old is right; old and new markers in one PDF is a mix.
        #expect(CertificateCheck.problems(pdf: large, issuanceId: id, pages: 3, mustName: [], mustNotName: [],
                                          flip: (["平成31年4月30日"], ["令和2年4月30日"])).isEmpty)
        #expect(CertificateCheck.problems(pdf: large, issuanceId: id, pages: 3, mustName: [], mustNotName: [],
                                          flip: (["平成31年4月30日"], ["架空市見本町"])).contains { $0.contains("mixes") })
    }

    /// Every scenario against one demo server, then a card file that lies (the run must fail),
    /// then usage errors; the server is stopped whatever happens.
    @Test func everyScenarioRunsWithoutAWrongAnswerAndALieIsCaught() throws {
        let s = try DemoServer()
        defer { s.stop() }
        for scenario in ["mix", "same-household", "same-request", "disconnect", "sync", "mixed"] {
            let (r, json) = try loadtest(s, ["--scenario", scenario, "--rate", "25", "--duration", "4", "--concurrency", "8",
                                             "--group", "4"])
            #expect(r.status == 0, "\(scenario): \(r.stdout)\n\(r.stderr.suffix(2000))")
            #expect(Self.int(json["wrongAnswers"]) == 0, "\(scenario)")
            let issued = Self.int(json["issuances"])
            #expect(issued > 0, "\(scenario)")
            #expect(Self.int(json["checked"]) == issued, "\(scenario)")
            #expect(r.stdout.contains("wrong answers: 0"), "\(scenario)")
            switch scenario {
            case "same-request":
                #expect(Self.int(json["sameRequestGroups"]) > 0)
            case "disconnect":
                #expect(Self.int(json["dropped"]) > 0, "\(r.stdout)")
                if case .string(let audit)? = json["audit"] { #expect(audit.contains("voided") && !audit.contains("not compared"), "\(audit)") }
            case "sync":
                #expect(Self.int(json["syncBatches"]) > 0, "\(r.stdout)")
                #expect(Self.int(json["reseeds"]) >= 1, "\(r.stdout)")
            case "mixed":
                #expect(Self.int(json["sameRequestGroups"]) > 0)
                #expect(Self.int(json["dropped"]) > 0)
            default: break
            }
        }

        // A copy of the card file in which the first card carries another name: the server's
        // right answers (eligibility's self, the PDFs) no longer match it and must be reported.
        let copy = s.folder + "/lying-demo"
        try FileManager.default.createDirectory(atPath: copy, withIntermediateDirectories: true)
        guard case .object(let o) = try JSONParser.parse(Array(try Data(contentsOf: URL(fileURLWithPath: s.demo + "/loadtest-cards.json")))),
              case .array(var cards)? = o["cards"], case .object(let first) = cards[0] else {
            Issue.record("unreadable card file")
            return
        }
        cards[0] = .object(JSONObject(first.members.map { $0.key == "name" ? (key: "name", value: .string("偽名　太郎")) : $0 })!)
        let lying = JSONObject(o.members.map { $0.key == "cards" ? (key: "cards", value: .array(cards)) : $0 })!
        try Data(serialize(.object(lying))).write(to: URL(fileURLWithPath: copy + "/loadtest-cards.json"))
        let (r, json) = try loadtest(s, ["--rate", "20", "--duration", "2", "--concurrency", "4"], demo: copy)
        #expect(r.status == 1, "\(r.stdout)")
        #expect(Self.int(json["wrongAnswers"]) > 0)
        #expect(r.stdout.contains("WRONG ANSWERS"))

        #expect(try Tools.run(Self.kofu, ["loadtest", "--demo", s.demo, "--url", s.url, "--scenario", "nope"]).status == 2)
        #expect(try Tools.run(Self.kofu, ["loadtest", "--demo", s.folder + "/none", "--url", s.url]).status == 1)
    }
}
