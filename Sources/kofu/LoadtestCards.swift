import Foundation
import KofuJSON
import KofuTesting

/// The demo folder's cards and expectations (written by `kofu demo`, read by `kofu loadtest`).
struct LoadtestCards {
    static let fileName = "loadtest-cards.json"
    static let extractName = "loadtest-extract.jsonl"

    struct Card {
        let household: String
        let name: String
        let householdNames: [String]
        let headName: String
        let seal: Bool
        let card: TestCard
    }

    struct Refusal {
        let what: String
        let endpoint: String  // "eligibility" or "issuance"
        let fields: [(String, JSONValue)]
        let status: Int
        let code: String
        /// The answer once a reseed has dropped the requester (an extract holds no deleted residents).
        let afterReseed: (status: Int, code: String)?
        let card: TestCard
    }

    let municipality: String
    let cards: [Card]
    let refusals: [Refusal]
    let residents: [(household: String, name: String)]
    let syncPort: Int?
    let flipHousehold: String?
    let flipRecords: [JSONObject]

    static func load(_ folder: String) throws -> LoadtestCards {
        let path = folder + "/" + fileName
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ValidationFailure("cannot read \(path) (run kofu demo first, and pass its working folder)")
        }
        let bad = ValidationFailure("\(path): not a kofu demo card file (run this version's kofu demo)")
        guard case .object(let o) = try JSONParser.parse(Array(data)), case .string(let municipality)? = o["municipality"],
              case .array(let cards)? = o["cards"], case .array(let residents)? = o["residents"],
              case .array(let refusals)? = o["refusals"] else { throw bad }
        func strings(_ v: JSONValue?) -> [String] {
            guard case .array(let a)? = v else { return [] }
            return a.compactMap { if case .string(let s) = $0 { s } else { nil } }
        }
        var out: [Card] = []
        for c in cards {
            guard case .object(let co) = c, case .string(let household)? = co["household"], case .string(let name)? = co["name"],
                  case .string(let head)? = co["headName"], case .bool(let seal)? = co["seal"],
                  case .string(let cert)? = co["certificatePEM"], case .string(let key)? = co["privateKeyPEM"] else { throw bad }
            out.append(Card(household: household, name: name, householdNames: strings(co["householdNames"]), headName: head,
                            seal: seal, card: try TestCard(certificatePEM: cert, privateKeyPEM: key)))
        }
        var refused: [Refusal] = []
        for r in refusals {
            guard case .object(let ro) = r, case .string(let what)? = ro["what"], case .string(let endpoint)? = ro["endpoint"],
                  case .object(let fields)? = ro["fields"], case .number(let status)? = ro["status"], let s = status.int64,
                  case .string(let code)? = ro["code"], case .string(let cert)? = ro["certificatePEM"],
                  case .string(let key)? = ro["privateKeyPEM"] else { throw bad }
            var afterReseed: (Int, String)?
            if case .object(let a)? = ro["afterReseed"], case .number(let st)? = a["status"], let v = st.int64,
               case .string(let c)? = a["code"] { afterReseed = (Int(v), c) }
            refused.append(Refusal(what: what, endpoint: endpoint, fields: fields.members.map { ($0.key, $0.value) },
                                   status: Int(s), code: code, afterReseed: afterReseed,
                                   card: try TestCard(certificatePEM: cert, privateKeyPEM: key)))
        }
        let all: [(String, String)] = residents.compactMap { r in
            guard case .object(let ro) = r, case .string(let h)? = ro["household"], case .string(let n)? = ro["name"] else { return nil }
            return (h, n)
        }
        var syncPort: Int?
        if case .number(let p)? = o["syncPort"], let v = p.int64 { syncPort = Int(v) }
        var flipHousehold: String?
        if case .string(let h)? = o["flipHousehold"] { flipHousehold = h }
        var flipRecords: [JSONObject] = []
        if case .array(let records)? = o["flipRecords"] {
            flipRecords = records.compactMap { if case .object(let r) = $0 { r } else { nil } }
        }
        guard !out.isEmpty else { throw bad }
        return LoadtestCards(municipality: municipality, cards: out, refusals: refused, residents: all, syncPort: syncPort,
                             flipHousehold: flipHousehold, flipRecords: flipRecords)
    }
}

struct ValidationFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
