/// Strict base64 decoding: the JWS segments (base64url, no padding, RFC 7515 §2) and the `x5c`
/// entry (standard base64, RFC 7515 §4.1.6). Anything outside the alphabet (white space
/// included) is refused, and so is a non-canonical final character (unused bits not zero), so
/// that one byte string has exactly one accepted spelling.
enum Base64 {
    enum Alphabet { case url, standard }

    private static func table(_ alphabet: Alphabet) -> [Int8] {
        var t = [Int8](repeating: -1, count: 256)
        let chars = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789".utf8)
            + (alphabet == .url ? Array("-_".utf8) : Array("+/".utf8))
        for (i, c) in chars.enumerated() { t[Int(c)] = Int8(i) }
        return t
    }

    private static let urlTable = table(.url)
    private static let standardTable = table(.standard)

    /// base64url without padding: `=` is refused like any other character outside the alphabet.
    static func decodeURL<C: Collection<UInt8>>(_ input: C) -> [UInt8]? {
        decode(Array(input), table: urlTable)
    }

    /// Standard base64; the `=` padding may be present (then it must be exactly right) or left out.
    static func decodeStandard<C: Collection<UInt8>>(_ input: C) -> [UInt8]? {
        var chars = Array(input)
        if chars.last == UInt8(ascii: "=") {
            guard chars.count % 4 == 0 else { return nil }
            chars.removeLast()
            if chars.last == UInt8(ascii: "=") { chars.removeLast() }
        }
        return decode(chars, table: standardTable)
    }

    private static func decode(_ chars: [UInt8], table: [Int8]) -> [UInt8]? {
        if chars.count % 4 == 1 { return nil }
        var out = [UInt8]()
        out.reserveCapacity(chars.count * 3 / 4)
        var accumulator: UInt32 = 0
        var bits = 0
        for c in chars {
            let v = table[Int(c)]
            if v < 0 { return nil }
            accumulator = (accumulator << 6) | UInt32(v)
            bits += 6
            if bits >= 8 {
                bits -= 8
                out.append(UInt8(truncatingIfNeeded: accumulator >> UInt32(bits)))
                accumulator &= (1 << UInt32(bits)) - 1
            }
        }
        // Leftover bits of the last character must be zero (canonical encoding).
        return accumulator == 0 ? out : nil
    }
}
