/// How a resident record is kept in the store's `record` column: the decoded fields in a compact
/// binary form, so that reading a household back is copying bytes into Strings rather than parsing
/// and re-validating JSON (the record was validated in full when it came in, by the feed or the
/// extract). Text is the exact UTF-8 of the decoded strings, so it comes back byte-exactly.
///
/// Layout (format 2): the byte 0x02; then each field in declaration order — a string as a LEB128
/// length and its UTF-8 bytes, an integer as a LEB128 of its value (always ≥ 1), an optional as
/// 0x00 (absent) or 0x01 followed by the value. A reader that finds anything else (a wrong format
/// byte, a length past the end, bytes left over) throws: a damaged row is refused, never guessed.
extension Resident {
    static let storedFormat: UInt8 = 2

    var stored: [UInt8] {
        var w = RecordWriter()
        w.bytes.reserveCapacity(256)
        w.bytes.append(Self.storedFormat)
        w.string(juminhyoCode)
        w.string(householdId)
        w.integer(householdOrder)
        w.string(householdHeadName)
        w.string(name)
        w.string(nameKana)
        w.optional(formerSurname) { $0.string($1) }
        w.optional(alias) { $0.string($1) }
        w.string(birthDate)
        w.string(sex)
        w.string(relationship)
        w.string(address)
        w.optional(katagaki) { $0.string($1) }
        w.string(becameResidentOn)
        w.string(addressSetOn)
        w.string(addressNotifiedOn)
        w.optional(previousAddress) { $0.string($1) }
        w.optional(domicile) { w, d in
            w.string(d.address)
            w.string(d.head)
        }
        w.optional(foreignResident) { w, f in
            for s in [f.nationality, f.category, f.status, f.periodOfStay, f.expiresOn] { w.string(s) }
        }
        w.integer(version)
        return w.bytes
    }

    static func stored(_ bytes: [UInt8]) throws(StoredRecordError) -> Resident {
        var r = RecordReader(bytes: bytes)
        guard try r.byte() == storedFormat else { throw StoredRecordError() }
        let resident = Resident(
            juminhyoCode: try r.string(), householdId: try r.string(), householdOrder: try r.integer(),
            householdHeadName: try r.string(), name: try r.string(), nameKana: try r.string(),
            formerSurname: try r.optionalString(),
            alias: try r.optionalString(),
            birthDate: try r.string(), sex: try r.string(), relationship: try r.string(), address: try r.string(),
            katagaki: try r.optionalString(),
            becameResidentOn: try r.string(), addressSetOn: try r.string(), addressNotifiedOn: try r.string(),
            previousAddress: try r.optionalString(),
            domicile: try r.present() ? Domicile(address: try r.string(), head: try r.string()) : nil,
            foreignResident: try r.present()
                ? ForeignResident(nationality: try r.string(), category: try r.string(), status: try r.string(),
                                  periodOfStay: try r.string(), expiresOn: try r.string())
                : nil,
            version: try r.integer())
        guard r.atEnd else { throw StoredRecordError() }
        return resident
    }

    init(juminhyoCode: String, householdId: String, householdOrder: Int64, householdHeadName: String, name: String,
         nameKana: String, formerSurname: String?, alias: String?, birthDate: String, sex: String, relationship: String,
         address: String, katagaki: String?, becameResidentOn: String, addressSetOn: String, addressNotifiedOn: String,
         previousAddress: String?, domicile: Domicile?, foreignResident: ForeignResident?, version: Int64) {
        self.juminhyoCode = juminhyoCode
        self.householdId = householdId
        self.householdOrder = householdOrder
        self.householdHeadName = householdHeadName
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
        self.version = version
    }
}

extension Domicile {
    init(address: String, head: String) {
        self.address = address
        self.head = head
    }
}

