import CardAuth
import Certificates
import Foundation
import KofuConfiguration
import KofuDigest
import KofuJSON
import Replica

/// Where CPU-heavy, blocking work (RSA, path validation, SQLite reads, rendering) runs: the server
/// hands in a bounded thread pool so that the event loops never block.
public protocol WorkRunner: Sendable {
    func run<T: Sendable>(_ body: @escaping @Sendable () throws(IssuanceError) -> T) async throws(IssuanceError) -> T
}

/// An event for the operators' log: opaque references and codes only, never resident data.
public struct OperatorEvent: Sendable {
    public enum Level: String, Sendable { case info, warning, error }
    public let level: Level
    public let message: String
    public let requestId: String?
}

/// A successful answer, as the HTTP layer writes it.
public struct Answer: Sendable {
    public enum Body: Sendable {
        case json([UInt8])
        case pdf([UInt8], issuanceId: String, pageCount: Int, copies: Int, sha256: String)
    }
    public let requestId: String?
    public let status: Int
    public let body: Body
    /// The kind of a newly issued certificate (a replayed answer is not new), for the metrics.
    public let newIssuance: CertificateKind?
}

public struct IssuanceSettings: Sendable {
    public var municipalityCode: String
    public var minRequesterAge: Int
    public var hours: ServiceHours
    public var closed: [MonthDay]
    public var clockSkewSeconds: Int
    /// How long an answered request is remembered (center-api.md: 24 h).
    public var answerRetentionSeconds: Int = 24 * 3600

    public init(municipalityCode: String, minRequesterAge: Int, hours: ServiceHours, closed: [MonthDay], clockSkewSeconds: Int) {
        self.municipalityCode = municipalityCode
        self.minRequesterAge = minRequesterAge
        self.hours = hours
        self.closed = closed
        self.clockSkewSeconds = clockSkewSeconds
    }

    public init(_ config: KofuConfig) {
        self.init(municipalityCode: config.municipality.code, minRequesterAge: config.issuance.minRequesterAge,
                  hours: config.issuance.hours, closed: config.issuance.closed, clockSkewSeconds: config.trust.clockSkewSeconds)
    }
}

/// The use case of center-api.md: authenticate → authorize → snapshot → render → audit → answer.
///
/// Every request is one transaction: everything it reads comes from one replica snapshot, its
/// certificate is rendered from values of that snapshot into buffers of its own, and nothing
/// outlives the request except the durable answer record (for idempotency) and the audit record.
public final class IssuanceService: Sendable {
    let settings: IssuanceSettings
    let replica: any ReplicaStore
    let records: any IssuanceRecords
    let trust: TrustStore
    let renderer: CertificateRenderer
    let hasher: KeyedHasher
    let runner: any WorkRunner
    let clock: @Sendable () -> Date
    let events: @Sendable (OperatorEvent) -> Void
    private let inFlight = InFlightRequests()
    private let committer: GroupCommitter<Durable>
    private let outcomeLock = NSLock()
    private let suspension = SuspensionFlag()

    struct Durable: Sendable {
        let audit: JSONObject?
        let answer: StoredAnswer
        /// The answer kept for the requestId, set by the commit before the submitter resumes.
        let kept = Kept()
    }

    final class Kept: @unchecked Sendable {
        var answer: StoredAnswer?
    }

    /// One server's service, with the answers in `state` and the audit chain in `audit`.
    public convenience init(settings: IssuanceSettings, replica: any ReplicaStore, state: IssuanceStateStore, audit: AuditLog,
                            trust: TrustStore, renderer: CertificateRenderer, hasher: KeyedHasher, runner: any WorkRunner,
                            clock: @escaping @Sendable () -> Date = { Date() },
                            events: @escaping @Sendable (OperatorEvent) -> Void = { _ in }) {
        self.init(settings: settings, replica: replica, records: LocalIssuanceRecords(state: state, audit: audit), trust: trust,
                  renderer: renderer, hasher: hasher, runner: runner, clock: clock, events: events)
    }

