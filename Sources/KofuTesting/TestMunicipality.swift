import Foundation
import KofuDigest
import KofuJSON

/// A complete municipality on disk for `kofu demo`, the server tests and loadtest: a test PKI
/// with a card per resident, a configuration file, the official seal, and a sync batch that
/// loads households covering every authorization case of center-api.md.
///
/// Households (住民票コード → who):
/// - H1, the 葛󠄂城 household of `Demo.household()` (IVS, 外字, U+FA10, 旧氏, a 外国人住民 with 通称);
///   the head has a registered seal; the fourth member is 7 years old.
/// - H2: a head, a restricted spouse (支援措置), a logically deleted child (転出).
/// - H3: a head whose name holds an unregistered variation sequence (葛 + U+E0100).
/// - H4: a head under 発行制御.
/// - H5: twelve persons (three pages).
public final class TestMunicipality: @unchecked Sendable {
    public static let code = "999997"  // fictional 架空市; the check digit is valid

    public struct Resident: Sendable {
        public let code: String
        public let household: String
        public let name: String
        public let card: TestCard
    }

    public let folder: String
    public let configPath: String
    public let pki: TestPKI
    public let residents: [Resident]
    /// A card from the trusted CA that is bound to nobody.
    public let unboundCard: TestCard
    public let centerPort: Int
    public let syncPort: Int
    private let events: [JSONValue]

    public var head: Resident { resident("10000000001") }

    public func resident(_ code: String) -> Resident { residents.first { $0.code == code }! }

