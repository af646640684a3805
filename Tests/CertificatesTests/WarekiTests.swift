import Certificates
import Testing

@Suite struct WarekiTests {
    @Test(arguments: [
        ("1873-01-01", "明治6年1月1日"),
        ("1912-07-29", "明治45年7月29日"),
        ("1912-07-30", "大正元年7月30日"),
        ("1926-12-24", "大正15年12月24日"),
        ("1926-12-25", "昭和元年12月25日"),
        ("1927-01-01", "昭和2年1月1日"),
        ("1989-01-07", "昭和64年1月7日"),
        ("1989-01-08", "平成元年1月8日"),
        ("2019-04-30", "平成31年4月30日"),
        ("2019-05-01", "令和元年5月1日"),
        ("2026-11-22", "令和8年11月22日"),
        ("2000-02-29", "平成12年2月29日"),
    ])
    func eraBoundaries(iso: String, expected: String) {
        #expect(Wareki.format(CivilDate(iso: iso)!) == expected)
    }

    @Test func gregorianForForeignResidents() {
        #expect(Wareki.formatGregorian(CivilDate(iso: "1990-07-15")!) == "1990年7月15日")
    }

    @Test(arguments: ["2019-02-29", "2019-13-01", "2019-00-10", "2019-1-01", "２０１９-01-01", "2019-01-32", "20190101", ""])
    func invalidDatesAreRefused(text: String) {
        #expect(CivilDate(iso: text) == nil)
    }

    @Test func erasAreOrderedData() {
        let starts = Wareki.eras.map(\.start)
        #expect(starts == starts.sorted())
        #expect(Wareki.eras.map(\.name) == ["明治", "大正", "昭和", "平成", "令和"])
    }
}