    public init(settings: IssuanceSettings, replica: any ReplicaStore, records: any IssuanceRecords,
                trust: TrustStore, renderer: CertificateRenderer, hasher: KeyedHasher, runner: any WorkRunner,
                clock: @escaping @Sendable () -> Date = { Date() },
                events: @escaping @Sendable (OperatorEvent) -> Void = { _ in }) {
        self.settings = settings
        self.replica = replica
        self.records = records
        self.trust = trust
        self.renderer = renderer
        self.hasher = hasher
        self.runner = runner
        self.clock = clock
        self.events = events
        let clockCopy = clock
        committer = GroupCommitter(name: "kofu-durable") { items in
            // The audit record first: a certificate is never answered (nor replayable) unaudited.
            let kept = try records.commit(items.map { (audit: $0.audit, answer: $0.answer) },
                                          createdAt: Int64(clockCopy().timeIntervalSince1970))
            for (item, answer) in zip(items, kept) { item.kept.answer = answer }
        }
    }

    /// SERVICE_SUSPENDED for every card request while set (operators' maintenance).
    public var isSuspended: Bool {
        get { suspension.value }
        set { suspension.value = newValue }
    }

    // MARK: - Endpoints

    public func eligibility(_ body: [UInt8]) async -> Result<Answer, IssuanceError> {
        await handle(endpoint: "eligibility", body: body)
    }

    public func issue(_ body: [UInt8]) async -> Result<Answer, IssuanceError> {
        await handle(endpoint: "issuances", body: body)
    }

    /// Erases answer bodies that can no longer be replayed and forgets old answers.
    public func maintenance() {
        do {
            try records.purge(now: Int64(clock().timeIntervalSince1970))
        } catch {
            events(OperatorEvent(level: .error, message: "idempotency purge failed: \(error)", requestId: nil))
        }
    }

    // MARK: - The pipeline

    /// What phase A established: the request is well-formed, signed by a valid card bound to a
    /// current resident, and fresh.
    struct Authenticated: Sendable {
        let requestId: String
        let received: Date
        let payloadSHA256: [UInt8]
        let certSHA256: String
        let issuedAt: Date
        /// The issuance fields; nil for an eligibility request.
        let issuance: IssuancePayload?
    }

    /// What the pool job decided, on one snapshot.
    enum Step: Sendable {
        case produced(Authenticated, InFlightRequests.Waiter, Produced)
        case failedOwner(String, InFlightRequests.Waiter, IssuanceError)
        case recorded(Authenticated, StoredAnswer)
        case wait(InFlightRequests.Waiter)
    }

    private func handle(endpoint: String, body: [UInt8]) async -> Result<Answer, IssuanceError> {
        let received = clock()
        let step: Step
        do {
            step = try await runner.run { [self] () throws(IssuanceError) -> Step in
                try decide(endpoint: endpoint, body: body, received: received)
            }
        } catch {
            return .failure(error)
        }
        switch step {
        case .recorded(let a, let stored):
            let key = InFlightRequests.Key(endpoint: endpoint, payloadSHA256: a.payloadSHA256, certSHA256: a.certSHA256)
            guard InFlightRequests.Key(endpoint: stored.endpoint, payloadSHA256: stored.payloadSHA256,
                                       certSHA256: stored.certSHA256) == key else {
                return .failure(IssuanceError(.requestReplayed, requestId: a.requestId, "requestId reused"))
            }
            return replay(stored, requestId: a.requestId)
        case .wait(let waiter):
            // The first request's answer, which is not a new issuance for this one.
            return await waiter.result().map { Answer(requestId: $0.requestId, status: $0.status, body: $0.body, newIssuance: nil) }
        case .failedOwner(let requestId, let waiter, let error):
            if error.code == .internalError || error.code == .gaijiUnrenderable {
                events(OperatorEvent(level: error.code == .internalError ? .error : .warning, message: error.description,
                                     requestId: requestId))
            }
            inFlight.finish(requestId, waiter: waiter, result: .failure(error))
            return .failure(error)
        case .produced(let a, let waiter, let produced):
            let result = await commit(produced, a, endpoint: endpoint)
            inFlight.finish(a.requestId, waiter: waiter, result: result)
            return result
        }
    }

