import Certificates
import Foundation
import KofuConfiguration
import Testing

@testable import Issuance

struct AgeTests {
    static func d(_ s: String) -> CivilDate { CivilDate(iso: s)! }

    @Test(arguments: [
        ("2011-11-22", "2026-11-22", 15),  // the 15th birthday itself
        ("2011-11-23", "2026-11-22", 14),  // the day before it
        ("2008-02-29", "2023-02-28", 14),  // common year: the birthday falls on 1 March
        ("2008-02-29", "2023-03-01", 15),
        ("2008-02-29", "2024-02-29", 16),  // leap year: on the day
        ("2008-02-29", "2024-02-28", 15),
        ("1958-03-14", "2026-12-02", 68),
    ])
    func ageFollowsTheLaw(birth: String, day: String, age: Int) {
        #expect(Rules.age(birth: Self.d(birth), on: Self.d(day)) == age)
    }
}

struct ServiceHoursTests {
    static let hours = ServiceHours(startMinute: 6 * 60 + 30, endMinute: 23 * 60)
    static let closed = [MonthDay("12-29")!, MonthDay("01-03")!]

    @Test(arguments: [
        ("2026-12-01T21:29:59Z", false),  // 06:29:59 JST
        ("2026-12-01T21:30:00Z", true),   // 06:30 JST, start inclusive
        ("2026-12-02T13:59:59Z", true),   // 22:59:59 JST
        ("2026-12-02T14:00:00Z", false),  // 23:00 JST, end exclusive
        ("2026-12-29T03:00:00Z", false),  // 12:00 JST on a closed day
        ("2026-12-28T15:00:00Z", false),  // 00:00 JST 12-29 (closed, and before hours anyway)
        ("2027-01-03T14:59:00Z", false),  // 23:59 JST 01-03
        ("2027-01-03T21:30:00Z", true),   // 06:30 JST 01-04
    ])
    func japanTimeDecides(instant: String, open: Bool) {
        #expect(Rules.isOpen(RFC3339.parse(instant)!, hours: Self.hours, closed: Self.closed) == open)
    }

    @Test func allDay() {
        let all = ServiceHours(startMinute: 0, endMinute: 24 * 60)
        #expect(Rules.isOpen(RFC3339.parse("2026-12-01T15:00:00Z")!, hours: all, closed: []))
        #expect(Rules.isOpen(RFC3339.parse("2026-12-01T14:59:59Z")!, hours: all, closed: []))
    }
}

struct RFC3339Tests {
    @Test(arguments: [
        ("2026-11-22T03:00:00+09:00", 1_795_284_000.0),
        ("2026-11-21T18:00:00Z", 1_795_284_000.0),
        ("2026-11-21t18:00:00z", 1_795_284_000.0),
        ("2026-11-21T18:00:00.250Z", 1_795_284_000.25),
        ("2026-11-21T13:00:00-05:00", 1_795_284_000.0),
    ])
    func parses(text: String, seconds: Double) {
        #expect(RFC3339.parse(text)?.timeIntervalSince1970 == seconds)
    }

    @Test(arguments: [
        "2026-11-22T03:00:00", "2026-11-22 03:00:00Z", "2026-02-30T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-11-22T24:00:00Z", "2026-11-22T03:00Z", "2026-11-22T03:00:00+0900", "2026-11-22T03:00:00.Z",
        "２０２６-11-22T03:00:00Z", "2026-11-22T03:00:00+09:00 ", "", "2025-02-29T00:00:00Z",
    ])
    func refuses(text: String) {
        #expect(RFC3339.parse(text) == nil)
    }

    @Test func formatsUTC() {
        #expect(RFC3339.format(Date(timeIntervalSince1970: 1_795_284_000.7)) == "2026-11-21T18:00:00Z")
        #expect(RFC3339.format(Date(timeIntervalSince1970: 951_782_400)) == "2000-02-29T00:00:00Z")
    }

    @Test func japanDate() {
        #expect(JapanTime.date(RFC3339.parse("2026-11-21T15:00:00Z")!) == CivilDate(iso: "2026-11-22"))
        #expect(JapanTime.date(RFC3339.parse("2026-11-21T14:59:59Z")!) == CivilDate(iso: "2026-11-21"))
    }
}

struct IdentifierTests {
    @Test func memberIdsAreStableKeyedAndOpaque() throws {
        let folder = NSTemporaryDirectory() + "kofu-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        let a = try KeyedHasher.loadOrCreate(folder: folder)
        let b = try KeyedHasher.loadOrCreate(folder: folder)  // the key is kept
        #expect(a.memberId("12345678901") == b.memberId("12345678901"))
        #expect(a.memberId("12345678901") != a.memberId("12345678902"))
        #expect(!a.memberId("12345678901").contains("12345678901"))
        #expect(a.memberId("12345678901").hasPrefix("m_") && a.memberId("12345678901").count == 28)
        #expect(a.reference("12345678901") != a.memberId("12345678901"))
        let attributes = try FileManager.default.attributesOfItem(atPath: folder + "/" + KeyedHasher.fileName)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)
        let other = NSTemporaryDirectory() + "kofu-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: other, withIntermediateDirectories: true)
        #expect(try KeyedHasher.loadOrCreate(folder: other).memberId("12345678901") != a.memberId("12345678901"))
    }

    @Test func aDamagedKeyRefusesToStart() throws {
        let folder = NSTemporaryDirectory() + "kofu-keys-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        try Data([1, 2, 3]).write(to: URL(fileURLWithPath: folder + "/" + KeyedHasher.fileName))
        #expect(throws: KeyedHasher.KeyError.self) { try KeyedHasher.loadOrCreate(folder: folder) }
    }

    @Test func issuanceIdsAreRandomAndWellFormed() {
        let ids = (0..<2000).map { _ in IssuanceID.generate() }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy(IssuanceID.isWellFormed))
        #expect(!IssuanceID.isWellFormed("../../etc/passwd"))
        #expect(!IssuanceID.isWellFormed(ids[0].lowercased()))
    }

    @Test func hmacMatchesRFC4231() {
        // RFC 4231 test case 2.
        let mac = KofuDigestHex.hex(HMACTestVector.case2)
        #expect(mac == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
    }
}
