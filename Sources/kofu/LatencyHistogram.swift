/// A log-bucketed latency histogram in the manner of HdrHistogram: microsecond values, exact
/// below 128 µs, then 64 sub-buckets per power of two (a bucket is at most 1/64 ≈ 1.6 % wide).
/// Percentiles report a bucket's highest value, as HdrHistogram's `valueAtPercentile` does, so
/// they never understate. Fixed memory (a few thousand counters) whatever the run's length.
struct LatencyHistogram: Sendable {
    static let subBits = 6
    static let sub = 1 << subBits  // 64
    private(set) var counts = [UInt64](repeating: 0, count: 2 * sub + 48 * sub)
    private(set) var total: UInt64 = 0
    private(set) var maxMicros: UInt64 = 0
    private(set) var sumMicros: Double = 0

    static func index(_ v: UInt64) -> Int {
        if v < UInt64(2 * sub) { return Int(v) }
        let msb = 63 - v.leadingZeroBitCount
        let shift = msb - subBits  // v >> shift is in [sub, 2 sub)
        return 2 * sub + (shift - 1) * sub + Int(v >> UInt64(shift)) - sub
    }

    /// The highest value that falls into bucket `i`.
    static func highest(_ i: Int) -> UInt64 {
        if i < 2 * sub { return UInt64(i) }
        let k = i - 2 * sub
        let shift = k / sub + 1
        let m = UInt64(k % sub + sub)
        return ((m + 1) << UInt64(shift)) - 1
    }

    mutating func record(seconds: Double) {
        let micros = UInt64(max(0, seconds * 1e6).rounded())
        let i = min(Self.index(micros), counts.count - 1)
        counts[i] += 1
        total += 1
        maxMicros = max(maxMicros, micros)
        sumMicros += Double(micros)
    }

    mutating func merge(_ other: LatencyHistogram) {
        for i in counts.indices { counts[i] += other.counts[i] }
        total += other.total
        maxMicros = max(maxMicros, other.maxMicros)
        sumMicros += other.sumMicros
    }

    /// Milliseconds at quantile `q` (0…1); nil when empty.
    func milliseconds(at q: Double) -> Double? {
        guard total > 0 else { return nil }
        if q >= 1 { return Double(maxMicros) / 1000 }
        let rank = max(1, UInt64((q * Double(total)).rounded(.up)))
        var seen: UInt64 = 0
        for (i, c) in counts.enumerated() where c > 0 {
            seen += c
            if seen >= rank { return Double(min(Self.highest(i), maxMicros)) / 1000 }
        }
        return Double(maxMicros) / 1000
    }

    var meanMilliseconds: Double? { total > 0 ? sumMicros / Double(total) / 1000 : nil }
}