    /// Everything up to the rendered answer, on one pool thread and (from the card binding on)
    /// one replica snapshot: the requester, freshness, the replay rules, then phase B.
    private func decide(endpoint: String, body: [UInt8], received: Date) throws(IssuanceError) -> Step {
        let a = try authenticate(endpoint: endpoint, body: body, received: received)
        do {
            return try replica.read { snapshot throws -> Step in
                let requester = try Self.requester(on: snapshot, card: a.certSHA256, requestId: a.requestId)
                guard abs(a.issuedAt.timeIntervalSince(received)) <= Double(settings.clockSkewSeconds) else {
                    throw IssuanceError(.requestExpired, requestId: a.requestId, "issuedAt outside ±\(settings.clockSkewSeconds) s")
                }
                let key = InFlightRequests.Key(endpoint: endpoint, payloadSHA256: a.payloadSHA256, certSHA256: a.certSHA256)
                let claim = try inFlight.claim(a.requestId, key: key) { () throws(IssuanceError) -> StoredAnswer? in
                    do {
                        return try records.answer(requestId: a.requestId)
                    } catch {
                        throw IssuanceError(.internalError, requestId: a.requestId, "idempotency store: \(error)")
                    }
                }
                switch claim {
                case .recorded(let stored): return .recorded(a, stored)
                case .conflict: throw IssuanceError(.requestReplayed, requestId: a.requestId, "requestId in use by another request")
                case .wait(let waiter): return .wait(waiter)
                case .owner(let waiter):
                    do {
                        let produced = if let payload = a.issuance {
                            try issue(payload, a, requester: requester, on: snapshot)
                        } else {
                            try eligibility(a, requester: requester, on: snapshot)
                        }
                        return .produced(a, waiter, produced)
                    } catch let error as IssuanceError {
                        return .failedOwner(a.requestId, waiter, error)
                    } catch {
                        return .failedOwner(a.requestId, waiter, IssuanceError(.internalError, requestId: a.requestId, "replica read: \(error)"))
                    }
                }
            }
        } catch let error as IssuanceError {
            throw error
        } catch {
            throw IssuanceError(.internalError, requestId: a.requestId, "replica read: \(error)")
        }
    }

    private func replay(_ stored: StoredAnswer, requestId: String) -> Result<Answer, IssuanceError> {
        guard let body = stored.body else {
            // Bodies are kept while the request can still be fresh; past that it is REQUEST_EXPIRED first.
            return .failure(IssuanceError(.requestExpired, requestId: requestId, "answer no longer held"))
        }
        if let id = stored.issuanceId {
            return .success(Answer(requestId: requestId, status: stored.status,
                                   body: .pdf(body, issuanceId: id, pageCount: stored.pageCount, copies: stored.copies,
                                              sha256: SHA256.hex(SHA256.hash(body))), newIssuance: nil))
        }
        return .success(Answer(requestId: requestId, status: stored.status, body: .json(body), newIssuance: nil))
    }

