/// A Gregorian calendar date without time or zone: what the feed's `YYYY-MM-DD` fields hold.
public struct CivilDate: Hashable, Comparable, Sendable, CustomStringConvertible {
    public let year: Int
    public let month: Int
    public let day: Int

    /// Nil unless the date exists in the proleptic Gregorian calendar.
    public init?(year: Int, month: Int, day: Int) {
        guard (1...9999).contains(year), (1...12).contains(month),
              (1...CivilDate.daysIn(year: year, month: month)).contains(day) else { return nil }
        self.year = year
        self.month = month
        self.day = day
    }

    /// Strict `YYYY-MM-DD`: four digits, two, two, ASCII only.
    public init?(iso text: String) {
        let b = Array(text.utf8)
        guard b.count == 10, b[4] == UInt8(ascii: "-"), b[7] == UInt8(ascii: "-") else { return nil }
        func digits(_ r: Range<Int>) -> Int? {
            var v = 0
            for i in r {
                guard (48...57).contains(b[i]) else { return nil }
                v = v * 10 + Int(b[i] - 48)
            }
            return v
        }
        guard let y = digits(0..<4), let m = digits(5..<7), let d = digits(8..<10) else { return nil }
        self.init(year: y, month: m, day: d)
    }

    public static func daysIn(year: Int, month: Int) -> Int {
        switch month {
        case 2: return isLeap(year) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    public static func isLeap(_ year: Int) -> Bool { (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 }

    public static func < (a: CivilDate, b: CivilDate) -> Bool {
        (a.year, a.month, a.day) < (b.year, b.month, b.day)
    }

    public var description: String {
        func pad(_ v: Int, _ n: Int) -> String { String(repeating: "0", count: max(0, n - String(v).count)) + String(v) }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))"
    }
}

/// A Japanese era (元号) and the Gregorian day it began.
public struct Era: Sendable {
    public let name: String
    public let start: CivilDate
}

/// 和暦 conversion. The eras are a table, not branches: a new era is one more row.
///
/// 明治 begins here at 1868-01-25 (明治元年1月1日 of the lunisolar calendar); Japan used the
/// Gregorian calendar from 1873-01-01 (明治6年), and the feed refuses earlier dates, so every
/// date printed is a Gregorian date mapped to its era by the day the era began.
public enum Wareki {
    public static let eras: [Era] = [
        Era(name: "明治", start: CivilDate(year: 1868, month: 1, day: 25)!),
        Era(name: "大正", start: CivilDate(year: 1912, month: 7, day: 30)!),
        Era(name: "昭和", start: CivilDate(year: 1926, month: 12, day: 25)!),
        Era(name: "平成", start: CivilDate(year: 1989, month: 1, day: 8)!),
        Era(name: "令和", start: CivilDate(year: 2019, month: 5, day: 1)!),
    ]

    /// The era and its year number (1 = 元年) for a date, or nil before 明治.
    public static func era(of date: CivilDate) -> (era: Era, year: Int)? {
        guard let era = eras.last(where: { $0.start <= date }) else { return nil }
        return (era, date.year - era.start.year + 1)
    }

    /// 「令和8年11月22日」: ASCII digits without leading zeros, 元年 for the first year.
    public static func format(_ date: CivilDate) -> String? {
        guard let (era, year) = era(of: date) else { return nil }
        return "\(era.name)\(year == 1 ? "元" : String(year))年\(date.month)月\(date.day)日"
    }

    /// 「1990年7月15日」: the 西暦 form printed for a 外国人住民's date of birth.
    public static func formatGregorian(_ date: CivilDate) -> String {
        "\(date.year)年\(date.month)月\(date.day)日"
    }
}
