import Foundation
import KofuDigest
import KofuHTTPClient
import KofuJSON
import KofuTesting

/// The collision scenarios of issue 6, each also a `--scenario` of `kofu loadtest`.
enum LoadScenario: String, CaseIterable, Sendable {
    /// Kiosk sessions: eligibility, then issuance (self, household, members, inkan, refusals).
    case mix
    /// Bursts of sessions for one household planned for the same instant on separate connections.
    case sameHousehold = "same-household"
    /// One byte-identical request (same requestId) sent at once from several connections.
    case sameRequest = "same-request"
    /// Clients that time out and drop the connection mid-render, then retry the same request.
    case disconnect
    /// The mix while sync batches rewrite one household and reseeds switch the replica.
    case sync
    /// All of the above interleaved in one run.
    case mixed
}

struct LoadSettings: Sendable {
    var host: String
    var port: Int
    var rate: Int
    var duration: Double
    var concurrency: Int
    var closedLoop: Bool
    var scenario: LoadScenario
    var demoFolder: String
    var groupSize: Int
    var serverPID: Int32?
    var progress: Bool
    var checkers: Int
    /// `kiosk` (sessions: eligibility + issuance, the realistic mix), or issuance requests alone:
    /// `self` (one-person 住民票, issue 5's profile) or `household`.
    var mix: String = "kiosk"
}

/// What one certificate must show.
struct PDFExpectation: Sendable {
    let mustName: [String]
    let mustNotName: [String]
    /// The household that the sync scenario rewrites: all its people old, or all new.
    let flip: Bool
}

enum Expected: Sendable {
    case certificate(PDFExpectation)
    case refusal(endpoint: String, status: Int, code: String, afterReseed: (status: Int, code: String)? = nil)
}

struct Session: Sendable {
    enum Kind: String, Sendable { case selfJuminhyo = "self", household, members, inkan, refusal, foreignMember = "foreign-member" }
    let kind: Kind
    let eligibility: [UInt8]?
    let eligibilityExpected: Expected?  // .refusal, or nil for 200 with the card's household
    let card: Int?
    let issuance: [UInt8]?
    let requestId: String
    let chosen: [String]
    let expected: Expected
    let disconnectAfter: Duration?
}

final class LoadUnit: @unchecked Sendable {
    let number: Int
    let planned: Double
    let sessions: [Session]
    /// Same-request groups: the answers every member got.
    let group: Bool
    var answers: [(id: String, sha: String)] = []
    var taken = 0
    init(number: Int, planned: Double, sessions: [Session], group: Bool) {
        self.number = number
        self.planned = planned
        self.sessions = sessions
        self.group = group
    }
}

/// A small deterministic generator (SplitMix64) so that a run's mix is reproducible.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func squeeze(_ s: String) -> String { Tools.squeezed(s) }

/// Everything counted during a run, under one lock.
final class LoadStats: @unchecked Sendable {
    let lock = NSLock()
    var session = LatencyHistogram()
    var eligibility = LatencyHistogram()
    var issuance = LatencyHistogram()
    var byCode: [String: Int] = [:]
    var wrong: [String: Int] = [:]
    var wrongCount = 0
    var issued = 0  // 201s
    var sessions = 0
    var unsent = 0
    var checked = 0
    var ids: [String: Int] = [:]  // 交付番号 → unit number
    var answered: [(id: String, sha: String)] = []
    var disconnected: [(requestId: String, id: String?, sha: String?)] = []
    var sameRequestGroups = 0
    var groupRequestIds: [String] = []
    var flips = 0
    var flipsRefused = 0
    var reseeds = 0
    var reseeded = false
    var reseedFailures: [String] = []
    var kinds: [String: Int] = [:]

    func flag(_ what: String) {
        lock.withLock {
            wrong[what, default: 0] += 1
            wrongCount += 1
        }
    }

    func count(_ code: String) { lock.withLock { byCode[code, default: 0] += 1 } }
}

/// Checks certificates on worker threads, behind a bounded queue: extraction may lag the load,
/// but every PDF is checked before the report.
final class CertificateChecker: @unchecked Sendable {
    struct Job {
        let pdf: [UInt8]
        let id: String
        let pages: Int
        let expectation: PDFExpectation
    }