extension ForeignResident {
    init(nationality: String, category: String, status: String, periodOfStay: String, expiresOn: String) {
        self.nationality = nationality
        self.category = category
        self.status = status
        self.periodOfStay = periodOfStay
        self.expiresOn = expiresOn
    }
}

/// A stored record that does not decode: the store file is damaged (or of another format).
public struct StoredRecordError: Error, CustomStringConvertible {
    public var description: String { "a stored resident record is damaged or of an unknown format" }
}

struct RecordWriter {
    var bytes: [UInt8] = []

    mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            bytes.append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        bytes.append(UInt8(v))
    }

    mutating func string(_ s: String) {
        var s = s
        s.withUTF8 { utf8 in
            varint(UInt64(utf8.count))
            bytes.append(contentsOf: utf8)
        }
    }

    mutating func integer(_ v: Int64) { varint(UInt64(bitPattern: v)) }

    mutating func optional<T>(_ value: T?, _ write: (inout RecordWriter, T) -> Void) {
        guard let value else {
            bytes.append(0)
            return
        }
        bytes.append(1)
        write(&self, value)
    }
}

struct RecordReader {
    let bytes: [UInt8]
    var at = 0

    var atEnd: Bool { at == bytes.count }

    mutating func byte() throws(StoredRecordError) -> UInt8 {
        guard at < bytes.count else { throw StoredRecordError() }
        defer { at += 1 }
        return bytes[at]
    }

    mutating func varint() throws(StoredRecordError) -> UInt64 {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while true {
            let b = try byte()
            guard shift < 64 else { throw StoredRecordError() }
            value |= UInt64(b & 0x7F) << shift
            if b < 0x80 { return value }
            shift += 7
        }
    }

    mutating func string() throws(StoredRecordError) -> String {
        let n = try varint()
        guard n <= UInt64(bytes.count - at) else { throw StoredRecordError() }
        let end = at + Int(n)
        defer { at = end }
        // The bytes were written from a Swift String, so they are valid UTF-8; a damaged row that
        // is not is refused rather than repaired with U+FFFD.
        guard let s = bytes.withUnsafeBufferPointer({ String(validating: UnsafeBufferPointer(rebasing: $0[at..<end]), as: UTF8.self) }) else {
            throw StoredRecordError()
        }
        return s
    }

    mutating func integer() throws(StoredRecordError) -> Int64 { Int64(bitPattern: try varint()) }

    /// An optional's presence byte.
    mutating func present() throws(StoredRecordError) -> Bool {
        switch try byte() {
        case 0: return false
        case 1: return true
        default: throw StoredRecordError()
        }
    }

    mutating func optionalString() throws(StoredRecordError) -> String? { try present() ? try string() : nil }
}

/// The store keys a resident by the integer value of the 住民票コード (11 ASCII digits, validated on
/// input, so the mapping is one to one): the tables are then keyed directly by rowid, with no
/// second index on a text key to look up and to update on every write.
enum StoreKey {
    /// The key of an 11-digit code; nil for anything else (which no stored row can match).
    static func of(_ code: String) -> Int64? {
        var v: Int64 = 0
        var n = 0
        for b in code.utf8 {
            guard b >= 48, b <= 57 else { return nil }
            v = v * 10 + Int64(b - 48)
            n += 1
            if n > 11 { return nil }
        }
        return n == 11 ? v : nil
    }

    /// The key of a code that validation has already accepted (an extract's records).
    static func required(_ code: String) throws(StoreError) -> Int64 {
        guard let key = of(code) else { throw StoreError(message: "a 住民票コード that is not 11 digits reached the store") }
        return key
    }

    /// The code of a key: its decimal digits, zero-padded to 11.
    static func code(_ key: Int64) -> String {
        var digits = [UInt8](repeating: 48, count: 11)
        var v = key
        var i = 10
        while v > 0 && i >= 0 {
            digits[i] = UInt8(48 + v % 10)
            v /= 10
            i -= 1
        }
        return String(decoding: digits, as: UTF8.self)
    }
}
