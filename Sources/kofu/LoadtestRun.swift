import Foundation
import KofuDigest
import KofuHTTPClient
import KofuJSON
import KofuTesting

/// One bounded `kofu loadtest` run: plan → sign ahead → workers (open or closed loop) → checker
/// → audit log cross-check → report.
final class LoadRun: @unchecked Sendable {
    let settings: LoadSettings
    let demo: LoadtestCards
    let stats = LoadStats()
    /// memberId → displayName, per card, from a warm-up eligibility call.
    var members: [[(id: String, name: String)]] = []
    var outside: [[String]] = []
    let flipOld = [squeeze("平成31年4月30日"), squeeze("架空市見本町")]
    let flipNew = [squeeze("令和2年4月30日"), squeeze("架空市新町")]

    init(settings: LoadSettings, demo: LoadtestCards) {
        self.settings = settings
        self.demo = demo
    }

    // MARK: - The plan

    var unitSizes: [Int] = []
    var unitStart: [Int] = []
    var slotUnit: [Int32] = []
    var totalSlots = 0

    func kindOfUnit(_ u: Int) -> (size: Int, what: String) {
        let k = settings.groupSize
        switch settings.scenario {
        case .mix, .sync: return (1, "mix")
        case .sameHousehold: return (k, "burst")
        case .sameRequest: return (k, "group")
        case .disconnect: return (1, u % 2 == 0 ? "disconnect" : "mix")
        case .mixed:
            switch u % 12 {
            case 0: return (k, "burst")
            case 5: return (k, "group")
            case 3, 9: return (1, "disconnect")
            default: return (1, "mix")
            }
        }
    }

    func plan() {
        let total = Int(Double(settings.rate) * settings.duration)
        var s = 0
        var u = 0
        while s < total {
            let size = kindOfUnit(u).size
            unitSizes.append(size)
            unitStart.append(s)
            for _ in 0..<size { slotUnit.append(Int32(u)) }
            s += size
            u += 1
        }
        totalSlots = s
    }

    func plannedOffset(_ u: Int) -> Double { Double(unitStart[u]) / Double(settings.rate) }

    // MARK: - Sessions

    var flipping: Bool { settings.scenario == .sync || settings.scenario == .mixed }

    func expectation(card c: Int, subjects: [String]) -> PDFExpectation {
        let card = demo.cards[c]
        let subjectSet = Set(subjects.map(squeeze))
        let head = squeeze(card.headName)
        let others = card.householdNames.filter { !subjectSet.contains(squeeze($0)) && squeeze($0) != head }
        return PDFExpectation(mustName: subjects, mustNotName: outside[c] + others,
                              flip: card.household == demo.flipHousehold && !demo.flipRecords.isEmpty)
    }

    func common(_ requestId: String, _ at: Date) -> [(String, JSONValue)] {
        [("requestId", .string(requestId)), ("issuedAt", .string(TestMunicipality.rfc3339(at))),
         ("municipality", .string(demo.municipality)),
         ("terminal", .object(JSONObject([("terminalId", .string("LOADTEST-\(requestId.prefix(4))")), ("storeCode", .string("STORE-LT"))])!))]
    }

    func sign(_ card: TestCard, _ fields: [(String, JSONValue)], _ at: Date) -> (jws: [UInt8], requestId: String) {
        let id = UUID().uuidString.lowercased()
        let payload = serialize(.object(JSONObject((common(id, at) + fields).map { (key: $0.0, value: $0.1) })!))
        return (card.sign(payload: payload), id)
    }

    static let one: JSONValue = .number(JSONNumber(1))

