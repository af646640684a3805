/// Compact JSON: no whitespace, members in stored order, numbers as their text, and strings
/// escaping only what RFC 8259 requires (`"`, `\` and U+0000–U+001F); everything else is raw
/// UTF-8, so a value survives `JSONParser.parse(serialize(value))` byte for byte.
public func serialize(_ value: JSONValue) -> [UInt8] {
    var out: [UInt8] = []
    write(value, to: &out)
    return out
}

private func write(_ value: JSONValue, to out: inout [UInt8]) {
    switch value {
    case .null: out.append(contentsOf: "null".utf8)
    case .bool(let b): out.append(contentsOf: (b ? "true" : "false").utf8)
    case .number(let n): out.append(contentsOf: n.text.utf8)
    case .string(let s): write(s, to: &out)
    case .array(let items):
        out.append(UInt8(ascii: "["))
        for (k, item) in items.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            write(item, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    case .object(let object):
        out.append(UInt8(ascii: "{"))
        for (k, member) in object.members.enumerated() {
            if k > 0 { out.append(UInt8(ascii: ",")) }
            write(member.key, to: &out)
            out.append(UInt8(ascii: ":"))
            write(member.value, to: &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}

private let hexDigits = Array("0123456789abcdef".utf8)

private func write(_ string: String, to out: inout [UInt8]) {
    out.append(UInt8(ascii: "\""))
    for b in string.utf8 {
        switch b {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"): out.append(UInt8(ascii: "\\")); out.append(b)
        case 0x08: out.append(contentsOf: #"\b"#.utf8)
        case 0x09: out.append(contentsOf: #"\t"#.utf8)
        case 0x0A: out.append(contentsOf: #"\n"#.utf8)
        case 0x0C: out.append(contentsOf: #"\f"#.utf8)
        case 0x0D: out.append(contentsOf: #"\r"#.utf8)
        case 0x00..<0x20:
            out.append(contentsOf: #"\u00"#.utf8)
            out.append(hexDigits[Int(b >> 4)])
            out.append(hexDigits[Int(b & 0x0F)])
        default: out.append(b)
        }
    }
    out.append(UInt8(ascii: "\""))
}