    /// MALFORMED → SIGNATURE → MUNICIPALITY → path, validity, revocation (no resident data read yet).
    private func authenticate(endpoint: String, body: [UInt8], received: Date) throws(IssuanceError) -> Authenticated {
        let jws: CompactJWS
        do {
            jws = try CompactJWS.parse(body)
        } catch {
            throw IssuanceError(.malformedRequest, "JWS: \(error.message)")
        }
        // The JWS layer already parsed the payload as a strict I-JSON object.
        let object = jws.payloadObject
        let requestId = PayloadDecoder.requestId(in: object)
        let issuance: IssuancePayload?
        let common: CommonFields
        do {
            if endpoint == "eligibility" {
                (issuance, common) = (nil, try PayloadDecoder.eligibility(object).common)
            } else {
                let p = try PayloadDecoder.issuance(object)
                (issuance, common) = (p, p.common)
            }
        } catch {
            throw IssuanceError(.malformedRequest, requestId: requestId,
                                error.field.isEmpty ? error.message : "\(error.field): \(error.message)")
        }
        let id = common.requestId
        do {
            try jws.verifySignature()
        } catch {
            throw IssuanceError(.signatureInvalid, requestId: id, error.message)
        }
        guard Array(common.municipality.utf8) == Array(settings.municipalityCode.utf8) else {
            throw IssuanceError(.wrongMunicipality, requestId: id, "municipality \(common.municipality)")
        }
        do {
            try trust.verify(jws.certificate, at: received)
        } catch {
            throw IssuanceError(Self.code(error.code), requestId: id, error.message)
        }
        let certSHA256 = jws.certificate.sha256Hex
        return Authenticated(requestId: id, received: received, payloadSHA256: SHA256.hash(jws.payload),
                             certSHA256: certSHA256, issuedAt: common.issuedAt, issuance: issuance)
    }

    static func code(_ code: CardAuthError.Code) -> IssuanceError.Code {
        switch code {
        case .malformedRequest: .malformedRequest
        case .signatureInvalid: .signatureInvalid
        case .cardCertUntrusted: .cardCertUntrusted
        case .cardCertExpired: .cardCertExpired
        case .cardCertRevoked: .cardCertRevoked
        case .revocationUnavailable: .revocationUnavailable
        }
    }

    static func requester(on snapshot: any ReplicaSnapshot, card certSHA256: String, requestId: String) throws -> Resident {
        guard let stored = try snapshot.resident(forCard: certSHA256) else {
            throw IssuanceError(.cardNotRegistered, requestId: requestId, "no binding for this certificate")
        }
        guard !stored.deleted else {
            throw IssuanceError(.requesterNotCurrent, requestId: requestId, "requester logically deleted")
        }
        return stored.record
    }

    /// Phase C: make the audit record and the answer durable, then answer.
    private func commit(_ produced: Produced, _ a: Authenticated, endpoint: String) async -> Result<Answer, IssuanceError> {
        let bodyExpiry = Int64(a.issuedAt.timeIntervalSince1970) + Int64(settings.clockSkewSeconds) + 60
        let answer = StoredAnswer(
            requestId: a.requestId, endpoint: endpoint, payloadSHA256: a.payloadSHA256, certSHA256: a.certSHA256,
            status: produced.status, issuanceId: produced.issuanceId, kind: produced.kind?.rawValue,
            pageCount: produced.pageCount, copies: produced.copies, body: produced.body,
            bodyExpiresAt: max(bodyExpiry, Int64(a.received.timeIntervalSince1970) + 60),
            expiresAt: Int64(a.received.timeIntervalSince1970) + Int64(settings.answerRetentionSeconds))
        let durable = Durable(audit: produced.auditRecord, answer: answer)
        do {
            try await committer.submit(durable)
        } catch {
            events(OperatorEvent(level: .error, message: "durable write failed: \(error)", requestId: a.requestId))
            return .failure(IssuanceError(.internalError, requestId: a.requestId, "durable write failed"))
        }
        if let kept = durable.kept.answer, kept != answer {
            // Another server answered this requestId first (shared records): its answer is the
            // answer, and this one was neither recorded nor audited.
            guard kept.endpoint == answer.endpoint, kept.payloadSHA256 == answer.payloadSHA256, kept.certSHA256 == answer.certSHA256 else {
                return .failure(IssuanceError(.requestReplayed, requestId: a.requestId, "requestId used by another request"))
            }
            return replay(kept, requestId: a.requestId)
        }
        if let id = produced.issuanceId {
            events(OperatorEvent(level: .info, message: "issued \(id) \(produced.kind?.rawValue ?? "") pages \(produced.pageCount)",
                                 requestId: a.requestId))
            return .success(Answer(requestId: a.requestId, status: produced.status,
                                   body: .pdf(produced.body, issuanceId: id, pageCount: produced.pageCount,
                                              copies: produced.copies, sha256: produced.sha256),
                                   newIssuance: produced.kind))
        }
        return .success(Answer(requestId: a.requestId, status: produced.status, body: .json(produced.body), newIssuance: nil))
    }

