import Foundation
import KofuDigest
import KofuZlib
import Typesetting

/// A fictional municipality of any size, for benchmarks and crash tests: households of 1–12
/// members (世帯主 first, then 妻/夫, 子, 父, 母, 孫, 同居人 …), Japanese residents with 本籍 and
/// 外国人住民 with their items (and sometimes a 通称), names with IVS sequences IPAmj registers
/// (葛/辻 + U+E0102, 邊 + U+E0108), the demo 外字 U+E000–U+E005 (the demo 外字 font covers exactly
/// these), the compatibility ideographs U+FA10/U+FA11, 旧氏, long 方書, seals, card bindings and
/// restrictions. Everything is a function of the seed: the same seed gives the same bytes.
///
/// The generator keeps a compact model of the replica (a few bytes per resident), so that the
/// batches it writes after an extract are valid against the store that extract built: upserts of
/// known residents with higher versions, births, 転出 and 死亡 (logical deletion), restores,
/// seals registered and abolished, cards bound and unbound, restrictions set and cleared.
public final class MunicipalityGenerator {
    public let seed: UInt64
    public let residents: Int
    public let municipality: String

    /// Per household: its first resident's index and member count (births append).
    private var householdStart: [Int32] = []
    private var householdSize: [UInt8] = []
    /// Per resident: household, version, and flags (bit 0 deleted, 1 seal active, 2 seal registered).
    private var householdOf: [Int32] = []
    private var versions: [UInt16] = []
    private var flags: [UInt8] = []
    private var cardCount: [UInt8] = []
    private var restricted: [UInt8] = []  // bit 0 support-measure, bit 1 issuance-control
    /// Residents born through batches: index → (household, order).
    private var born: [Int: (household: Int, order: Int)] = [:]
    private var bornIn: [Int: [Int]] = [:]
    private var eventRNG: SplitMix

    private let sealBase64: [String]

    public init(seed: UInt64 = 1, residents: Int, municipality: String = "272078") {
        self.seed = seed
        self.residents = residents
        self.municipality = municipality
        eventRNG = SplitMix(seed ^ 0x5EED_BA7C_0000_0001)
        sealBase64 = Self.seals().map { Data($0).base64EncodedString() }
        var rng = SplitMix(seed)
        var i = 0
        while i < residents {
            let size = min(Self.householdSize(&rng), residents - i)
            householdStart.append(Int32(i))
            householdSize.append(UInt8(size))
            for _ in 0..<size { householdOf.append(Int32(householdStart.count - 1)) }
            i += size
        }
        versions = [UInt16](repeating: 1, count: residents)
        flags = [UInt8](repeating: 0, count: residents)
        cardCount = [UInt8](repeating: 0, count: residents)
        restricted = [UInt8](repeating: 0, count: residents)
        for h in 0..<householdStart.count {
            for (k, p) in household(h).enumerated() {
                let r = Int(householdStart[h]) + k
                if p.seal { flags[r] |= 6 }
                cardCount[r] = UInt8(p.cards)
                restricted[r] = p.restriction
            }
        }
    }

    public var households: Int { householdStart.count }

    /// Small seal impressions (rendered once with IPAmj明朝; a plain ring if the font is missing).
    static func seals() -> [[UInt8]] {
        let names = ["葛城", "辻", "山田", "渡邊"]
        let rendered = names.compactMap { try? SealImage.personalSeal(text: $0, fontPath: Demo.baseFontPath, sizePx: 48) }
        if !rendered.isEmpty { return rendered }
        return [PNGImage.encode(width: 16, height: 16, colorComponents: 1, pixels: [UInt8](repeating: 200, count: 256), alpha: nil)]
    }

    // MARK: - Households

    static func householdSize(_ rng: inout SplitMix) -> Int {
        let x = rng.unit()
        switch x {
        case ..<0.35: return 1
        case ..<0.63: return 2
        case ..<0.80: return 3
        case ..<0.93: return 4
        case ..<0.98: return 5
        default: return 6 + rng.below(7)  // 6–12
        }
    }

    struct Person {
        var fields: [(String, String)]  // JSON members, values already JSON-encoded
        var code: String
        var seal: Bool
        var cards: Int
        var restriction: UInt8
    }