    /// - Parameters:
    ///   - root: the repository root (Fonts/, Templates/).
    ///   - hours/closed/minAge: `[issuance]`; the defaults keep the service open at any time so
    ///     that tests do not depend on the hour they run.
    ///   - replicaURL: `[replica] url` (PostgreSQL) instead of `path = "replica"`.
    public init(root: String, folder: String, centerPort: Int, syncPort: Int, hours: String = "00:00-24:00",
                closed: [String] = [], minAge: Int = 15, pki: TestPKI? = nil, extraConfig: String = "",
                replicaURL: String? = nil) throws {
        self.folder = folder
        self.centerPort = centerPort
        self.syncPort = syncPort
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let pki = try pki ?? TestPKI()
        self.pki = pki
        let trust = try pki.writeTrust(to: folder + "/trust")
        try Data(try Demo.officialSeal()).write(to: URL(fileURLWithPath: folder + "/official-seal.png"))

        var built: [Resident] = []
        var events: [JSONValue] = []
        func add(_ record: [(String, JSONValue)], card: Bool = true) throws {
            let object = JSONObject(record.map { (key: $0.0, value: $0.1) })!
            guard case .string(let code)? = object["juminhyoCode"], case .string(let household)? = object["householdId"],
                  case .string(let name)? = object["name"] else { return }
            events.append(Self.event("resident.upsert", ("resident", .object(object))))
            let c = try pki.issueCard()
            built.append(Resident(code: code, household: household, name: name, card: c))
            if card {
                events.append(Self.event("card.bind", ("card", .object(JSONObject([
                    ("juminhyoCode", .string(code)), ("certSha256", .string(c.sha256Hex)),
                ])!))))
            }
        }
        let people = Demo.household()
        for (i, p) in people.enumerated() {
            var r: [(String, JSONValue)] = Self.base(code: "1000000000\(i + 1)", household: "H1", order: i + 1,
                                                   head: people[0].name, name: p.name, kana: p.nameKana,
                                                   birth: p.birthDate.description, sex: p.sex, relationship: p.relationship)
            r = r.map { $0.0 == "address" ? ("address", .string(Demo.address)) : $0 }
            r.append(("katagaki", .string(Demo.katagaki)))
            r.append(("previousAddress", .string("大阪府架空市旧町三丁目4番5号")))
            if let former = p.formerSurname { r.append(("formerSurname", .string(former))) }
            if let alias = p.alias { r.append(("alias", .string(alias))) }
            if let f = p.foreignResident {
                r.append(("foreignResident", .object(JSONObject([
                    ("nationality", .string(f.nationality)), ("category", .string(f.category)), ("status", .string(f.status)),
                    ("periodOfStay", .string(f.periodOfStay)), ("expiresOn", .string(f.expiresOn.description)),
                ])!)))
            } else {
                r.append(("domicile", .object(JSONObject([
                    ("address", .string("大阪府架空市本町一丁目1番地")), ("head", .string(people[0].name)),
                ])!)))
            }
            try add(r)
        }
        events.append(Self.event("seal.register", ("seal", .object(JSONObject([
            ("juminhyoCode", .string("10000000001")), ("registrationNumber", .string("S0001")),
            ("registeredOn", .string("2010-04-01")),
            ("impression", .object(JSONObject([
                ("png", .string(Data(try Demo.personalSeal()).base64EncodedString())),
                ("widthMm", .number(JSONNumber(15))), ("heightMm", .number(JSONNumber(15))),
            ])!)),
        ])!))))

        let mihon = "見本　一郎"
        try add(Self.base(code: "20000000001", household: "H2", order: 1, head: mihon, name: mihon, kana: "ミホン　イチロウ",
                          birth: "1970-05-05", sex: "男", relationship: "世帯主"))
        try add(Self.base(code: "20000000002", household: "H2", order: 2, head: mihon, name: "見本　春子", kana: "ミホン　ハルコ",
                          birth: "1972-06-06", sex: "女", relationship: "妻"))
        try add(Self.base(code: "20000000003", household: "H2", order: 3, head: mihon, name: "見本　次郎", kana: "ミホン　ジロウ",
                          birth: "2000-07-07", sex: "男", relationship: "子"))
        events.append(Self.event("restriction.set", ("restriction", .object(JSONObject([
            ("juminhyoCode", .string("20000000002")), ("kind", .string("support-measure")),
        ])!))))
        events.append(Self.event("resident.delete", ("juminhyoCode", .string("20000000003")), ("reason", .string("転出")),
                                 ("effectiveOn", .string("2026-11-20"))))
        let unregistered = "葛\u{E0100}城　三郎"
        try add(Self.base(code: "30000000001", household: "H3", order: 1, head: unregistered, name: unregistered,
                          kana: "カツラギ　サブロウ", birth: "1980-08-08", sex: "男", relationship: "世帯主"))
        try add(Self.base(code: "40000000001", household: "H4", order: 1, head: "見本　四郎", name: "見本　四郎",
                          kana: "ミホン　シロウ", birth: "1960-09-09", sex: "男", relationship: "世帯主"))
        events.append(Self.event("restriction.set", ("restriction", .object(JSONObject([
            ("juminhyoCode", .string("40000000001")), ("kind", .string("issuance-control")),
        ])!))))
        let large = Demo.largeHousehold(12)
        for (i, p) in large.enumerated() {
            try add(Self.base(code: String(format: "500000000%02d", i + 1), household: "H5", order: i + 1, head: large[0].name,
                              name: p.name, kana: p.nameKana, birth: p.birthDate.description, sex: p.sex,
                              relationship: p.relationship), card: i == 0)
        }
        residents = built
        self.events = events
        unboundCard = try pki.issueCard()

        configPath = folder + "/kofu.toml"
        let closedList = closed.map { "\"\($0)\"" }.joined(separator: ", ")
        let config = """
            # Written by kofu's test municipality (KofuTesting.TestMunicipality).
            [municipality]
            code = "\(Self.code)"
            name = "\(Demo.municipalityName)"
            authority = "\(Demo.authority)"
            official_seal = "official-seal.png"
            official_seal_mm = 21.0

            [listen]
            center = "127.0.0.1:\(centerPort)"
            sync = "127.0.0.1:\(syncPort)"

            [trust]
            anchors = ["\(trust.anchor)"]
            intermediates = ["\(trust.intermediate)"]
            crl_dir = "\(trust.crlDirectory)"
            policy_oid = "\(TestPKI.policyOID)"
            clock_skew_seconds = 300

            [replica]
            \(replicaURL.map { "url = \"\($0.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\""))\"" } ?? "path = \"replica\"")

            [fonts]
            base = "\(Demo.baseFontPath)"
            gaiji = ["\(root)/Fonts/kofu-demo-gaiji.ttf"]

            [issuance]
            min_requester_age = \(minAge)
            hours = "\(hours)"
            closed = [\(closedList)]

            [audit]
            path = "audit"
            retention_years = 5
            \(extraConfig)
            """
        try config.write(toFile: configPath, atomically: true, encoding: .utf8)
    }

    static func event(_ type: String, _ members: (String, JSONValue)...) -> JSONValue {
        .object(JSONObject([(key: "seq", value: .null), (key: "type", value: .string(type))]
                           + members.map { (key: $0.0, value: $0.1) })!)
    }