    struct Produced: Sendable {
        let status: Int
        let body: [UInt8]
        let issuanceId: String?
        let kind: CertificateKind?
        let pageCount: Int
        let copies: Int
        let auditRecord: JSONObject?
        /// Lowercase hex SHA-256 of a certificate's bytes (computed once: audit record and header).
        let sha256: String
    }

    /// Checks that apply to every card request after the replay rules, in the error order.
    private func gate(_ a: Authenticated) throws {
        if isSuspended { throw IssuanceError(.serviceSuspended, requestId: a.requestId, "issuance suspended") }
        guard Rules.isOpen(a.received, hours: settings.hours, closed: settings.closed) else {
            throw IssuanceError(.outsideServiceHours, requestId: a.requestId, "outside service hours")
        }
    }

    private func requesterChecks(_ requester: Resident, _ a: Authenticated, on snapshot: any ReplicaSnapshot) throws {
        if !(try snapshot.restrictions(requester.juminhyoCode)).isEmpty {
            throw IssuanceError(.issuanceRestricted, requestId: a.requestId, "requester \(hasher.reference(requester.juminhyoCode)) restricted")
        }
        guard let birth = CivilDate(iso: requester.birthDate),
              Rules.age(birth: birth, on: JapanTime.date(a.received)) >= settings.minRequesterAge else {
            throw IssuanceError(.requesterUnderAge, requestId: a.requestId, "requester under the minimum age")
        }
    }

    private func eligibility(_ a: Authenticated, requester: Resident, on snapshot: any ReplicaSnapshot) throws -> Produced {
        try gate(a)
        try requesterChecks(requester, a, on: snapshot)
        var members: [JSONValue] = []
        for member in try snapshot.currentMembers(household: requester.householdId) {
            if !(try snapshot.restrictions(member.juminhyoCode)).isEmpty { continue }
            members.append(.object(JSONObject([
                ("memberId", .string(hasher.memberId(member.juminhyoCode))),
                ("displayName", .string(member.name)),
                ("relationship", .string(member.relationship)),
                ("self", .bool(Array(member.juminhyoCode.utf8) == Array(requester.juminhyoCode.utf8))),
            ])!))
        }
        let hasSeal = try snapshot.activeSeal(requester.juminhyoCode) != nil
        var inkan: [(key: String, value: JSONValue)] = [("kind", .string("inkan")), ("available", .bool(hasSeal))]
        if !hasSeal { inkan.append(("reason", .string(IssuanceError.Code.sealNotRegistered.rawValue))) }
        let body = serialize(.object(JSONObject([
            ("requestId", .string(a.requestId)),
            ("certificates", .array([
                .object(JSONObject([("kind", .string("juminhyo")), ("available", .bool(true)), ("members", .array(members))])!),
                .object(JSONObject(inkan)!),
            ])),
        ])!))
        return Produced(status: 200, body: body, issuanceId: nil, kind: nil, pageCount: 0, copies: 0, auditRecord: nil, sha256: "")
    }