    func mixSession(_ rng: inout SplitMix, at: Date, preferFlip: Bool) -> Session {
        let cards = demo.cards
        var c = Int(rng.next() % UInt64(cards.count))
        if preferFlip, let flip = cards.firstIndex(where: { $0.household == demo.flipHousehold }), rng.next() % 100 < 30 { c = flip }
        let r = preferFlip && cards[c].household == demo.flipHousehold ? 60 : Int(rng.next() % 100)
        let card = cards[c]
        let elig = sign(card.card, [], at).jws
        func issuance(_ kind: Session.Kind, _ fields: [(String, JSONValue)], _ expected: Expected, chosen: [String] = []) -> Session {
            let (jws, id) = sign(card.card, fields, at)
            return Session(kind: kind, eligibility: elig, eligibilityExpected: nil, card: c, issuance: jws, requestId: id,
                           chosen: chosen, expected: expected, disconnectAfter: nil)
        }
        let household = members[c]
        if settings.mix != "kiosk" {
            let scope = settings.mix == "household" ? "household" : "self"
            let (jws, id) = sign(card.card, [("kind", .string("juminhyo")), ("scope", .string(scope)), ("copies", Self.one)], at)
            return Session(kind: scope == "self" ? .selfJuminhyo : .household, eligibility: nil, eligibilityExpected: nil, card: c,
                           issuance: jws, requestId: id, chosen: [],
                           expected: .certificate(expectation(card: c, subjects: scope == "self" ? [card.name] : card.householdNames)),
                           disconnectAfter: nil)
        }
        let selfFields: [(String, JSONValue)] = [("kind", .string("juminhyo")), ("scope", .string("self")), ("copies", Self.one)]
        if r < 55 {
            return issuance(.selfJuminhyo, selfFields, .certificate(expectation(card: c, subjects: [card.name])))
        }
        if r < 67 {
            let options = JSONObject([("domicile", .bool(rng.next() % 2 == 0)), ("relationship", .bool(rng.next() % 2 == 0)),
                                      ("foreignResidentItems", .bool(rng.next() % 2 == 0))])!
            return issuance(.household, [("kind", .string("juminhyo")), ("scope", .string("household")),
                                         ("copies", .number(JSONNumber(Int(rng.next() % 3) + 1))), ("options", .object(options))],
                            .certificate(expectation(card: c, subjects: card.householdNames)))
        }
        if r < 79 && household.count > 1 {
            var picked = household.filter { _ in rng.next() % 2 == 0 }
            if picked.isEmpty { picked = [household[Int(rng.next() % UInt64(household.count))]] }
            return issuance(.members, [("kind", .string("juminhyo")), ("scope", .string("members")), ("copies", Self.one),
                                       ("members", .array(picked.map { .string($0.id) }))],
                            .certificate(expectation(card: c, subjects: picked.map(\.name))), chosen: picked.map(\.id))
        }
        if r < 86, let s = cards.indices.first(where: { cards[$0].seal }) {
            let sealCard = cards[s]
            let (jws, id) = sign(sealCard.card, [("kind", .string("inkan")), ("scope", .string("self")), ("copies", Self.one)], at)
            return Session(kind: .inkan, eligibility: sign(sealCard.card, [], at).jws, eligibilityExpected: nil, card: s, issuance: jws,
                           requestId: id, chosen: [], expected: .certificate(expectation(card: s, subjects: [sealCard.name])),
                           disconnectAfter: nil)
        }
        // Another household's memberId, taken from that household's own eligibility answer.
        if r < 88, let other = members.indices.first(where: { cards[$0].household != card.household && !members[$0].isEmpty }) {
            return issuance(.foreignMember, [("kind", .string("juminhyo")), ("scope", .string("members")), ("copies", Self.one),
                                             ("members", .array([.string(members[other][0].id)]))],
                            .refusal(endpoint: "issuance", status: 403, code: "NOT_SAME_HOUSEHOLD"))
        }
        guard r >= 86, !demo.refusals.isEmpty else {
            return issuance(.selfJuminhyo, selfFields, .certificate(expectation(card: c, subjects: [card.name])))
        }
        let refusal = demo.refusals[Int(rng.next() % UInt64(demo.refusals.count))]
        let (jws, id) = sign(refusal.card, refusal.fields, at)
        let expected = Expected.refusal(endpoint: refusal.endpoint, status: refusal.status, code: refusal.code,
                                        afterReseed: refusal.afterReseed)
        if refusal.endpoint == "eligibility" {
            return Session(kind: .refusal, eligibility: jws, eligibilityExpected: expected, card: nil, issuance: nil,
                           requestId: id, chosen: [], expected: expected, disconnectAfter: nil)
        }
        return Session(kind: .refusal, eligibility: nil, eligibilityExpected: nil, card: nil, issuance: jws, requestId: id,
                       chosen: [], expected: expected, disconnectAfter: nil)
    }

