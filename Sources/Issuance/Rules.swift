import Certificates
import Foundation
import KofuConfiguration

/// Japan time is UTC+9 whatever the host's time zone (no daylight saving since 1951).
public enum JapanTime {
    public static func date(_ instant: Date) -> CivilDate {
        let (y, m, d) = RFC3339.civilFromDays(dayNumber(instant))
        return CivilDate(year: y, month: m, day: d)!
    }

    public static func minuteOfDay(_ instant: Date) -> Int {
        let seconds = Int64((instant.timeIntervalSince1970 + 9 * 3600).rounded(.down))
        let r = Int(((seconds % 86400) + 86400) % 86400)
        return r / 60
    }

    static func dayNumber(_ instant: Date) -> Int {
        let seconds = Int64((instant.timeIntervalSince1970 + 9 * 3600).rounded(.down))
        return Int((seconds - (((seconds % 86400) + 86400) % 86400)) / 86400)
    }
}

public enum Rules {
    /// Age per 年齢計算ニ関スル法律 as center-api.md states it: N years old from the N-th
    /// birthday on; a 29 February birthday falls on 1 March in common years.
    public static func age(birth: CivilDate, on day: CivilDate) -> Int {
        var years = day.year - birth.year
        var birthdayMonth = birth.month
        var birthdayDay = birth.day
        if birth.month == 2, birth.day == 29, !CivilDate.isLeap(day.year) {
            birthdayMonth = 3
            birthdayDay = 1
        }
        if (day.month, day.day) < (birthdayMonth, birthdayDay) { years -= 1 }
        return years
    }

    /// Open at this instant per `[issuance] hours` and `closed` (Japan time).
    public static func isOpen(_ instant: Date, hours: ServiceHours, closed: [MonthDay]) -> Bool {
        let day = JapanTime.date(instant)
        if closed.contains(where: { $0.month == day.month && $0.day == day.day }) { return false }
        return hours.contains(minuteOfDay: JapanTime.minuteOfDay(instant))
    }
}