    private func issue(_ p: IssuancePayload, _ a: Authenticated, requester: Resident, on snapshot: any ReplicaSnapshot) throws -> Produced {
        try gate(a)
        if let forbidden = p.options.forbidden.first {
            throw IssuanceError(.optionNotAllowed, requestId: a.requestId, "option \(forbidden)")
        }
        if p.kind == .inkan, let option = p.options.present.first {
            throw IssuanceError(.optionNotAllowed, requestId: a.requestId, "juminhyo option \(option) with kind inkan")
        }
        try requesterChecks(requester, a, on: snapshot)
        if p.kind == .inkan, p.scope != .self {
            throw IssuanceError(.selfOnly, requestId: a.requestId, "inkan with scope \(p.scope.rawValue)")
        }
        let memberCodes = try snapshot.currentMemberCodes(household: requester.householdId)
        let subjects: [Resident]
        switch p.scope {
        case .self:
            subjects = [requester]
        case .household:
            subjects = try snapshot.currentMembers(household: requester.householdId)
        case .members:
            let household = try snapshot.currentMembers(household: requester.householdId)
            let ids = household.map { Array(hasher.memberId($0.juminhyoCode).utf8) }
            var chosen = Set<Int>()
            for id in p.members ?? [] {
                guard let index = ids.firstIndex(of: Array(id.utf8)) else {
                    throw IssuanceError(.notSameHousehold, requestId: a.requestId, "a memberId is not of the requester's household")
                }
                chosen.insert(index)
            }
            subjects = household.indices.filter(chosen.contains).map { household[$0] }  // household order
        }
        for subject in subjects where !(try snapshot.restrictions(subject.juminhyoCode)).isEmpty {
            throw IssuanceError(.issuanceRestricted, requestId: a.requestId, "subject \(hasher.reference(subject.juminhyoCode)) restricted")
        }
        let issuanceId = IssuanceID.generate()
        let facts = IssueFacts(issuanceId: issuanceId, issueDate: JapanTime.date(a.received))
        let rendered: RenderedCertificate
        do {
            switch p.kind {
            case .juminhyo:
                let content = JuminhyoContent(
                    facts: facts, householdAddress: requester.address, householdKatagaki: requester.katagaki,
                    householdHeadName: requester.householdHeadName, persons: try subjects.map(Self.person),
                    coverage: Coverage.of(printed: subjects.count, householdSize: memberCodes.count),
                    options: JuminhyoOptions(domicile: p.options.domicile, relationship: p.options.relationship,
                                             foreignResidentItems: p.options.foreignResidentItems))
                rendered = try renderer.render(content)
            case .inkan:
                guard let seal = try snapshot.activeSeal(requester.juminhyoCode) else {
                    throw IssuanceError(.sealNotRegistered, requestId: a.requestId, "no active seal registration")
                }
                rendered = try renderer.render(InkanContent(
                    facts: facts, person: try Self.person(requester),
                    impression: Certificates.SealImpression(png: seal.png, widthMm: seal.widthMm, heightMm: seal.heightMm)))
            }
        } catch let error as CertificateError {
            if error.code == .unrenderable {
                let who = Self.holder(of: error.codePoints, among: subjects + [requester]).map { hasher.reference($0.juminhyoCode) } ?? "?"
                throw IssuanceError(.gaijiUnrenderable, requestId: a.requestId,
                                    "resident \(who) field \(error.field ?? "?") \(error.codePointsText) not drawable")
            }
            throw IssuanceError(.internalError, requestId: a.requestId, "rendering: \(error.code.rawValue) \(error.field ?? "")")
        }
        // The last check, on the same snapshot: everyone printed is a current, unrestricted member
        // of the requester's household. A failure here is a bug: 500, never a certificate.
        let current = Set(try snapshot.currentMemberCodes(household: requester.householdId).map { Array($0.utf8) })
        for subject in subjects {
            guard current.contains(Array(subject.juminhyoCode.utf8)),
                  Array(subject.householdId.utf8) == Array(requester.householdId.utf8),
                  try snapshot.restrictions(subject.juminhyoCode).isEmpty else {
                throw IssuanceError(.internalError, requestId: a.requestId,
                                    "final household check failed for \(hasher.reference(subject.juminhyoCode))")
            }
        }
        let sha256 = SHA256.hex(SHA256.hash(rendered.pdf))
        let record = JSONObject([
            ("type", .string("issuance")),
            ("issuanceId", .string(issuanceId)),
            ("time", .string(RFC3339.format(a.received))),
            ("requestId", .string(a.requestId)),
            ("terminal", .object(JSONObject([
                ("terminalId", .string(p.common.terminal.terminalId)), ("storeCode", .string(p.common.terminal.storeCode)),
            ])!)),
            ("kind", .string(p.kind.rawValue)),
            ("scope", .string(p.scope.rawValue)),
            ("options", .object(JSONObject([
                ("domicile", .bool(p.options.domicile)), ("relationship", .bool(p.options.relationship)),
                ("foreignResidentItems", .bool(p.options.foreignResidentItems)),
            ])!)),
            ("copies", .number(JSONNumber(p.copies))),
            ("requester", .string(hasher.reference(requester.juminhyoCode))),
            ("subjects", .array(subjects.map { .string(hasher.reference($0.juminhyoCode)) })),
            ("pdfSha256", .string(sha256)),
        ])!
        return Produced(status: 201, body: rendered.pdf, issuanceId: issuanceId, kind: p.kind, pageCount: rendered.pageCount,
                        copies: p.copies, auditRecord: record, sha256: sha256)
    }