    static let surnames: [(String, String)] = [
        ("葛\u{E0102}城", "カツラギ"), ("辻\u{E0102}", "ツジ"), ("渡\u{908A}\u{E0108}", "ワタナベ"), ("\u{FA10}本", "ツカモト"),
        ("山田", "ヤマダ"), ("佐藤", "サトウ"), ("鈴木", "スズキ"), ("高橋", "タカハシ"), ("田中", "タナカ"), ("伊藤", "イトウ"),
        ("中村", "ナカムラ"), ("小林", "コバヤシ"), ("加藤", "カトウ"), ("吉田", "ヨシダ"), ("山本", "ヤマモト"), ("松本", "マツモト"),
        ("\u{E001}田", "ハシダ"), ("宮\u{FA11}", "ミヤザキ"), ("井上", "イノウエ"), ("木村", "キムラ"),
    ]
    static let givenMale: [(String, String)] = [
        ("太郎", "タロウ"), ("一郎", "イチロウ"), ("健", "ケン"), ("翔太", "ショウタ"), ("大輔", "ダイスケ"), ("\u{E002}吉", "タツキチ"),
        ("誠", "マコト"), ("蓮", "レン"), ("悠真", "ユウマ"), ("\u{E004}之", "ヨシユキ"),
    ]
    static let givenFemale: [(String, String)] = [
        ("花子", "ハナコ"), ("\u{E000}子", "ツジコ"), ("陽菜", "ヒナ"), ("美咲", "ミサキ"), ("\u{FA10}美", "ツカミ"), ("恵", "メグミ"),
        ("結衣", "ユイ"), ("\u{E003}代", "キヨ"), ("さくら", "サクラ"), ("\u{E005}江", "ハナエ"),
    ]
    static let towns = ["桃園町", "本町", "旧町", "緑が丘", "城南町", "北園町", "南平台", "川西町"]
    static let buildings = ["グランドメゾン桃園", "コーポ本町", "サンハイツ城南", "レジデンス緑が丘"]
    static let foreign: [(surname: String, kana: String, given: [String], nationality: String, alias: String?)] = [
        ("WANG", "ワン", ["XIAOMING", "LI", "FANG"], "中国", "王"),
        ("KIM", "キム", ["MINJUN", "SEOYEON", "JIHO"], "韓国", "金田"),
        ("NGUYEN", "グエン", ["VAN AN", "THI HOA", "MINH"], "ベトナム", nil),
        ("SANTOS", "サントス", ["MARIA", "JOAO", "ANA"], "ブラジル", nil),
        ("SMITH", "スミス", ["JOHN", "EMILY", "JAMES"], "米国", nil),
    ]

