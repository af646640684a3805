import Issuance
import KofuJSON
import Testing

/// `EligibilityPayload.decode` and `IssuancePayload.decode`: the service's field decoding as the
/// fuzz harnesses call it.
@Suite struct PayloadDecodeTests {
    static let common = #""requestId":"5f0c7a3e-1b2d-4c8e-9f10-2a3b4c5d6e7f","issuedAt":"2026-11-20T10:15:30+09:00","municipality":"999997","terminal":{"terminalId":"K1","storeCode":"S1"}"#

    struct NotAnObject: Error {}

    func object(_ text: String) throws -> JSONObject {
        guard case .object(let o) = try JSONParser.parse(Array(text.utf8)) else { throw NotAnObject() }
        return o
    }

    @Test func anIssuancePayloadDecodes() throws {
        let o = try object(#"{\#(Self.common),"kind":"juminhyo","scope":"members","members":["m1","m2"],"copies":2}"#)
        let (payload, field) = IssuancePayload.decode(o)
        #expect(field == nil)
        #expect(payload?.members == ["m1", "m2"])
        #expect(payload?.copies == 2)
        #expect(payload?.kind == .juminhyo)
        // An issuance payload has members an eligibility payload does not know.
        #expect(EligibilityPayload.decode(o).field == "kind")
        #expect(EligibilityPayload.decode(try object("{\(Self.common)}")).payload?.common.municipality == "999997")
    }

    @Test(arguments: [
        (#""kind":"juminhyo","scope":"self","copies":11"#, "copies"),
        (#""kind":"juminhyo","scope":"self","copies":1,"x":1"#, "x"),
        (#""kind":"juminhyo","scope":"members","members":[],"copies":1"#, "members"),
        (#""kind":"juminhyo","scope":"self","options":{"domicile":1},"copies":1"#, "options.domicile"),
    ])
    func aBadPayloadNamesItsField(members: String, field: String) throws {
        let (payload, fault) = IssuancePayload.decode(try object("{\(Self.common),\(members)}"))
        #expect(payload == nil)
        #expect(fault == field)
    }
}