    func buildUnit(_ u: Int, start: Date) -> LoadUnit {
        var rng = SplitMix(state: UInt64(u) &* 0x2545_F491_4F6C_DD1D &+ 17)
        let planned = plannedOffset(u)
        let at = settings.closedLoop ? Date() : start.addingTimeInterval(planned)
        let (size, what) = kindOfUnit(u)
        var sessions: [Session] = []
        switch what {
        case "burst":
            // One household, many requests planned for the same instant.
            let household = demo.cards[Int(rng.next() % UInt64(demo.cards.count))].household
            let same = demo.cards.indices.filter { demo.cards[$0].household == household }
            for _ in 0..<size {
                var s: Session
                repeat { s = mixSession(&rng, at: at, preferFlip: false) } while (s.card.map { !same.contains($0) } ?? true)
                sessions.append(s)
            }
        case "group":
            var s: Session
            repeat { s = mixSession(&rng, at: at, preferFlip: flipping) } while s.kind == .refusal || s.kind == .foreignMember
            sessions = Array(repeating: s, count: size)
        case "disconnect":
            var s: Session
            repeat { s = mixSession(&rng, at: at, preferFlip: flipping) } while s.kind == .refusal || s.kind == .foreignMember
            // Drop the connection after 1–40 ms: before, during or just after rendering.
            sessions = [Session(kind: s.kind, eligibility: nil, eligibilityExpected: nil, card: s.card, issuance: s.issuance,
                                requestId: s.requestId, chosen: s.chosen, expected: s.expected,
                                disconnectAfter: .milliseconds(Int(rng.next() % 40) + 1))]
        default:
            sessions = [mixSession(&rng, at: at, preferFlip: flipping)]
        }
        return LoadUnit(number: u, planned: planned, sessions: sessions, group: what == "group")
    }

    // MARK: - HTTP

    func connect() async throws -> HTTPConnection {
        try await HTTPConnection.connect(host: settings.host, port: settings.port)
    }

    func post(_ connection: inout HTTPConnection?, _ path: String, _ body: [UInt8], type: String = "application/jose",
              timeout: Duration = .seconds(30)) async throws -> HTTPResponse {
        for attempt in 0..<2 {
            if connection == nil { connection = try await connect() }
            do {
                return try await connection!.send(method: "POST", path: path, headers: [("Content-Type", type)], body: body,
                                                  timeout: timeout)
            } catch HTTPClientError.closed where attempt == 0 {
                connection = nil  // a keep-alive connection the server closed: once more on a new one
            } catch {
                connection = nil
                throw error
            }
        }
        throw HTTPClientError.closed
    }

    static func problemCode(_ r: HTTPResponse) -> (code: String?, requestId: String?) {
        guard case .object(let o)? = try? JSONParser.parse(r.body) else { return (nil, nil) }
        var code: String?, id: String?
        if case .string(let c)? = o["code"] { code = c }
        if case .string(let i)? = o["requestId"] { id = i }
        return (code, id)
    }

    static func seconds(_ d: Duration) -> Double {
        Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18
    }

    // MARK: - One session