    static func holder(of codePoints: [Unicode.Scalar], among residents: [Resident]) -> Resident? {
        residents.first { r in
            let texts = [r.name, r.nameKana, r.formerSurname, r.alias, r.address, r.katagaki, r.previousAddress,
                         r.householdHeadName, r.relationship, r.domicile?.address, r.domicile?.head,
                         r.foreignResident?.nationality, r.foreignResident?.status].compactMap { $0 }
            return texts.contains { text in codePoints.allSatisfy { cp in text.unicodeScalars.contains(cp) } }
        }
    }

    static func person(_ r: Resident) throws -> Person {
        func date(_ s: String) throws -> CivilDate {
            guard let d = CivilDate(iso: s) else { throw IssuanceError(.internalError, "stored date unreadable") }
            return d
        }
        return Person(
            name: r.name, nameKana: r.nameKana, formerSurname: r.formerSurname, alias: r.alias,
            birthDate: try date(r.birthDate), sex: r.sex, relationship: r.relationship, address: r.address,
            katagaki: r.katagaki, becameResidentOn: try date(r.becameResidentOn), addressSetOn: try date(r.addressSetOn),
            addressNotifiedOn: try date(r.addressNotifiedOn), previousAddress: r.previousAddress,
            domicile: r.domicile.map { Certificates.Domicile(address: $0.address, head: $0.head) },
            foreignResident: try r.foreignResident.map {
                ForeignResidentItems(nationality: $0.nationality, category: $0.category, status: $0.status,
                                     periodOfStay: $0.periodOfStay, expiresOn: try date($0.expiresOn))
            })
    }

    // MARK: - Outcome

    /// POST /v1/issuances/{id}/outcome: recorded once; the same outcome again answers the same body.
    public func outcome(issuanceId: String, body: [UInt8]) async -> Result<Answer, IssuanceError> {
        let now = clock()
        do {
            return .success(try await runner.run { [self] () throws(IssuanceError) -> Answer in
                try recordOutcome(issuanceId: issuanceId, body: body, now: now)
            })
        } catch {
            if error.code == .internalError {
                events(OperatorEvent(level: .error, message: error.description, requestId: nil))
            }
            return .failure(error)
        }
    }