    static func q(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            default: out.unicodeScalars.append(u)
            }
        }
        return out + "\""
    }

    static func date(_ days: Int) -> String {
        // Days since 1900-01-01 → YYYY-MM-DD (proleptic Gregorian, civil-from-days).
        let z = days - 25_567 + 719_468  // days since 1970-01-01, shifted to 0000-03-01
        let era = z / 146_097, doe = z - era * 146_097
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100)
        let mp = (5 * doy + 2) / 153
        let d = doy - (153 * mp + 2) / 5 + 1
        let m = mp < 10 ? mp + 3 : mp - 9
        let y = yoe + era * 400 + (m <= 2 ? 1 : 0)
        return String(format: "%04d-%02d-%02d", y, m, d)
    }
    /// Days since 1900-01-01 of a year's start (approximate is fine for generated dates).
    static func day(_ year: Int) -> Int { (year - 1900) * 365 + (year - 1900) / 4 }

    static func code(_ i: Int) -> String {
        // A bijection of 0..<10^11 (multiplier coprime to 10), so codes never collide.
        let v = (UInt64(i) &* 7_919_003 &+ 12_345_678_901) % 100_000_000_000
        return String(format: "%011llu", v)
    }

    func cardHash(_ resident: Int, _ k: Int) -> String {
        SHA256.hex(SHA256.hash(Array("card \(seed) \(resident) \(k)".utf8)))
    }

    /// The members of household `h` as generated (the model's versions are applied by `line`).
    func household(_ h: Int) -> [Person] {
        var rng = SplitMix(seed &* 0x9E37_79B9_7F4A_7C15 ^ UInt64(h))
        let size = Int(householdSize[h])
        let start = Int(householdStart[h])
        let householdId = "H" + String(format: "%010d", h + 1)
        let town = Self.towns[rng.below(Self.towns.count)]
        let address = "大阪府架空市\(town)\(["一", "二", "三", "四"][rng.below(4)])丁目\(rng.below(30) + 1)番\(rng.below(20) + 1)号"
        var katagaki: String?
        let k = rng.unit()
        if k < 0.35 {
            katagaki = "\(Self.buildings[rng.below(Self.buildings.count)])　\(rng.below(15) + 1)0\(rng.below(9) + 1)号室"
        } else if k < 0.36 {
            // A long 方書 (160 scalars is the limit).
            katagaki = String(repeating: "架空市営住宅第二団地東棟", count: 12) + "１０２号室"
        }
        let isForeign = rng.unit() < 0.03
        let f = Self.foreign[rng.below(Self.foreign.count)]
        let surname = Self.surnames[rng.below(Self.surnames.count)]
        let headAge = 22 + rng.below(70)
        let headMale = rng.unit() < 0.7
        let thisYear = 2026
        var out: [Person] = []
        var headName = ""
        for order in 1...size {
            let r = start + order - 1
            let relationship: String
            var age: Int
            var male: Bool
            if order == 1 {
                relationship = "世帯主"; age = headAge; male = headMale
            } else if order == 2 && size >= 2 && headAge >= 25 && rng.unit() < 0.8 {
                male = !headMale; relationship = male ? "夫" : "妻"; age = max(20, headAge + rng.below(11) - 5)
            } else {
                let x = rng.unit()
                if x < 0.75 || headAge < 40 {
                    relationship = "子"; age = max(0, headAge - 20 - rng.below(20)); male = rng.unit() < 0.5
                } else if x < 0.85 && headAge < 65 {
                    male = rng.unit() < 0.4; relationship = male ? "父" : "母"; age = min(105, headAge + 25 + rng.below(10))
                } else if x < 0.93 && headAge >= 50 {
                    relationship = "孫"; age = rng.below(15); male = rng.unit() < 0.5
                } else {
                    relationship = "同居人"; age = 20 + rng.below(50); male = rng.unit() < 0.5
                }
            }
            age = min(age, 110)
            let foreignMember = isForeign && (order == 1 || rng.unit() < 0.9) || (!isForeign && order == 2 && rng.unit() < 0.03)
            let name: String, kana: String
            if foreignMember {
                let given = f.given[rng.below(f.given.count)]
                name = "\(f.surname) \(given)"
                kana = "\(f.kana)　\(given == "LI" ? "リー" : "ジョン")"
            } else {
                let g = male ? Self.givenMale[rng.below(Self.givenMale.count)] : Self.givenFemale[rng.below(Self.givenFemale.count)]
                name = "\(surname.0)　\(g.0)"
                kana = "\(surname.1)　\(g.1)"
            }
            if order == 1 { headName = name }
            let birth = Self.day(thisYear - age - 1) + rng.below(365)
            let became = foreignMember ? Self.day(2000) + rng.below(9000) : birth
            let set = max(became, Self.day(1980) + rng.below(16000))
            var fields: [(String, String)] = [
                ("juminhyoCode", Self.q(Self.code(r))), ("householdId", Self.q(householdId)), ("householdOrder", String(order)),
                ("householdHeadName", Self.q(headName)), ("name", Self.q(name)), ("nameKana", Self.q(kana)),
            ]
            if !foreignMember && (relationship == "妻" || relationship == "夫") && rng.unit() < 0.15 {
                fields.append(("formerSurname", Self.q(Self.surnames[rng.below(Self.surnames.count)].0)))
            }
            if foreignMember, let alias = f.alias, rng.unit() < 0.5 {
                fields.append(("alias", Self.q("\(alias)　\(male ? "一郎" : "花子")")))
            }
            fields += [
                ("birthDate", Self.q(Self.date(birth))), ("sex", Self.q(male ? "男" : "女")), ("relationship", Self.q(relationship)),
                ("address", Self.q(address)),
            ]
            if let katagaki { fields.append(("katagaki", Self.q(katagaki))) }
            fields += [("becameResidentOn", Self.q(Self.date(became))), ("addressSetOn", Self.q(Self.date(set))),
                       ("addressNotifiedOn", Self.q(Self.date(set + rng.below(14))))]
            if set > became { fields.append(("previousAddress", Self.q("大阪府架空市\(Self.towns[rng.below(Self.towns.count)])五丁目\(rng.below(9) + 1)番地"))) }
            if foreignMember {
                let permanent = rng.unit() < 0.3
                fields.append(("foreignResident", "{\"nationality\":\(Self.q(f.nationality)),\"category\":\(Self.q(permanent ? "特別永住者" : "中長期在留者")),"
                    + "\"status\":\(Self.q(permanent ? "特別永住者" : ["永住者", "技術・人文知識・国際業務", "家族滞在", "留学"][rng.below(4)])),"
                    + "\"periodOfStay\":\(Self.q(permanent ? "無期限" : ["5年", "3年", "1年"][rng.below(3)])),\"expiresOn\":\(Self.q(Self.date(Self.day(2027) + rng.below(1800))))}"))
            } else {
                fields.append(("domicile", "{\"address\":\(Self.q("大阪府架空市本町一丁目\(rng.below(50) + 1)番地")),\"head\":\(Self.q(headName))}"))
            }
            let adult = age >= 15
            out.append(Person(fields: fields, code: Self.code(r), seal: age >= 18 && rng.unit() < 0.35,
                              cards: adult ? (rng.unit() < 0.7 ? (rng.unit() < 0.05 ? 2 : 1) : 0) : 0,
                              restriction: rng.unit() < 0.003 ? 1 : (rng.unit() < 0.001 ? 2 : 0)))
        }
        return out
    }

    static func object(_ fields: [(String, String)]) -> String {
        "{" + fields.map { "\"\($0.0)\":\($0.1)" }.joined(separator: ",") + "}"
    }

    /// The resident record JSON with the model's version.
    private func residentJSON(_ p: Person, index: Int) -> String {
        var fields = p.fields
        fields.append(("version", String(versions[index])))
        return Self.object(fields)
    }

    private func sealJSON(_ r: Int, registeredOn: String) -> String {
        let png = sealBase64[r % sealBase64.count]
        let mm = [12, 13.5, 15, 18][r % 4]
        return "{\"juminhyoCode\":\(Self.q(Self.code(r))),\"registrationNumber\":\"S\(r + 1)\",\"registeredOn\":\"\(registeredOn)\","
            + "\"impression\":{\"png\":\"\(png)\",\"widthMm\":\(mm),\"heightMm\":\(mm)}}"
    }

    // MARK: - The extract

    public struct ExtractCounts: Sendable, Equatable {
        public let residents: Int, seals: Int, cards: Int, restrictions: Int, bytes: Int
    }

    /// Writes the reseed extract of sync-feed.md for the generator's municipality as it is now
    /// (current residents only): header, records, trailer with counts and SHA-256 of every byte
    /// before it. With `gzip` the file is gzip-compressed (the counts and checksum refer to the
    /// text). Streams: memory stays small whatever the size.
    @discardableResult
    public func writeExtract(to path: String, asOfSeq: Int64, gzip: Bool = false,
                             createdAt: String = "2026-11-22T03:00:00+09:00") throws -> ExtractCounts {
        _ = FileManager.default.createFile(atPath: path, contents: nil)
        guard let handle = FileHandle(forWritingAtPath: path) else { throw CocoaError(.fileWriteUnknown) }
        defer { try? handle.close() }
        var hasher: SHA256? = SHA256()
        let deflater = gzip ? DeflateStream(level: 1, gzip: true) : nil
        var buffer: [UInt8] = []
        buffer.reserveCapacity(1 << 20)
        var textBytes = 0
        func flush(final: Bool = false) throws {
            if let deflater {
                try deflater.write(buffer) { try handle.write(contentsOf: $0) }
                if final { try deflater.finish { try handle.write(contentsOf: $0) } }
            } else {
                try handle.write(contentsOf: buffer)
            }
            buffer.removeAll(keepingCapacity: true)
        }
        func line(_ s: String, hashed: Bool = true) throws {
            let start = buffer.count
            buffer.append(contentsOf: s.utf8)
            buffer.append(0x0A)
            if hashed { buffer[start...].withUnsafeBytes { hasher!.update($0) } }
            textBytes += buffer.count - start
            if buffer.count >= 1 << 20 { try flush() }
        }
        try line("{\"format\":\"kofu-extract/1\",\"municipality\":\(Self.q(municipality)),\"asOfSeq\":\(asOfSeq),\"createdAt\":\(Self.q(createdAt))}")
        var counts = (0, 0, 0, 0)
        for h in 0..<householdStart.count {
            let members = household(h)
            var indices = (0..<members.count).map { Int(householdStart[h]) + $0 }
            indices += bornIn[h] ?? []
            for r in indices where flags[r] & 1 == 0 {
                let p = r < residents ? members[r - Int(householdStart[h])] : bornPerson(r)
                try line("{\"type\":\"resident\"," + residentJSON(p, index: r).dropFirst())
                counts.0 += 1
                if flags[r] & 2 != 0 {
                    try line("{\"type\":\"seal\"," + sealJSON(r, registeredOn: "2015-04-01").dropFirst())
                    counts.1 += 1
                }
                for k in 0..<Int(cardCount[r]) {
                    try line("{\"type\":\"card\",\"juminhyoCode\":\(Self.q(Self.code(r))),\"certSha256\":\"\(cardHash(r, k))\"}")
                    counts.2 += 1
                }
                for (bit, kind) in [(UInt8(1), "support-measure"), (2, "issuance-control")] where restricted[r] & bit != 0 {
                    try line("{\"type\":\"restriction\",\"juminhyoCode\":\(Self.q(Self.code(r))),\"kind\":\"\(kind)\"}")
                    counts.3 += 1
                }
            }
        }
        let digest = SHA256.hex(hasher.take()!.finish())
        try line("{\"type\":\"end\",\"counts\":{\"resident\":\(counts.0),\"seal\":\(counts.1),\"card\":\(counts.2),\"restriction\":\(counts.3)},\"sha256\":\"\(digest)\"}",
                 hashed: false)
        try flush(final: true)
        return ExtractCounts(residents: counts.0, seals: counts.1, cards: counts.2, restrictions: counts.3, bytes: textBytes)
    }

    // MARK: - Sync batches

    private func bornPerson(_ r: Int) -> Person {
        let b = born[r]!
        var rng = SplitMix(seed ^ UInt64(r) &* 0xD6E8_FEB8_6659_FD93)
        let head = household(b.household)[0]
        let headName = head.fields.first { $0.0 == "name" }!.1
        let address = head.fields.first { $0.0 == "address" }!.1
        let surname = String(String(headName.dropFirst().dropLast()).split(separator: "　").first ?? "見本")
        let male = rng.unit() < 0.5
        let g = male ? Self.givenMale[rng.below(Self.givenMale.count)] : Self.givenFemale[rng.below(Self.givenFemale.count)]
        let birth = Self.date(Self.day(2026) + rng.below(300))
        let fields: [(String, String)] = [
            ("juminhyoCode", Self.q(Self.code(r))), ("householdId", Self.q("H" + String(format: "%010d", b.household + 1))),
            ("householdOrder", String(b.order)), ("householdHeadName", headName), ("name", Self.q("\(surname)　\(g.0)")),
            ("nameKana", Self.q("ミホン　\(g.1)")), ("birthDate", Self.q(birth)), ("sex", Self.q(male ? "男" : "女")),
            ("relationship", Self.q("子")), ("address", address), ("becameResidentOn", Self.q(birth)), ("addressSetOn", Self.q(birth)),
            ("addressNotifiedOn", Self.q(birth)), ("domicile", "{\"address\":\"大阪府架空市本町一丁目1番地\",\"head\":\(headName)}"),
        ]
        return Person(fields: fields, code: Self.code(r), seal: false, cards: 0, restriction: 0)
    }

    private func person(_ r: Int) -> Person {
        if r >= residents { return bornPerson(r) }
        let h = Int(householdOf[r])
        return household(h)[r - Int(householdStart[h])]
    }

    /// `count` batch files (`{"events":[…]}`) of `eventsPerBatch` events each, with consecutive
    /// seq from `startingAt`, every event valid against the replica as the generator's model has
    /// it (the extract written before, then the batches returned before). Advances the model.
    public func batches(startingAt first: Int64, count: Int, eventsPerBatch: Int) -> [[UInt8]] {
        var seq = first
        var out: [[UInt8]] = []
        for _ in 0..<count {
            var events: [String] = []
            for _ in 0..<eventsPerBatch {
                events.append(nextEvent(seq: seq))
                seq += 1
            }
            out.append(Array(("{\"events\":[" + events.joined(separator: ",") + "]}").utf8))
        }
        return out
    }

    /// Residents the model holds now (not logically deleted).
    public var currentResidents: Int { flags.reduce(0) { $0 + ($1 & 1 == 0 ? 1 : 0) } }

    private func pickLive() -> Int {
        while true {
            let r = eventRNG.below(flags.count)
            if flags[r] & 1 == 0 { return r }
        }
    }

    private func nextEvent(seq: Int64) -> String {
        let x = eventRNG.unit()
        let head = "{\"seq\":\(seq),"
        let today = Self.date(Self.day(2026) + 320 + Int(seq % 30))
        if x < 0.35 {  // 転居届 etc.: a new version of a resident
            let r = pickLive()
            versions[r] &+= 1
            return head + "\"type\":\"resident.upsert\",\"resident\":\(residentJSON(person(r), index: r))}"
        } else if x < 0.45 {  // 出生: a new member of an existing household
            let h = eventRNG.below(householdStart.count)
            let r = flags.count
            let order = Int(householdSize[h]) + (bornIn[h]?.count ?? 0) + 1
            born[r] = (h, order)
            bornIn[h, default: []].append(r)
            householdOf.append(Int32(h)); versions.append(1); flags.append(0); cardCount.append(0); restricted.append(0)
            return head + "\"type\":\"resident.upsert\",\"resident\":\(residentJSON(bornPerson(r), index: r))}"
        } else if x < 0.52 {  // 転出 / 死亡
            let r = pickLive()
            flags[r] |= 1
            return head + "\"type\":\"resident.delete\",\"juminhyoCode\":\(Self.q(Self.code(r))),\"reason\":\"\(eventRNG.unit() < 0.5 ? "転出" : "死亡")\",\"effectiveOn\":\"\(today)\"}"
        } else if x < 0.55 {  // 転出取消: restore a deleted resident (or update a live one)
            var r = eventRNG.below(flags.count)
            for _ in 0..<20 where flags[r] & 1 == 0 { r = eventRNG.below(flags.count) }
            flags[r] &= ~1
            versions[r] &+= 1
            return head + "\"type\":\"resident.upsert\",\"resident\":\(residentJSON(person(r), index: r))}"
        } else if x < 0.67 {
            let r = pickLive()
            flags[r] |= 6
            return head + "\"type\":\"seal.register\",\"seal\":\(sealJSON(r, registeredOn: today))}"
        } else if x < 0.72 {
            let r = pickLive()
            flags[r] &= ~2
            return head + "\"type\":\"seal.abolish\",\"juminhyoCode\":\(Self.q(Self.code(r)))}"
        } else if x < 0.86 {
            let r = pickLive()
            let k = Int(cardCount[r])
            if k < 200 { cardCount[r] += 1 }
            return head + "\"type\":\"card.bind\",\"card\":{\"juminhyoCode\":\(Self.q(Self.code(r))),\"certSha256\":\"\(cardHash(r, k))\"}}"
        } else if x < 0.93 {
            let r = pickLive()
            let k = max(0, Int(cardCount[r]) - 1)
            if cardCount[r] > 0 { cardCount[r] -= 1 }
            return head + "\"type\":\"card.unbind\",\"card\":{\"juminhyoCode\":\(Self.q(Self.code(r))),\"certSha256\":\"\(cardHash(r, k))\"}}"
        } else {
            let r = pickLive()
            let kind = eventRNG.unit() < 0.7 ? UInt8(1) : 2
            let set = restricted[r] & kind == 0 || eventRNG.unit() < 0.3
            if set { restricted[r] |= kind } else { restricted[r] &= ~kind }
            return head + "\"type\":\"restriction.\(set ? "set" : "clear")\",\"restriction\":{\"juminhyoCode\":\(Self.q(Self.code(r))),\"kind\":\"\(kind == 1 ? "support-measure" : "issuance-control")\"}}"
        }
    }

    /// A household id of the municipality (for lookups), `H` and ten digits.
    public func householdId(_ h: Int) -> String { "H" + String(format: "%010d", h + 1) }
    /// A card certificate hash bound in the extract to some resident of household `h`, if any.
    public func someCard(household h: Int) -> String? {
        let start = Int(householdStart[h])
        for r in start..<(start + Int(householdSize[h])) where cardCount[r] > 0 && flags[r] & 1 == 0 { return cardHash(r, 0) }
        return nil
    }
}

/// SplitMix64: small, fast, deterministic.
struct SplitMix {
    var state: UInt64
    init(_ seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
}
