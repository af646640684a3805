import ArgumentParser
import Foundation
import KofuConfiguration
import KofuHTTPClient
import KofuJSON
import KofuTesting
import Replica

struct Loadtest: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Drive peak issuance against a running server with the demo municipality's cards.",
        discussion: """
            Simulates kiosk sessions with the cards of a `kofu demo` working folder: eligibility, then \
            issuance — mostly one person, some households and chosen members, some 印鑑登録証明書, and a \
            few requests the demo municipality must refuse (each with its expected status and code). \
            Open loop by default: sessions are planned at --rate per second and their latency is measured \
            from the planned time (a slow server cannot hide behind a waiting client); --closed-loop runs \
            --concurrency workers back to back instead. Every answer is checked: status and code, \
            X-Content-SHA256, a 交付番号 never given to another request, and the text of every PDF \
            (read in-process from its ToUnicode CMaps; the checker may lag the load, it finishes before \
            the report): the requested people are named and nobody outside the requester's household. \
            When the demo server's audit log is readable (its folder, or its database with `kofu demo --replica-url`), every certificate is compared with its audit \
            record. --scenario adds the collision cases: same-household (bursts planned for the same \
            instant), same-request (one requestId from several connections: one 交付番号, the same \
            bytes), disconnect (the client drops mid-render, retries, records a failed outcome), sync \
            (sync batches rewrite a household and reseeds switch the replica during the load: each PDF \
            all old or all new), mixed (all of them). A progress line goes to standard error once a \
            second; the report to standard output, and with --report as JSON. Bounded in count \
            (rate × duration) and time (duration + 60 s). Exit 1 if any answer was wrong.
            """)

    @Option(help: "The working folder of `kofu demo` (holds loadtest-cards.json).")
    var demo: String

    @Option(help: "The Center API's base URL, e.g. http://127.0.0.1:8443 (loopback or the URL given).")
    var url: String

    @Option(help: "Issuance requests per second (open loop); each session also asks for eligibility.")
    var rate: Int = 500

    @Option(help: "Seconds of planned traffic.")
    var duration: Double = 10

    @Option(help: "Concurrent keep-alive connections (workers).")
    var concurrency: Int = 32

    @Flag(help: "Closed loop: --concurrency workers send back to back, latency from the actual send.")
    var closedLoop = false

    @Option(help: "mix, same-household, same-request, disconnect, sync or mixed.")
    var scenario: String = "mix"

    @Option(help: "kiosk (eligibility + issuance sessions, the realistic mix), or issuance alone: self or household.")
    var mix: String = "kiosk"

    @Option(help: "Requests per burst or same-request group.")
    var group: Int = 6

    @Option(help: "Write the report as JSON to this file.")
    var report: String?

    @Option(help: "The server's process id, to report its CPU seconds beside the load generator's.")
    var serverPid: Int32?

    @Option(help: "Threads that check PDFs.")
    var checkers: Int = max(1, ProcessInfo.processInfo.activeProcessorCount / 2)

    func validate() throws {
        guard rate > 0, rate <= 20_000 else { throw ValidationError("--rate must be 1–20000") }
        guard duration > 0, duration <= 3600 else { throw ValidationError("--duration must be at most 3600 s") }
        guard concurrency > 0, concurrency <= 1024 else { throw ValidationError("--concurrency must be 1–1024") }
        guard LoadScenario(rawValue: scenario) != nil else {
            throw ValidationError("--scenario must be one of \(LoadScenario.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard group >= 2, group <= 64 else { throw ValidationError("--group must be 2–64") }
        if ["same-household", "same-request", "mixed"].contains(scenario), group > concurrency {
            throw ValidationError("--group must be at most --concurrency (a group is sent from that many connections at once)")
        }
        guard ["kiosk", "self", "household"].contains(mix) else { throw ValidationError("--mix must be kiosk, self or household") }
        guard checkers >= 1, checkers <= 64 else { throw ValidationError("--checkers must be 1–64") }
    }

    func run() throws {
        guard let target = URL(string: url), target.scheme == "http", let host = target.host else {
            Self.fail("--url must be http://HOST:PORT (the development-mode listener)")
        }
        let cards: LoadtestCards
        do { cards = try LoadtestCards.load(demo) } catch { Self.fail("\(error)") }
        let settings = LoadSettings(
            host: host, port: target.port ?? 80, rate: rate, duration: duration, concurrency: concurrency, closedLoop: closedLoop,
            scenario: LoadScenario(rawValue: scenario)!, demoFolder: demo, groupSize: group, serverPID: serverPid,
            progress: true, checkers: checkers, mix: mix)
        let run = LoadRun(settings: settings, demo: cards)
        let box = ResultBox()
        let failure = runBlocking { box.value = try await run.execute() }
        if let failure { Self.fail("\(failure)") }
        guard let result = box.value else { Self.fail("no result") }
        print(result.text)
        if let report {
            do { try Data(serialize(result.json)).write(to: URL(fileURLWithPath: report)) } catch { Self.fail("--report \(report): \(error)") }
        }
        if result.wrong > 0 { Self.exit(withError: ExitCode(1)) }
    }
}

final class ResultBox: @unchecked Sendable { var value: LoadRun.Result? }

/// CPU seconds (user + system) of a process, from /proc/PID/stat.
func cpuSeconds(_ pid: String) -> Double? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
          let close = text.lastIndex(of: ")") else { return nil }
    let fields = text[text.index(after: close)...].split(separator: " ")
    guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
    return (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
}

extension LoadRun {
    struct Result {
        let text: String
        let json: JSONValue
        let wrong: Int
    }

    func execute() async throws -> Result {
        plan()
        // Warm-up: each card's eligibility once, for the memberIds that members sessions choose.
        var connection: HTTPConnection? = try await connect()
        for (i, card) in demo.cards.enumerated() {
            let r = try await post(&connection, "/v1/eligibility", sign(card.card, [], Date()).jws)
            guard r.status == 200, case .object(let o)? = try? JSONParser.parse(r.body), case .array(let certs)? = o["certificates"],
                  case .object(let j)? = certs.first, case .array(let listed)? = j["members"] else {
                throw ValidationFailure("warm-up eligibility for card \(i + 1): \(r.status) \(r.bodyText.prefix(200))")
            }
            members.append(listed.compactMap { m in
                guard case .object(let mo) = m, case .string(let id)? = mo["memberId"], case .string(let n)? = mo["displayName"] else { return nil }
                return (id, n)
            })
            let own = Set(card.householdNames.map(squeeze))
            outside.append(Set(demo.residents.filter { $0.household != card.household && !own.contains(squeeze($0.name)) }
                .map { $0.name }).sorted())
        }
        await connection?.close()
        if demo.syncPort != nil, case .object(let status)? = try? JSONParser.parse(
            (try? await HTTPClient.request(host: settings.host, port: demo.syncPort!, method: "GET", path: "/v1/sync/status"))?.body ?? []),
           case .string? = status["reseededAt"] {
            stats.lock.withLock { stats.reseeded = true }
        }

        let checker = CertificateChecker(stats: stats, workers: settings.checkers, flipOld: flipOld, flipNew: flipNew)
        // Short runs are signed completely before the load starts (as issue 5's loadtest did), so
        // that the generator's CPU goes to sending and checking; long ones at most ~2 s ahead.
        let signAll = totalSlots <= 40_000 && !settings.closedLoop
        let lead = signAll ? unitSizes.count : max(64, settings.rate * 2 / max(1, settings.groupSize / 2))
        let perSession = settings.mix == "kiosk" ? 2.0 : 1.0
        let signLead = 1.0 + (signAll ? Double(totalSlots) * perSession / 2000 : 1.0)
        let start = Date().addingTimeInterval(signLead)
        let source = UnitSource(unitCount: unitSizes.count, lead: lead, threads: max(1, ProcessInfo.processInfo.activeProcessorCount)) {
            [self] u in self.buildUnit(u, start: start)
        }
        if signAll {
            while source.builtCount < unitSizes.count { try await Task.sleep(for: .milliseconds(20)) }
        } else {
            try await Task.sleep(for: .seconds(signLead))
        }
        let clockStart = ContinuousClock.now + .milliseconds(100)
        let hardEnd = clockStart + .seconds(settings.duration + 60)
        let cpuBefore = (cpuSeconds("self"), settings.serverPID.flatMap { cpuSeconds(String($0)) })
        try await Task.sleep(until: clockStart, clock: .continuous)

        let nextSlot = Counter()
        let finished = Counter()
        let progress = Task { [self] in
            let tty = isatty(2) != 0
            while !Task.isCancelled {
                try? await Task.sleep(for: .seconds(1))
                if Task.isCancelled { break }
                let line: String = stats.lock.withLock {
                    String(format: "kofu loadtest: %4.0f s  sessions %d/%d  201 %d  wrong %d  p50 %.1f ms  p99 %.1f ms  unchecked %d",
                           Self.seconds(ContinuousClock.now - clockStart), stats.sessions, totalSlots, stats.issued, stats.wrongCount,
                           stats.session.milliseconds(at: 0.5) ?? 0, stats.session.milliseconds(at: 0.99) ?? 0, checker.backlog)
                }
                FileHandle.standardError.write(Data((tty ? "\r" + line + "   " : line + "\n").utf8))
            }
        }
        let background = Task { [self] in
            if flipping { await flipper(until: clockStart + .seconds(settings.duration)) }
        }
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<settings.concurrency {
                group.addTask { [self] in
                    var connection: HTTPConnection?
                    while true {
                        let s = nextSlot.next()
                        if s >= totalSlots { break }
                        let u = Int(slotUnit[s])
                        let member = s - unitStart[u]
                        if ContinuousClock.now > hardEnd {
                            stats.lock.withLock { stats.unsent += 1 }
                            continue
                        }
                        var unit = source.take(u)
                        while unit == nil {
                            try? await Task.sleep(for: .milliseconds(1))
                            unit = source.take(u)
                        }
                        let planned = clockStart + .seconds(plannedOffset(u))
                        if !settings.closedLoop, planned > .now { try? await Task.sleep(until: planned, clock: .continuous) }
                        let began = settings.closedLoop ? ContinuousClock.now : planned
                        await run(unit!.sessions[member], unit: unit!, connection: &connection, checker: checker, began: began)
                        _ = finished.next()
                    }
                    await connection?.close()
                }
            }
        }
        source.stop()
        let wall = Self.seconds(ContinuousClock.now - clockStart)
        background.cancel()  // a closed loop may finish before --duration: no batches after the load
        await background.value
        await waitForChecker(checker)
        checker.finish()
        progress.cancel()
        _ = await progress.result
        if isatty(2) != 0 { FileHandle.standardError.write(Data("\n".utf8)) }
        let cpuAfter = (cpuSeconds("self"), settings.serverPID.flatMap { cpuSeconds(String($0)) })
        let audit = verifyAudit()
        return report(wall: wall, audit: audit,
                      loadCPU: cpuAfter.0.flatMap { a in cpuBefore.0.map { a - $0 } },
                      serverCPU: cpuAfter.1.flatMap { a in cpuBefore.1.map { a - $0 } })
    }

    /// Compares every certificate with its audit record, when the server's audit log is readable
    /// (the demo folder on this machine): same bytes (pdfSha256), one record per same-request group,
    /// at most one per dropped request, and the failed outcome recorded for it.
    func verifyAudit() -> String {
        guard let data = auditLines() else { return "not readable here; not compared" }
        var shaById: [String: String] = [:]
        var recordsByRequest: [String: Int] = [:]
        var outcomes: [String: String] = [:]
        for line in data.split(separator: 0x0A) {
            guard case .object(let o)? = try? JSONParser.parse(Array(line)), case .object(let r)? = o["record"] else { continue }
            if r["type"] == .string("issuance"), case .string(let id)? = r["issuanceId"], case .string(let sha)? = r["pdfSha256"],
               case .string(let req)? = r["requestId"] {
                shaById[id] = sha
                recordsByRequest[req, default: 0] += 1
            } else if r["type"] == .string("outcome"), case .string(let id)? = r["issuanceId"], case .string(let out)? = r["outcome"] {
                outcomes[id] = out
            }
        }
        let (answered, disconnected) = stats.lock.withLock { (stats.answered, stats.disconnected) }
        var mismatched = 0, missing = 0
        for (id, sha) in answered {
            guard let recorded = shaById[id] else { missing += 1; continue }
            if recorded != sha { mismatched += 1 }
        }
        if missing > 0 { stats.flag("a certificate without an audit record") }
        if mismatched > 0 { stats.flag("a certificate that differs from its audit record") }
        for requestId in groupRequestIdsSeen() where recordsByRequest[requestId, default: 0] != 1 {
            stats.flag("a same-request group without exactly one audit record")
        }
        var voided = 0
        for d in disconnected {
            if recordsByRequest[d.requestId, default: 0] > 1 { stats.flag("a dropped request recorded twice") }
            if let id = d.id {
                if outcomes[id] == "failed" { voided += 1 } else { stats.flag("a dropped request's failed outcome not in the audit log") }
            }
        }
        return "\(answered.count) certificates compared with their records (\(missing) missing, \(mismatched) different); "
            + "\(disconnected.count) dropped requests, \(voided) voided by a failed outcome"
    }

    /// The demo server's audit log: `audit/audit.log` of its folder, or with `kofu demo
    /// --replica-url` the chain in that database.
    func auditLines() -> Data? {
        if let data = FileManager.default.contents(atPath: settings.demoFolder + "/audit/audit.log") { return data }
        guard let config = try? KofuConfig.load(path: settings.demoFolder + "/kofu.toml"), case .postgres(let url) = config.replica,
              let state = try? PostgresIssuanceState(url: url), let export = try? state.auditExport() else { return nil }
        return Data(export.log)
    }

    func groupRequestIdsSeen() -> [String] { stats.lock.withLock { stats.groupRequestIds } }

    func report(wall: Double, audit: String, loadCPU: Double?, serverCPU: Double?) -> Result {
        stats.lock.lock()
        defer { stats.lock.unlock() }
        func ms(_ h: LatencyHistogram, _ q: Double) -> String { h.milliseconds(at: q).map { String(format: "%.1f", $0) } ?? "-" }
        func line(_ name: String, _ h: LatencyHistogram) -> String {
            "  \(name) latency (ms): p50 \(ms(h, 0.5)), p90 \(ms(h, 0.9)), p99 \(ms(h, 0.99)), p99.9 \(ms(h, 0.999)), max \(ms(h, 1)) (\(h.total))"
        }
        let mode = (settings.mix == "kiosk" ? "" : "issuance only, scope \(settings.mix); ")
            + (settings.closedLoop ? "closed loop, \(settings.concurrency) workers" : "open loop at \(settings.rate)/s, \(settings.concurrency) connections")
        var lines = [
            "kofu loadtest: scenario \(settings.scenario.rawValue), \(totalSlots) sessions planned (\(mode))",
            String(format: "  finished %d sessions in %.1f s: %.1f sessions/s, %.1f issuances/s (201: %d)", stats.sessions, wall,
                   Double(stats.sessions) / wall, Double(stats.issued) / wall, stats.issued),
            line("session (from the planned send)", stats.session),
            line("eligibility", stats.eligibility),
            line("issuance", stats.issuance),
            "  answers: " + stats.byCode.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", "),
            "  sessions by kind: " + stats.kinds.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: ", "),
            "  PDFs checked (text, names, 交付番号, pages): \(stats.checked) of \(stats.issued)",
        ]
        if stats.unsent > 0 { lines.append("  not sent before the time bound: \(stats.unsent)") }
        if settings.scenario == .sameRequest || settings.scenario == .mixed {
            lines.append("  same-request groups of \(settings.groupSize): \(stats.sameRequestGroups) complete")
        }
        if flipping {
            lines.append("  during the load: \(stats.flips) sync batches applied (\(stats.flipsRefused) refused or raced), \(stats.reseeds) reseeds"
                         + (stats.reseedFailures.isEmpty ? "" : ", reseed failures: \(stats.reseedFailures.count) (\(stats.reseedFailures[0].prefix(200)))"))
        }
        lines.append("  audit log: \(audit)")
        if let loadCPU {
            lines.append(String(format: "  CPU seconds: load generator %.1f", loadCPU) + (serverCPU.map { String(format: ", server %.1f", $0) } ?? ""))
        }
        if stats.checked != stats.issued { stats.wrong["a certificate that was not checked", default: 0] += 1; stats.wrongCount += 1 }
        if stats.wrongCount > 0 {
            lines.append("  WRONG ANSWERS: \(stats.wrongCount)")
            for (what, n) in stats.wrong.sorted(by: { $0.key < $1.key }) { lines.append("    \(n) × \(what)") }
        } else {
            lines.append("  wrong answers: 0")
        }
        func num(_ v: Double?) -> JSONValue { v.flatMap { JSONNumber((($0 * 1000).rounded()) / 1000) }.map { .number($0) } ?? .null }
        func hist(_ h: LatencyHistogram) -> JSONValue {
            .object(JSONObject([("count", .number(JSONNumber(h.total))), ("p50", num(h.milliseconds(at: 0.5))),
                                ("p90", num(h.milliseconds(at: 0.9))), ("p99", num(h.milliseconds(at: 0.99))),
                                ("p999", num(h.milliseconds(at: 0.999))), ("max", num(h.milliseconds(at: 1))),
                                ("mean", num(h.meanMilliseconds))])!)
        }
        func counts(_ d: [String: Int]) -> JSONValue {
            .object(JSONObject(d.sorted { $0.key < $1.key }.map { (key: $0.key, value: JSONValue.number(JSONNumber($0.value))) })!)
        }
        let json = JSONValue.object(JSONObject([
            ("scenario", .string(settings.scenario.rawValue)), ("mix", .string(settings.mix)), ("loop", .string(settings.closedLoop ? "closed" : "open")),
            ("rate", .number(JSONNumber(settings.rate))), ("duration", num(settings.duration)),
            ("concurrency", .number(JSONNumber(settings.concurrency))), ("planned", .number(JSONNumber(totalSlots))),
            ("sessions", .number(JSONNumber(stats.sessions))), ("issuances", .number(JSONNumber(stats.issued))),
            ("checked", .number(JSONNumber(stats.checked))), ("unsent", .number(JSONNumber(stats.unsent))),
            ("seconds", num(wall)), ("issuancesPerSecond", num(Double(stats.issued) / wall)),
            ("latencyMs", .object(JSONObject([("session", hist(stats.session)), ("eligibility", hist(stats.eligibility)),
                                              ("issuance", hist(stats.issuance))])!)),
            ("answers", counts(stats.byCode)), ("kinds", counts(stats.kinds)), ("wrong", counts(stats.wrong)),
            ("wrongAnswers", .number(JSONNumber(stats.wrongCount))),
            ("sameRequestGroups", .number(JSONNumber(stats.sameRequestGroups))),
            ("syncBatches", .number(JSONNumber(stats.flips))), ("reseeds", .number(JSONNumber(stats.reseeds))),
            ("dropped", .number(JSONNumber(stats.disconnected.count))), ("audit", .string(audit)),
            ("cpuSeconds", .object(JSONObject([("loadGenerator", num(loadCPU)), ("server", num(serverCPU))])!)),
        ])!)
        return Result(text: lines.joined(separator: "\n"), json: json, wrong: stats.wrongCount)
    }
}

final class Counter: @unchecked Sendable {
    private let lock = NSLock()
    private var value = 0
    func next() -> Int { lock.withLock { defer { value += 1 }; return value } }
}