    private func recordOutcome(issuanceId: String, body: [UInt8], now: Date) throws(IssuanceError) -> Answer {
        let outcome: String
        do throws(PayloadDecoder.Fault) {
            let o = try PayloadDecoder.object(body)
            try PayloadDecoder.onlyKnown(o, ["outcome", "detail"], at: "")
            outcome = try PayloadDecoder.string(o, "outcome")
            guard outcome == "printed" || outcome == "failed" else {
                throw PayloadDecoder.Fault(field: "outcome", message: "not printed or failed")
            }
            if o["detail"] != nil {
                let detail = try PayloadDecoder.string(o, "detail")
                guard detail.unicodeScalars.count <= 1000 else { throw PayloadDecoder.Fault(field: "detail", message: "longer than 1000") }
            }
        } catch {
            throw IssuanceError(.malformedRequest, error.field.isEmpty ? error.message : "\(error.field): \(error.message)")
        }
        outcomeLock.lock()
        defer { outcomeLock.unlock() }
        do {
            guard IssuanceID.isWellFormed(issuanceId), let existing = try records.issuance(issuanceId) else {
                throw IssuanceError(.issuanceNotFound, "no such issuance")
            }
            if let recorded = existing.outcome {
                guard recorded == outcome, let at = existing.recordedAt else {
                    throw IssuanceError(.outcomeConflict, "outcome already \(recorded)")
                }
                return outcomeAnswer(issuanceId, recorded, at)
            }
            let recordedAt = RFC3339.format(now)
            // The audit record first (a failed outcome voids the issuance there), then the state.
            let record = JSONObject([
                ("type", .string("outcome")), ("issuanceId", .string(issuanceId)), ("time", .string(recordedAt)),
                ("outcome", .string(outcome)), ("void", .bool(outcome == "failed")),
            ])!
            guard let after = try records.setOutcome(issuanceId, outcome: outcome, recordedAt: recordedAt, audit: record),
                  let final = after.outcome, let at = after.recordedAt else {
                throw IssuanceError(.internalError, "outcome not recorded")
            }
            // Another server may have recorded a different outcome first.
            guard final == outcome else { throw IssuanceError(.outcomeConflict, "outcome already \(final)") }
            return outcomeAnswer(issuanceId, final, at)
        } catch let error as IssuanceError {
            throw error
        } catch {
            throw IssuanceError(.internalError, "outcome store: \(error)")
        }
    }

    private func outcomeAnswer(_ id: String, _ outcome: String, _ at: String) -> Answer {
        Answer(requestId: nil, status: 200, body: .json(serialize(.object(JSONObject([
            ("issuanceId", .string(id)), ("outcome", .string(outcome)), ("recordedAt", .string(at)),
        ])!))), newIssuance: nil)
    }
}

/// Requests being answered, by requestId: a byte-identical request waits for the first one's
/// result; anything else reusing the requestId meanwhile is refused. An entry is removed only
/// after its answer is durable, so a later request finds either the entry or the record.
final class InFlightRequests: @unchecked Sendable {
    struct Key: Equatable, Sendable {
        let endpoint: String
        let payloadSHA256: [UInt8]
        let certSHA256: String
    }

    final class Waiter: @unchecked Sendable {
        private let lock = NSLock()
        private var outcome: Result<Answer, IssuanceError>?
        private var continuations: [CheckedContinuation<Result<Answer, IssuanceError>, Never>] = []

        func result() async -> Result<Answer, IssuanceError> {
            await withCheckedContinuation { c in
                lock.lock()
                if let outcome {
                    lock.unlock()
                    c.resume(returning: outcome)
                } else {
                    continuations.append(c)
                    lock.unlock()
                }
            }
        }

        func resolve(_ result: Result<Answer, IssuanceError>) {
            lock.lock()
            outcome = result
            let waiting = continuations
            continuations = []
            lock.unlock()
            for c in waiting { c.resume(returning: result) }
        }
    }

    enum Claim {
        case recorded(StoredAnswer)
        case owner(Waiter)
        case wait(Waiter)
        case conflict
    }

    private let lock = NSLock()
    private var entries: [String: (Key, Waiter)] = [:]

    func claim(_ requestId: String, key: Key, lookup: () throws(IssuanceError) -> StoredAnswer?) throws(IssuanceError) -> Claim {
        lock.lock()
        defer { lock.unlock() }
        if let (existing, waiter) = entries[requestId] {
            return existing == key ? .wait(waiter) : .conflict
        }
        if let stored = try lookup() { return .recorded(stored) }
        let waiter = Waiter()
        entries[requestId] = (key, waiter)
        return .owner(waiter)
    }

    func finish(_ requestId: String, waiter: Waiter, result: Result<Answer, IssuanceError>) {
        lock.lock()
        entries[requestId] = nil
        lock.unlock()
        waiter.resolve(result)
    }
}

final class SuspensionFlag: @unchecked Sendable {
    private let lock = NSLock()
    private var flag = false
    var value: Bool {
        get { lock.lock(); defer { lock.unlock() }; return flag }
        set { lock.lock(); flag = newValue; lock.unlock() }
    }
}