    private let condition = NSCondition()
    private var queue: [Job] = []
    private var head = 0
    private var closed = false
    private var running = 0
    let capacity = 4096
    let stats: LoadStats
    let flipOld: [String]
    let flipNew: [String]
    private var threads: [Thread] = []

    init(stats: LoadStats, workers: Int, flipOld: [String], flipNew: [String]) {
        self.stats = stats
        self.flipOld = flipOld
        self.flipNew = flipNew
        for _ in 0..<max(1, workers) {
            let t = Thread { [self] in self.work() }
            t.stackSize = 1 << 22
            threads.append(t)
            running += 1
            t.start()
        }
    }

    var backlog: Int { condition.withLock { queue.count - head } }

    /// False when the queue is full (the caller waits and tries again).
    func offer(_ job: Job) -> Bool {
        condition.withLock {
            guard queue.count - head < capacity else { return false }
            queue.append(job)
            condition.signal()
            return true
        }
    }

    /// Waits until every queued PDF has been checked.
    func finish() {
        condition.lock()
        closed = true
        condition.broadcast()
        while running > 0 { condition.wait() }
        condition.unlock()
    }

    private func work() {
        while true {
            condition.lock()
            while head == queue.count && !closed { condition.wait() }
            if head == queue.count && closed {
                running -= 1
                condition.broadcast()
                condition.unlock()
                return
            }
            let job = queue[head]
            head += 1
            if head > 1024 && head * 2 > queue.count {
                queue.removeFirst(head)
                head = 0
            }
            condition.unlock()
            check(job)
        }
    }

    func check(_ job: Job) {
        for problem in Self.problems(job, flipOld: flipOld, flipNew: flipNew) { stats.flag(problem) }
        stats.lock.withLock { stats.checked += 1 }
    }

    static func problems(_ job: Job, flipOld: [String], flipNew: [String]) -> [String] {
        CertificateCheck.problems(pdf: job.pdf, issuanceId: job.id, pages: job.pages, mustName: job.expectation.mustName,
                                  mustNotName: job.expectation.mustNotName,
                                  flip: job.expectation.flip ? (flipOld, flipNew) : nil)
    }
}

/// Signs the plan's units ahead of the load on threads of its own, at most `lead` units ahead of
/// the slowest worker, each request with `issuedAt` at its planned send time.
final class UnitSource: @unchecked Sendable {
    private let condition = NSCondition()
    private var ready: [Int: LoadUnit] = [:]
    private var nextToBuild = 0
    private(set) var built = 0
    private var highestTaken = 0
    private var stopped = false
    let unitCount: Int
    let lead: Int
    let build: @Sendable (Int) -> LoadUnit

    init(unitCount: Int, lead: Int, threads: Int, build: @escaping @Sendable (Int) -> LoadUnit) {
        self.unitCount = unitCount
        self.lead = lead
        self.build = build
        for _ in 0..<max(1, threads) {
            let t = Thread { [self] in self.produce() }
            t.start()
        }
    }

    private func produce() {
        while true {
            condition.lock()
            while !stopped && nextToBuild < unitCount && nextToBuild > highestTaken + lead { condition.wait() }
            if stopped || nextToBuild >= unitCount {
                condition.unlock()
                return
            }
            let u = nextToBuild
            nextToBuild += 1
            condition.unlock()
            let unit = build(u)
            condition.withLock {
                ready[u] = unit
                built += 1
                condition.broadcast()
            }
        }
    }

    /// The unit, once built; it leaves the table when all its members were taken.
    func take(_ u: Int) -> LoadUnit? {
        condition.withLock {
            highestTaken = max(highestTaken, u)
            condition.broadcast()
            guard let unit = ready[u] else { return nil }
            unit.taken += 1
            if unit.taken == unit.sessions.count { ready[u] = nil }
            return unit
        }
    }

    var builtCount: Int { condition.withLock { built } }

    func stop() { condition.withLock { stopped = true; condition.broadcast() } }
}
