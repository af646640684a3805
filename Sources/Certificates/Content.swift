import Typesetting

/// What a 住民票の写し or 印鑑登録証明書 shows: values exactly as stored, never normalised.
/// No 住民票コード or 個人番号 exists in this model, so none can be printed.
public struct Person: Sendable {
    public var name: String
    public var nameKana: String
    public var formerSurname: String?
    public var alias: String?
    public var birthDate: CivilDate
    public var sex: String
    public var relationship: String
    public var address: String
    public var katagaki: String?
    public var becameResidentOn: CivilDate
    public var addressSetOn: CivilDate
    public var addressNotifiedOn: CivilDate
    public var previousAddress: String?
    public var domicile: Domicile?
    public var foreignResident: ForeignResidentItems?

    public init(name: String, nameKana: String, formerSurname: String? = nil, alias: String? = nil,
                birthDate: CivilDate, sex: String, relationship: String, address: String, katagaki: String? = nil,
                becameResidentOn: CivilDate, addressSetOn: CivilDate, addressNotifiedOn: CivilDate,
                previousAddress: String? = nil, domicile: Domicile? = nil, foreignResident: ForeignResidentItems? = nil) {
        self.name = name
        self.nameKana = nameKana
        self.formerSurname = formerSurname
        self.alias = alias
        self.birthDate = birthDate
        self.sex = sex
        self.relationship = relationship
        self.address = address
        self.katagaki = katagaki
        self.becameResidentOn = becameResidentOn
        self.addressSetOn = addressSetOn
        self.addressNotifiedOn = addressNotifiedOn
        self.previousAddress = previousAddress
        self.domicile = domicile
        self.foreignResident = foreignResident
    }

    public var isForeignResident: Bool { foreignResident != nil }
}

public struct Domicile: Sendable {
    public var address: String
    public var head: String
    public init(address: String, head: String) {
        self.address = address
        self.head = head
    }
}

public struct ForeignResidentItems: Sendable {
    public var nationality: String
    public var category: String
    public var status: String
    public var periodOfStay: String
    public var expiresOn: CivilDate
    public init(nationality: String, category: String, status: String, periodOfStay: String, expiresOn: CivilDate) {
        self.nationality = nationality
        self.category = category
        self.status = status
        self.periodOfStay = periodOfStay
        self.expiresOn = expiresOn
    }
}

public struct JuminhyoOptions: Sendable, Equatable {
    public var domicile = false
    public var relationship = false
    public var foreignResidentItems = false
    public init(domicile: Bool = false, relationship: Bool = false, foreignResidentItems: Bool = false) {
        self.domicile = domicile
        self.relationship = relationship
        self.foreignResidentItems = foreignResidentItems
    }
}

/// Who is printed, which decides the 認証文.
public enum Coverage: Sendable, Equatable {
    /// Every current member of the household.
    case wholeHousehold
    /// One person who is not the whole household.
    case onePerson
    /// Some members, more than one, not all.
    case partOfHousehold

    public static func of(printed: Int, householdSize: Int) -> Coverage {
        printed == householdSize ? .wholeHousehold : (printed == 1 ? .onePerson : .partOfHousehold)
    }
}

/// Per-certificate facts that are not resident data.
public struct IssueFacts: Sendable {
    /// The 交付番号: ASCII letters and digits, printed in one piece on every page.
    public var issuanceId: String
    /// The Japan-time date on which the request was received.
    public var issueDate: CivilDate
    public init(issuanceId: String, issueDate: CivilDate) {
        self.issuanceId = issuanceId
        self.issueDate = issueDate
    }
}

public struct JuminhyoContent: Sendable {
    public var facts: IssueFacts
    public var householdAddress: String
    public var householdKatagaki: String?
    public var householdHeadName: String
    /// The subjects in household order (出力順位).
    public var persons: [Person]
    public var coverage: Coverage
    public var options: JuminhyoOptions

    public init(facts: IssueFacts, householdAddress: String, householdKatagaki: String?, householdHeadName: String,
                persons: [Person], coverage: Coverage, options: JuminhyoOptions) {
        self.facts = facts
        self.householdAddress = householdAddress
        self.householdKatagaki = householdKatagaki
        self.householdHeadName = householdHeadName
        self.persons = persons
        self.coverage = coverage
        self.options = options
    }
}

/// A registered seal impression (印影) and its physical size.
public struct SealImpression: Sendable {
    public var png: [UInt8]
    public var widthMm: Double
    public var heightMm: Double
    public init(png: [UInt8], widthMm: Double, heightMm: Double) {
        self.png = png
        self.widthMm = widthMm
        self.heightMm = heightMm
    }
}

public struct InkanContent: Sendable {
    public var facts: IssueFacts
    public var person: Person
    public var impression: SealImpression
    public init(facts: IssueFacts, person: Person, impression: SealImpression) {
        self.facts = facts
        self.person = person
        self.impression = impression
    }
}

/// The issuing municipality, from its configuration.
public struct Municipality: Sendable {
    public var name: String
    /// The authority line printed beside the 職印, e.g. 「高槻市長　高槻　太郎」.
    public var authority: String
    public var officialSealPNG: [UInt8]
    public var officialSealMm: Double
    /// 認証文 wording; the defaults are certificates.md's.
    public var attestation: Attestation

    public init(name: String, authority: String, officialSealPNG: [UInt8], officialSealMm: Double,
                attestation: Attestation = Attestation()) {
        self.name = name
        self.authority = authority
        self.officialSealPNG = officialSealPNG
        self.officialSealMm = officialSealMm
        self.attestation = attestation
    }
}

public struct Attestation: Sendable {
    public var wholeHousehold = "この写しは、世帯全員の住民票の原本と相違ないことを証明する。"
    public var onePerson = "この写しは、住民票の原本と相違ないことを証明する。"
    public var partOfHousehold = "この写しは、世帯の一部の住民票の原本と相違ないことを証明する。"
    public var inkan = "この写しは、登録されている印影と相違ないことを証明します。"
    public init() {}

    func juminhyo(_ coverage: Coverage) -> String {
        switch coverage {
        case .wholeHousehold: wholeHousehold
        case .onePerson: onePerson
        case .partOfHousehold: partOfHousehold
        }
    }
}
