import ArgumentParser
import Foundation
import KofuDigest
import KofuHTTPClient
import KofuJSON
import KofuTesting

/// The demo folder's cards (written by `kofu demo`).
enum LoadtestCards {
    static let fileName = "loadtest-cards.json"

    struct Card {
        let household: String
        let name: String
        let householdNames: [String]
        let card: TestCard
    }

    static func load(_ folder: String) throws -> (municipality: String, cards: [Card], residents: [(household: String, name: String)]) {
        let path = folder + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationFailure("cannot read \(path) (run kofu demo first, and pass its working folder)")
        }
        guard case .object(let o) = try JSONParser.parse(Array(data)), case .string(let municipality)? = o["municipality"],
              case .array(let cards)? = o["cards"], case .array(let residents)? = o["residents"] else {
            throw ValidationFailure("\(path): not a kofu demo card file")
        }
        var out: [Card] = []
        for c in cards {
            guard case .object(let co) = c, case .string(let household)? = co["household"], case .string(let name)? = co["name"],
                  case .array(let names)? = co["householdNames"], case .string(let cert)? = co["certificatePEM"],
                  case .string(let key)? = co["privateKeyPEM"] else { throw ValidationFailure("\(path): bad card entry") }
            out.append(Card(household: household, name: name,
                            householdNames: names.compactMap { if case .string(let s) = $0 { s } else { nil } },
                            card: try TestCard(certificatePEM: cert, privateKeyPEM: key)))
        }
        let all: [(String, String)] = residents.compactMap { r in
            guard case .object(let ro) = r, case .string(let h)? = ro["household"], case .string(let n)? = ro["name"] else { return nil }
            return (h, n)
        }
        return (municipality, out, all)
    }
}

struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

struct Loadtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive peak issuance against a running server with the demo municipality's cards.",
        discussion: """
            Signs real requests with the cards of a `kofu demo` working folder (a pool signed before the \
            run, each with issuedAt at its planned send time), sends them at --rate per second over \
            --concurrency keep-alive connections for --duration seconds, and checks every answer: status \
            201, X-Content-SHA256 against the body, a 交付番号 never seen before, X-Page-Count. A sample of \
            the PDFs (the first 20 and every 50th) is read back with pdftotext: it must name the requester \
            and nobody outside the requester's household. Prints throughput, latency percentiles and error \
            counts; exits 1 if any answer was wrong. Traffic goes only to the given URL; use loopback.
            """)

    @Option(help: "The working folder of `kofu demo` (holds loadtest-cards.json).")
    var demo: String

    @Option(help: "The Center API's base URL, e.g. http://127.0.0.1:8443.")
    var url: String

    @Option(help: "Requests per second (open loop).")
    var rate: Int = 500

    @Option(help: "Seconds of traffic.")
    var duration: Double = 10

    @Option(help: "Concurrent keep-alive connections.")
    var concurrency: Int = 32

    @Option(help: "juminhyo scope: self (one person) or household.")
    var scope: String = "self"

    func validate() throws {
        guard rate > 0, rate <= 20_000 else { throw ValidationError("--rate must be 1–20000") }
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be at most 600 s") }
        guard concurrency > 0, concurrency <= 1024 else { throw ValidationError("--concurrency must be 1–1024") }
        guard ["self", "household"].contains(scope) else { throw ValidationError("--scope must be self or household") }
    }

    func run() throws {
        guard let target = URL(string: url), target.scheme == "http", let host = target.host else {
            Self.fail("--url must be http://HOST:PORT (the development-mode listener)")
        }
        let port = target.port ?? 80
        let loaded: (municipality: String, cards: [LoadtestCards.Card], residents: [(household: String, name: String)])
        do {
            loaded = try LoadtestCards.load(demo)
        } catch {
            Self.fail("\(error)")
        }
        let plan = LoadPlan(cards: loaded.cards, residents: loaded.residents, municipality: loaded.municipality,
                            rate: rate, duration: duration, concurrency: concurrency, scope: scope)
        let report = ReportBox()
        let failure = runBlocking { report.value = try await plan.run(host: host, port: port) }
        if let failure { Self.fail("\(failure)") }
        guard let result = report.value else { Self.fail("no result") }
        print(result.text)
        if result.wrong > 0 { Self.exit(withError: ExitCode(1)) }
    }
}

final class ReportBox: @unchecked Sendable { var value: LoadPlan.Result? }

struct LoadPlan: Sendable {
    let cards: [LoadtestCards.Card]
    let residents: [(household: String, name: String)]
    let municipality: String
    let rate: Int
    let duration: Double
    let concurrency: Int
    let scope: String

    struct Result {
        var text: String
        var wrong: Int
    }

    final class Shared: @unchecked Sendable {
        let lock = NSLock()
        var next = 0
        var latencies: [Double] = []
        var statuses: [Int: Int] = [:]
        var wrong: [String] = []
        var ids = Set<String>()
        var samples: [(card: Int, pdf: [UInt8])] = []
        var transportErrors = 0
    }