    func run(_ session: Session, unit: LoadUnit, connection: inout HTTPConnection?, checker: CertificateChecker,
             began: ContinuousClock.Instant) async {
        defer {
            let elapsed = Self.seconds(ContinuousClock.now - began)
            stats.lock.withLock {
                stats.session.record(seconds: elapsed)
                stats.sessions += 1
                stats.kinds[session.disconnectAfter != nil ? "disconnect" : unit.group ? "same-request" : session.kind.rawValue, default: 0] += 1
            }
        }
        if let eligibility = session.eligibility {
            let sent = ContinuousClock.now
            let r: HTTPResponse
            do {
                r = try await post(&connection, "/v1/eligibility", eligibility)
            } catch {
                stats.count("eligibility transport: \(error)")
                return
            }
            let latency = Self.seconds(ContinuousClock.now - sent)
            stats.lock.withLock { stats.eligibility.record(seconds: latency) }
            let (code, _) = Self.problemCode(r)
            stats.count("eligibility \(r.status)" + (code.map { " " + $0 } ?? ""))
            if case .refusal(_, let status, let expectedCode, let alternative)? = session.eligibilityExpected {
                if (r.status != status || code != expectedCode) && !acceptsAfterReseed(alternative, r.status, code) {
                    stats.flag("eligibility refusal expected \(status) \(expectedCode), got \(r.status) \(code ?? "-")")
                }
                return
            }
            checkEligibility(r, session: session)
        }
        guard let issuance = session.issuance else { return }
        let sent = ContinuousClock.now
        var r: HTTPResponse
        if let drop = session.disconnectAfter {
            do {
                r = try await post(&connection, "/v1/issuances", issuance, timeout: drop)
            } catch {
                // The kiosk gave up: the connection is closed mid-request. It retries the same
                // request, as a kiosk does after a timeout, then tells the server it printed nothing.
                connection = nil
                stats.count("issuance dropped by the client")
                do {
                    r = try await post(&connection, "/v1/issuances", issuance)
                } catch {
                    stats.count("issuance transport: \(error)")
                    stats.lock.withLock { stats.disconnected.append((session.requestId, nil, nil)) }
                    return
                }
                let id = r.header("X-Issuance-Id")
                check(r, session: session, unit: unit, checker: checker, latency: Self.seconds(ContinuousClock.now - sent))
                if r.status == 201, let id {
                    stats.lock.withLock { stats.disconnected.append((session.requestId, id, r.header("X-Content-SHA256"))) }
                    await recordFailedOutcome(id, connection: &connection)
                }
                await waitForChecker(checker)
                return
            }
        } else {
            do {
                r = try await post(&connection, "/v1/issuances", issuance)
            } catch {
                stats.count("issuance transport: \(error)")
                return
            }
        }
        check(r, session: session, unit: unit, checker: checker, latency: Self.seconds(ContinuousClock.now - sent))
        await waitForChecker(checker)
    }

    var pending: [CertificateChecker.Job] = []
    let pendingLock = NSLock()

    /// Hands queued PDFs to the checker, waiting (without blocking a thread) while it is full.
    func waitForChecker(_ checker: CertificateChecker) async {
        while true {
            let job: CertificateChecker.Job? = pendingLock.withLock { pending.isEmpty ? nil : pending.removeLast() }
            guard let job else { return }
            while !checker.offer(job) { try? await Task.sleep(for: .milliseconds(5)) }
        }
    }

