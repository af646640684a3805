import Certificates
import Foundation
import Typesetting

/// The demo municipality: a fictional city, its fonts and seals, and households whose names
/// exercise what real registers hold (IVS variants, compatibility ideographs, 外字 in the Private
/// Use Area, a 外国人住民, a long 方書). Used by `kofu demo`, the benchmarks and the tests.
public enum Demo {
    public static let baseFontPath = "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"
    public static let municipalityName = "架空市"
    public static let authority = "架空市長　見本　太郎"

    /// The repository root, found from this source file (tests) or from the current folder
    /// upwards (`kofu` run from a clone).
    public static func repositoryRoot(from start: String = FileManager.default.currentDirectoryPath) -> String? {
        for candidate in [start, URL(fileURLWithPath: #filePath).deletingLastPathComponent().path] {
            var url = URL(fileURLWithPath: candidate)
            for _ in 0..<8 {
                if FileManager.default.fileExists(atPath: url.appendingPathComponent("Templates/juminhyo.json").path) {
                    return url.path
                }
                url.deleteLastPathComponent()
            }
        }
        return nil
    }

    /// Fonts: IPAmj明朝 from Debian's package, then the project's demo 外字 font.
    public static func fontStack(root: String) throws -> FontStack {
        FontStack(base: try FontFace(path: baseFontPath),
                  gaiji: [try FontFace(path: root + "/Fonts/kofu-demo-gaiji.ttf")])
    }

    public static func officialSeal() throws -> [UInt8] {
        try SealImage.officialSeal(text: "架空市長之印", fontPath: baseFontPath)
    }

    public static func municipality() throws -> Municipality {
        Municipality(name: municipalityName, authority: authority, officialSealPNG: try officialSeal(), officialSealMm: 21)
    }

    public static func renderer(root: String) throws -> CertificateRenderer {
        try CertificateRenderer(templatesDirectory: root + "/Templates", fonts: try fontStack(root: root),
                                municipality: try municipality())
    }

    static func date(_ s: String) -> CivilDate { CivilDate(iso: s)! }

    public static let address = "大阪府架空市桃園町一丁目2番3号"
    public static let katagaki = "グランドメゾン桃園　1203号室"

    /// The 葛󠄂城 household: 葛 with U+E0102 (IPAmj mj022335), 﨑 U+FA11 as a 旧氏, a child whose
    /// given name holds the demo 外字 U+E000, 塚 as U+FA10, and a 外国人住民 with a 通称.
    public static func household() -> [Person] {
        let head = "葛\u{E0102}城　太郎"
        func person(_ name: String, _ kana: String, _ birth: String, _ sex: String, _ rel: String,
                    former: String? = nil, alias: String? = nil, foreign: ForeignResidentItems? = nil) -> Person {
            Person(name: name, nameKana: kana, formerSurname: former, alias: alias, birthDate: date(birth), sex: sex,
                   relationship: rel, address: address, katagaki: katagaki,
                   becameResidentOn: date(foreign == nil ? birth : "2015-04-01"),
                   addressSetOn: date("2019-04-30"), addressNotifiedOn: date("2019-05-01"),
                   previousAddress: "大阪府架空市旧町三丁目4番5号",
                   domicile: foreign == nil ? Domicile(address: "大阪府架空市本町一丁目1番地", head: head) : nil,
                   foreignResident: foreign)
        }
        return [
            person(head, "カツラギ　タロウ", "1958-03-14", "男", "世帯主"),
            person("葛\u{E0102}城　花子", "カツラギ　ハナコ", "1961-12-25", "女", "妻", former: "\u{FA11}山"),
            person("葛\u{E0102}城　\u{E000}子", "カツラギ　ツジコ", "1989-01-08", "女", "子"),
            person("葛\u{E0102}城　\u{FA10}美", "カツラギ　ツカミ", "2019-05-01", "女", "子"),
            person("WANG XIAOMING", "ワン　シャオミン", "1990-07-15", "男", "同居人", alias: "王　小明",
                   foreign: ForeignResidentItems(nationality: "中国", category: "中長期在留者", status: "技術・人文知識・国際業務",
                                                 periodOfStay: "5年", expiresOn: date("2028-03-31"))),
        ]
    }

    /// A household of `count` persons with plain names, for paging tests and benchmarks.
    public static func largeHousehold(_ count: Int) -> [Person] {
        let given = ["一郎", "二郎", "三郎", "四郎", "五郎", "六郎", "七郎", "八郎", "九郎", "十郎", "花子", "春子"]
        return (0..<count).map { i in
            Person(name: "見本　" + given[i % given.count] + (i >= given.count ? String(i) : ""),
                   nameKana: "ミホン", birthDate: date("1970-01-\(String(format: "%02d", i % 28 + 1))"),
                   sex: i % 2 == 0 ? "男" : "女", relationship: i == 0 ? "世帯主" : "子", address: address,
                   becameResidentOn: date("1990-04-01"), addressSetOn: date("1990-04-01"),
                   addressNotifiedOn: date("1990-04-02"))
        }
    }

    public static func facts(_ id: String = "K7QX2M9ZR4TB") -> IssueFacts {
        IssueFacts(issuanceId: id, issueDate: date("2026-11-22"))
    }

    public static func juminhyo(_ persons: [Person], householdSize: Int? = nil, options: JuminhyoOptions = JuminhyoOptions(),
                                id: String = "K7QX2M9ZR4TB") -> JuminhyoContent {
        JuminhyoContent(facts: facts(id), householdAddress: address, householdKatagaki: katagaki,
                        householdHeadName: persons.first?.name ?? "", persons: persons,
                        coverage: Coverage.of(printed: persons.count, householdSize: householdSize ?? persons.count),
                        options: options)
    }

    public static func personalSeal() throws -> [UInt8] {
        try SealImage.personalSeal(text: "葛城", fontPath: baseFontPath)
    }

    public static func inkan(_ person: Person, seal: [UInt8], id: String = "K7QX2M9ZR4TC") -> InkanContent {
        InkanContent(facts: facts(id), person: person, impression: SealImpression(png: seal, widthMm: 15, heightMm: 15))
    }
}
