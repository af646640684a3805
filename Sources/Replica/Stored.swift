import KofuJSON

/// Records are stored as the JSON of their fields (exact strings, so byte-exact text), with the
/// columns the queries need beside them.
extension Resident {
    var json: [UInt8] {
        var m: [(key: String, value: JSONValue)] = [
            ("juminhyoCode", .string(juminhyoCode)), ("householdId", .string(householdId)),
            ("householdOrder", .number(JSONNumber(householdOrder))), ("householdHeadName", .string(householdHeadName)),
            ("name", .string(name)), ("nameKana", .string(nameKana)), ("birthDate", .string(birthDate)), ("sex", .string(sex)),
            ("relationship", .string(relationship)), ("address", .string(address)),
            ("becameResidentOn", .string(becameResidentOn)), ("addressSetOn", .string(addressSetOn)),
            ("addressNotifiedOn", .string(addressNotifiedOn)), ("version", .number(JSONNumber(version))),
        ]
        if let formerSurname { m.append(("formerSurname", .string(formerSurname))) }
        if let alias { m.append(("alias", .string(alias))) }
        if let katagaki { m.append(("katagaki", .string(katagaki))) }
        if let previousAddress { m.append(("previousAddress", .string(previousAddress))) }
        if let domicile {
            m.append(("domicile", .object(JSONObject([("address", .string(domicile.address)), ("head", .string(domicile.head))])!)))
        }
        if let f = foreignResident {
            m.append(("foreignResident", .object(JSONObject([
                ("nationality", .string(f.nationality)), ("category", .string(f.category)), ("status", .string(f.status)),
                ("periodOfStay", .string(f.periodOfStay)), ("expiresOn", .string(f.expiresOn)),
            ])!)))
        }
        return serialize(.object(JSONObject(m)!))
    }

    static func stored(_ bytes: [UInt8]) throws -> Resident {
        try StrictJSONDecoder().decode(Resident.self, from: bytes)
    }
}