    static func base(code: String, household: String, order: Int, head: String, name: String, kana: String, birth: String,
                     sex: String, relationship: String) -> [(String, JSONValue)] {
        [
            ("juminhyoCode", .string(code)), ("householdId", .string(household)), ("householdOrder", .number(JSONNumber(order))),
            ("householdHeadName", .string(head)), ("name", .string(name)), ("nameKana", .string(kana)),
            ("birthDate", .string(birth)), ("sex", .string(sex)), ("relationship", .string(relationship)),
            ("address", .string("大阪府架空市見本町\(order)番地")), ("becameResidentOn", .string(birth)),
            ("addressSetOn", .string("2019-04-30")), ("addressNotifiedOn", .string("2019-05-01")),
            ("version", .number(JSONNumber(1))),
        ]
    }

    /// The sync batch that loads the municipality, seq `first`, `first + 1`, ….
    public func batch(firstSeq: Int64 = 1) -> [UInt8] {
        var seq = firstSeq
        let numbered: [JSONValue] = events.map { event in
            guard case .object(let o) = event else { return event }
            defer { seq += 1 }
            return .object(JSONObject(o.members.map { $0.key == "seq" ? (key: "seq", value: .number(JSONNumber(seq))) : $0 })!)
        }
        return serialize(.object(JSONObject([("events", .array(numbered))])!))
    }

    public var eventCount: Int { events.count }

    /// The `resident.upsert` records of one household as the batch loads them (for loadtest's
    /// sync scenario, which re-sends them with another address and a higher version).
    public func residentRecords(household: String) -> [JSONObject] {
        events.compactMap { event in
            guard case .object(let o) = event, o["type"] == .string("resident.upsert"), case .object(let r)? = o["resident"],
                  r["householdId"] == .string(household) else { return nil }
            return r
        }
    }

    /// A reseed extract (sync-feed.md) of the municipality as the batch leaves it, without the
    /// residents in `dropping` (and without the logically deleted ones, which an extract of current
    /// residents never holds).
    public func extract(asOfSeq: Int64, dropping: Set<String> = []) -> [UInt8] {
        var deleted = dropping
        for case .object(let o) in events {
            if o["type"] == .string("resident.delete"), case .string(let code)? = o["juminhyoCode"] { deleted.insert(code) }
        }
        var lines: [[UInt8]] = [serialize(.object(JSONObject([
            ("format", .string("kofu-extract/1")), ("municipality", .string(Self.code)),
            ("asOfSeq", .number(JSONNumber(asOfSeq))), ("createdAt", .string(Self.rfc3339(Date()))),
        ])!))]
        var counts = ["resident": 0, "seal": 0, "card": 0, "restriction": 0]
        let kinds = ["resident.upsert": ("resident", "resident"), "seal.register": ("seal", "seal"),
                     "card.bind": ("card", "card"), "restriction.set": ("restriction", "restriction")]
        for case .object(let o) in events {
            guard case .string(let type)? = o["type"], let (kind, member) = kinds[type],
                  case .object(let record)? = o[member], case .string(let code)? = record["juminhyoCode"],
                  !deleted.contains(code) else { continue }
            counts[kind, default: 0] += 1
            lines.append(serialize(.object(JSONObject([(key: "type", value: .string(kind))] + record.members)!)))
        }
        var body: [UInt8] = []
        for line in lines { body += line + [0x0A] }
        let trailer = serialize(.object(JSONObject([
            ("type", .string("end")),
            ("counts", .object(JSONObject(["resident", "seal", "card", "restriction"].map {
                (key: $0, value: JSONValue.number(JSONNumber(counts[$0] ?? 0))) })!)),
            ("sha256", .string(SHA256.hex(SHA256.hash(body)))),
        ])!))
        return body + trailer + [0x0A]
    }

    /// A payload with the common fields, then `fields`.
    public static func payload(requestId: String = UUID().uuidString.lowercased(), issuedAt: Date = Date(),
                               municipality: String = code, _ fields: [(String, JSONValue)] = []) -> [UInt8] {
        let common: [(String, JSONValue)] = [
            ("requestId", .string(requestId)),
            ("issuedAt", .string(Self.rfc3339(issuedAt))),
            ("municipality", .string(municipality)),
            ("terminal", .object(JSONObject([("terminalId", .string("KIOSK-0001")), ("storeCode", .string("STORE-42"))])!)),
        ]
        return serialize(.object(JSONObject((common + fields).map { (key: $0.0, value: $0.1) })!))
    }

    /// RFC 3339 in Japan time with its offset, as a kiosk would write it.
    public static func rfc3339(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(secondsFromGMT: 9 * 3600)
        formatter.dateFormat = "yyyy-MM-dd'T'HH:mm:ssxxx"
        return formatter.string(from: date)
    }

    /// A free TCP port on 127.0.0.1 (bound once and released; good enough for tests and the demo).
    public static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw TestPKIError("socket: errno \(errno)") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard bound else { throw TestPKIError("bind: errno \(errno)") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