    func recordFailedOutcome(_ id: String, connection: inout HTTPConnection?) async {
        let body = Array(#"{"outcome":"failed","detail":"loadtest: the kiosk dropped the connection"}"#.utf8)
        do {
            let r = try await post(&connection, "/v1/issuances/\(id)/outcome", body, type: "application/json")
            stats.count("outcome \(r.status)")
            var outcome: String?
            if case .object(let o)? = try? JSONParser.parse(r.body), case .string(let v)? = o["outcome"] { outcome = v }
            if r.status != 200 || outcome != "failed" { stats.flag("a failed outcome not recorded (\(r.status))") }
        } catch {
            stats.count("outcome transport: \(error)")
        }
    }

    /// Whether the server has been reseeded (before this run, or by it): then some refusals change.
    var reseeded: Bool { stats.lock.withLock { stats.reseeded } }

    func acceptsAfterReseed(_ alternative: (status: Int, code: String)?, _ status: Int, _ code: String?) -> Bool {
        guard let alternative, reseeded else { return false }
        return alternative.status == status && alternative.code == code
    }

    func checkEligibility(_ r: HTTPResponse, session: Session) {
        guard r.status == 200, let c = session.card else {
            stats.flag("eligibility expected 200, got \(r.status) \(Self.problemCode(r).code ?? "-")")
            return
        }
        let card = demo.cards[c]
        guard case .object(let o)? = try? JSONParser.parse(r.body), case .array(let certificates)? = o["certificates"],
              let juminhyo = certificates.first(where: { if case .object(let x) = $0 { x["kind"] == .string("juminhyo") } else { false } }),
              case .object(let j) = juminhyo, case .array(let listed)? = j["members"] else {
            stats.flag("an eligibility answer without juminhyo members")
            return
        }
        let allowed = Set(card.householdNames.map { Array($0.unicodeScalars.map(\.value)) })
        var ids = Set<String>()
        var selfSeen = false
        for m in listed {
            guard case .object(let mo) = m, case .string(let id)? = mo["memberId"], case .string(let name)? = mo["displayName"] else {
                stats.flag("an eligibility member without memberId or displayName")
                return
            }
            ids.insert(id)
            if !allowed.contains(Array(name.unicodeScalars.map(\.value))) { stats.flag("eligibility lists someone outside the household") }
            if mo["self"] == .bool(true) {
                selfSeen = true
                if !name.unicodeScalars.elementsEqual(card.name.unicodeScalars) { stats.flag("eligibility's self is another person") }
            }
        }
        if !selfSeen { stats.flag("eligibility without the requester") }
        if !Set(session.chosen).isSubset(of: ids) { stats.flag("memberIds changed between eligibility answers") }
    }

    func check(_ r: HTTPResponse, session: Session, unit: LoadUnit, checker: CertificateChecker, latency: Double) {
        let (code, requestId) = Self.problemCode(r)
        stats.lock.withLock {
            stats.issuance.record(seconds: latency)
            stats.byCode["issuance \(r.status)" + (r.status == 201 ? "" : " " + (code ?? "-")), default: 0] += 1
        }
        switch session.expected {
        case .refusal(_, let status, let expectedCode, let alternative):
            if (r.status != status || code != expectedCode) && !acceptsAfterReseed(alternative, r.status, code) {
                stats.flag("refusal expected \(status) \(expectedCode), got \(r.status) \(code ?? "-")")
            } else if requestId != session.requestId {
                stats.flag("a problem document whose requestId is not the request's")
            }
        case .certificate(let expectation):
            guard r.status == 201 else {
                stats.flag("expected 201, got \(r.status) \(code ?? "-")")
                return
            }
            let sha = SHA256.hex(SHA256.hash(r.body))
            guard r.header("Content-Type") == "application/pdf", r.header("X-Content-SHA256") == sha,
                  let id = r.header("X-Issuance-Id"), let pages = r.header("X-Page-Count").flatMap(Int.init) else {
                stats.flag("a 201 whose headers do not match its body")
                return
            }
            var groupResult: [(id: String, sha: String)]?
            stats.lock.withLock {
                stats.issued += 1
                if let owner = stats.ids[id], owner != unit.number {
                    stats.wrong["a 交付番号 given to two requests", default: 0] += 1
                    stats.wrongCount += 1
                } else if stats.ids[id] == nil {
                    stats.ids[id] = unit.number
                    stats.answered.append((id, sha))
                }
                if unit.group {
                    unit.answers.append((id, sha))
                    if unit.answers.count == unit.sessions.count { groupResult = unit.answers }
                }
            }
            if let answers = groupResult {
                stats.lock.withLock {
                    stats.sameRequestGroups += 1
                    stats.groupRequestIds.append(session.requestId)
                }
                if Set(answers.map(\.id)).count != 1 || Set(answers.map(\.sha)).count != 1 {
                    stats.flag("one requestId answered with different 交付番号 or bytes")
                }
            }
            // Every PDF is checked; a group's identical bytes once per answer is cheap enough.
            pendingLock.withLock { pending.append(CertificateChecker.Job(pdf: r.body, id: id, pages: pages, expectation: expectation)) }
        }
    }

    // MARK: - Background: sync batches and reseeds

    func syncStatus() async throws -> Int64 {
        guard let port = demo.syncPort else { throw ValidationFailure("no sync port in the demo's card file") }
        let r = try await HTTPClient.request(host: settings.host, port: port, method: "GET", path: "/v1/sync/status")
        guard case .object(let o)? = try? JSONParser.parse(r.body), case .number(let n)? = o["lastSeq"], let v = n.int64 else {
            throw ValidationFailure("sync status: \(r.status)")
        }
        return v
    }

    func flipBatch(firstSeq: Int64, version: Int, new: Bool) -> [UInt8] {
        var seq = firstSeq
        let events: [JSONValue] = demo.flipRecords.map { record in
            var order = 1
            if case .number(let n)? = record["householdOrder"], let v = n.int64 { order = Int(v) }
            let changed = record.members.map { m -> (key: String, value: JSONValue) in
                switch m.key {
                case "version": return (m.key, .number(JSONNumber(version)))
                case "address" where new: return (m.key, .string("大阪府架空市新町\(order)番地"))
                case "addressSetOn" where new: return (m.key, .string("2020-04-30"))
                default: return m
                }
            }
            defer { seq += 1 }
            return .object(JSONObject([("seq", .number(JSONNumber(seq))), ("type", .string("resident.upsert")),
                                       ("resident", .object(JSONObject(changed)!))])!)
        }
        return serialize(.object(JSONObject([("events", .array(events))])!))
    }

    func flipper(until end: ContinuousClock.Instant) async {
        guard let port = demo.syncPort, !demo.flipRecords.isEmpty else { return }
        let started = ContinuousClock.now
        let span = end - started
        var reseedsDone = 0
        var version = 2 + Int(Date().timeIntervalSince1970) % 1_000_000  // above any earlier run's
        while ContinuousClock.now < end && !Task.isCancelled {
            try? await Task.sleep(for: .milliseconds(500))
            if Task.isCancelled { break }
            version += 1
            do {
                let last = try await syncStatus()
                let r = try await HTTPClient.request(host: settings.host, port: port, method: "POST", path: "/v1/sync/batches",
                                                     headers: [("Content-Type", "application/json")],
                                                     body: flipBatch(firstSeq: last + 1, version: version, new: version % 2 == 0))
                stats.lock.withLock { if r.status == 200 { stats.flips += 1 } else { stats.flipsRefused += 1 } }
            } catch {
                stats.lock.withLock { stats.flipsRefused += 1 }
            }
            // Reseeds at a third and two thirds of the run.
            let due = Int(3 * Self.seconds(ContinuousClock.now - started) / max(Self.seconds(span), 1))
            if reseedsDone < 2 && due > reseedsDone {
                reseedsDone += 1
                await reseed()
            }
        }
    }

    func reseed() async {
        let extract = settings.demoFolder + "/" + LoadtestCards.extractName
        let config = settings.demoFolder + "/kofu.toml"
        guard FileManager.default.fileExists(atPath: extract), FileManager.default.fileExists(atPath: config) else {
            stats.lock.withLock { stats.reseedFailures.append("no \(LoadtestCards.extractName) or kofu.toml in the demo folder") }
            return
        }
        stats.lock.withLock { stats.reseeded = true }  // before it commits: answers may change from now on
        let executable = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        let result = await Task.detached { try? Tools.run(executable, ["reseed", "--config", config, "--extract", extract]) }.value
        stats.lock.withLock {
            if result?.status == 0 { stats.reseeds += 1 } else { stats.reseedFailures.append(result?.stderr ?? "kofu reseed did not run") }
        }
    }
}