    func run(host: String, port: Int) async throws -> Result {
        let total = Int(Double(rate) * duration)
        let start = Date().addingTimeInterval(2 + Double(total) / 4000)  // signing happens first
        // Pre-sign the pool on both cores, each request with issuedAt at its planned send time.
        let pool = UnsafeMutableBufferPointer<[UInt8]>.allocate(capacity: total)
        pool.initialize(repeating: [])
        defer { pool.deallocate() }
        let workers = max(1, ProcessInfo.processInfo.activeProcessorCount)
        nonisolated(unsafe) let poolRef = pool
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            var i = w
            while i < total {
                let c = cards[i % cards.count]
                let planned = start.addingTimeInterval(Double(i) / Double(rate))
                let payload = TestMunicipality.payload(issuedAt: planned, municipality: municipality, [
                    ("kind", .string("juminhyo")), ("scope", .string(scope)), ("copies", .number(JSONNumber(1))),
                ])
                poolRef[i] = c.card.sign(payload: payload)
                i += workers
            }
        }
        let shared = Shared()
        let clockStart = ContinuousClock.now + .seconds(max(0, start.timeIntervalSinceNow))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<concurrency {
                group.addTask {
                    var connection = try await HTTPConnection.connect(host: host, port: port)
                    while true {
                        let i: Int = shared.lock.withLock {
                            defer { shared.next += 1 }
                            return shared.next
                        }
                        if i >= total { break }
                        let planned = clockStart + .seconds(Double(i) / Double(rate))
                        if planned > .now { try await Task.sleep(until: planned, clock: .continuous) }
                        let sent = ContinuousClock.now
                        let response: HTTPResponse
                        do {
                            if !(await connection.isOpen) { connection = try await HTTPConnection.connect(host: host, port: port) }
                            response = try await connection.send(method: "POST", path: "/v1/issuances",
                                                                  headers: [("Content-Type", "application/jose")], body: poolRef[i])
                        } catch {
                            shared.lock.withLock { shared.transportErrors += 1 }
                            continue
                        }
                        let elapsed = ContinuousClock.now - sent
                        check(response, index: i, latency: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18,
                              shared: shared)
                    }
                    await connection.close()
                }
            }
            try await group.waitForAll()
        }
        let wall = ContinuousClock.now - clockStart
        let seconds = Double(wall.components.seconds) + Double(wall.components.attoseconds) / 1e18
        // Read a sample of the PDFs back with pdftotext: the requester is named, nobody from elsewhere.
        for (cardIndex, pdf) in shared.samples {
            let c = cards[cardIndex]
            guard let path = try? Tools.temporaryFile(pdf), let text = try? Tools.pdfText(path) else {
                shared.wrong.append("a sampled PDF could not be read")
                continue
            }
            try? FileManager.default.removeItem(atPath: path)
            let squeezed = Tools.squeezed(text)
            if !squeezed.contains(Tools.squeezed(c.name)) { shared.wrong.append("a PDF does not name its requester") }
            let own = Set(c.householdNames.map(Tools.squeezed))
            for r in residents where r.household != c.household && !own.contains(Tools.squeezed(r.name)) {
                if squeezed.contains(Tools.squeezed(r.name)) { shared.wrong.append("a PDF names someone outside the requester's household") }
            }
        }
        let sorted = shared.latencies.sorted()
        func p(_ q: Double) -> String {
            guard !sorted.isEmpty else { return "-" }
            return String(format: "%.1f ms", sorted[min(sorted.count - 1, Int(Double(sorted.count) * q))] * 1000)
        }
        let ok = shared.statuses[201] ?? 0
        var lines = [
            "kofu loadtest: \(total) requests planned at \(rate)/s over \(concurrency) connections (scope \(scope))",
            String(format: "  answered: %d in %.2f s = %.1f issuances/s (201: %d)", sorted.count, seconds, Double(ok) / seconds, ok),
            "  latency: p50 \(p(0.50)), p90 \(p(0.90)), p99 \(p(0.99)), max \(p(1.0))",
            "  statuses: " + shared.statuses.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                + (shared.transportErrors > 0 ? ", transport errors: \(shared.transportErrors)" : ""),
            "  PDFs read back with pdftotext: \(shared.samples.count)",
        ]
        let wrong = shared.wrong.count + shared.transportErrors + (sorted.count - ok)
        if !shared.wrong.isEmpty {
            lines.append("  WRONG ANSWERS: \(shared.wrong.count)")
            for w in Set(shared.wrong).sorted() { lines.append("    \(w)") }
        }
        lines.append(wrong == 0 ? "  every answer was right" : "  \(wrong) answers were not right")
        return Result(text: lines.joined(separator: "\n"), wrong: wrong)
    }

    func check(_ r: HTTPResponse, index: Int, latency: Double, shared: Shared) {
        var problems: [String] = []
        var sample: [UInt8]?
        if r.status == 201 {
            if r.header("Content-Type") != "application/pdf" { problems.append("a 201 without application/pdf") }
            if r.header("X-Content-SHA256") != SHA256.hex(SHA256.hash(r.body)) { problems.append("X-Content-SHA256 does not match the body") }
            if !(r.body.starts(with: Array("%PDF-".utf8))) { problems.append("a body that is not a PDF") }
            if r.header("X-Page-Count").flatMap(Int.init) == nil { problems.append("no X-Page-Count") }
            if index < 20 || index % 50 == 0 { sample = r.body }
        }
        let id = r.header("X-Issuance-Id")
        shared.lock.withLock {
            shared.latencies.append(latency)
            shared.statuses[r.status, default: 0] += 1
            shared.wrong += problems
            if let id, r.status == 201, !shared.ids.insert(id).inserted { shared.wrong.append("a 交付番号 was given twice") }
            if let sample { shared.samples.append((index % cards.count, sample)) }
        }
    }
}
