/// Strict JSON: RFC 8259 plus the I-JSON rules of RFC 7493. See README.md for the exact rules.
public struct JSONParser {
    private init() {}

    /// Parses one complete document. Never traps and never recurses: nesting is kept on an
    /// explicit stack, bounded by `limits.maxDepth`.
    public static func parse(_ bytes: some Collection<UInt8>, limits: JSONLimits = .default) throws(JSONParseError) -> JSONValue {
        let outcome = bytes.withContiguousStorageIfAvailable { Scanner.document(in: $0, limits: limits) }
            ?? Array(bytes).withUnsafeBufferPointer { Scanner.document(in: $0, limits: limits) }
        return try outcome.get()
    }
}

private enum ASCII {
    static let quote = UInt8(ascii: "\""), backslash = UInt8(ascii: "\\"), slash = UInt8(ascii: "/")
    static let comma = UInt8(ascii: ","), colon = UInt8(ascii: ":"), minus = UInt8(ascii: "-"), plus = UInt8(ascii: "+")
    static let openBrace = UInt8(ascii: "{"), closeBrace = UInt8(ascii: "}")
    static let openBracket = UInt8(ascii: "["), closeBracket = UInt8(ascii: "]")
    static let zero = UInt8(ascii: "0"), nine = UInt8(ascii: "9"), dot = UInt8(ascii: "."), e = UInt8(ascii: "e")
    static let lf: UInt8 = 0x0A, cr: UInt8 = 0x0D
}

/// One array or object still open; values are appended in place (`stack[top].items.append`)
/// so that building a container never copies it.
private struct Frame {
    let isObject: Bool
    var items: [JSONValue] = []
    var object = ObjectBuilder()
}

private struct Scanner {
    let bytes: UnsafeBufferPointer<UInt8>
    let limits: JSONLimits
    var i = 0

    init(bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) {
        self.bytes = bytes
        self.limits = limits
    }

    // A Result, not a throw, crosses the withUnsafeBufferPointer closure without losing the type.
    static func document(in bytes: UnsafeBufferPointer<UInt8>, limits: JSONLimits) -> Result<JSONValue, JSONParseError> {
        var scanner = Scanner(bytes: bytes, limits: limits)
        do { return .success(try scanner.parseDocument()) } catch { return .failure(error) }
    }

    // MARK: Errors

    func fail(_ code: JSONParseError.Code, at offset: Int? = nil, key: String? = nil) -> JSONParseError {
        let at = min(offset ?? i, bytes.count)
        var line = 1, column = 1, k = 0
        while k < at {
            let b = bytes[k]
            if b == ASCII.lf || b == ASCII.cr {
                if b == ASCII.cr, k + 1 < at, bytes[k + 1] == ASCII.lf { k += 1 }
                line += 1
                column = 1
            } else if b & 0xC0 != 0x80 {
                column += 1
            }
            k += 1
        }
        return JSONParseError(code: code, offset: at, line: line, column: column, key: key)
    }

    // MARK: Structure

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        try validateUTF8()
        if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { throw fail(.byteOrderMark, at: 0) }
        var stack: [Frame] = []
        var readingName = false
        do {
            return try parseValues(&stack, &readingName)
        } catch {
            // Only on failure: the path of the fault, from the containers still open.
            var path: [String] = []
            for (k, frame) in stack.enumerated() {
                if frame.isObject {
                    // While the top object's next member name is read, its last key is the previous member's.
                    if k == stack.count - 1 && readingName { break }
                    if let key = frame.object.lastKey { path.append(key) }
                } else {
                    path.append(String(frame.items.count))
                }
            }
            throw error.at(path: path)
        }
    }

    private mutating func parseValues(_ stack: inout [Frame], _ readingName: inout Bool) throws(JSONParseError) -> JSONValue {
        while true {
            skipWhitespace()
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            var value: JSONValue
            switch bytes[i] {
            case ASCII.openBrace:
                guard stack.count < limits.maxDepth else { throw fail(.tooDeep) }
                i += 1
                skipWhitespace()
                if i < bytes.count, bytes[i] == ASCII.closeBrace {
                    i += 1
                    value = .object(.empty)
                } else {
                    var frame = Frame(isObject: true)
                    try memberName(into: &frame.object)
                    stack.append(frame)
                    continue
                }
            case ASCII.openBracket:
                guard stack.count < limits.maxDepth else { throw fail(.tooDeep) }
                i += 1
                skipWhitespace()
                if i < bytes.count, bytes[i] == ASCII.closeBracket {
                    i += 1
                    value = .array([])
                } else {
                    stack.append(Frame(isObject: false))
                    continue
                }
            case ASCII.quote: value = .string(try string())
            case UInt8(ascii: "t"): try literal("true"); value = .bool(true)
            case UInt8(ascii: "f"): try literal("false"); value = .bool(false)
            case UInt8(ascii: "n"): try literal("null"); value = .null
            case ASCII.minus, ASCII.zero...ASCII.nine: value = .number(try number())
            default: throw fail(.unexpectedCharacter)
            }

            // A complete value: hand it to the open container, closing every container it completes.
            closing: while true {
                skipWhitespace()
                guard let top = stack.indices.last else {
                    guard i == bytes.count else { throw fail(.trailingData) }
                    return value
                }
                guard i < bytes.count else { throw fail(.unexpectedEnd) }
                let b = bytes[i]
                if stack[top].isObject {
                    stack[top].object.setLastValue(value)
                    if b == ASCII.comma {
                        i += 1
                        skipWhitespace()
                        readingName = true
                        try memberName(into: &stack[top].object)
                        readingName = false
                        break closing
                    }
                    guard b == ASCII.closeBrace else { throw fail(.unexpectedCharacter) }
                    i += 1
                    value = .object(stack.removeLast().object.build())
                } else {
                    stack[top].items.append(value)
                    if b == ASCII.comma {
                        i += 1
                        break closing
                    }
                    guard b == ASCII.closeBracket else { throw fail(.unexpectedCharacter) }
                    i += 1
                    value = .array(stack.removeLast().items)
                }
            }
        }
    }

    /// `"name" :` — the name is checked for repetition here, so the error points at it.
    mutating func memberName(into object: inout ObjectBuilder) throws(JSONParseError) {
        guard i < bytes.count else { throw fail(.unexpectedEnd) }
        guard bytes[i] == ASCII.quote else { throw fail(.unexpectedCharacter) }
        let start = i
        let key = try string()
        guard object.addKey(key) else { throw fail(.duplicateKey, at: start, key: key) }
        skipWhitespace()
        guard i < bytes.count else { throw fail(.unexpectedEnd) }
        guard bytes[i] == ASCII.colon else { throw fail(.unexpectedCharacter) }
        i += 1
    }

    mutating func skipWhitespace() {
        while i < bytes.count {
            switch bytes[i] {
            case 0x20, 0x09, 0x0A, 0x0D: i += 1
            default: return
            }
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONParseError) {
        let expected = UnsafeBufferPointer(start: word.utf8Start, count: word.utf8CodeUnitCount)
        for byte in expected {
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            guard bytes[i] == byte else { throw fail(.unexpectedCharacter) }
            i += 1
        }
    }

    // MARK: Strings

    mutating func string() throws(JSONParseError) -> String {
        i += 1
        let start = i
        // Most strings have no escapes: take them straight from the input.
        while i < bytes.count {
            let b = bytes[i]
            if b == ASCII.quote {
                let s = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
                i += 1
                return s
            }
            if b == ASCII.backslash || b < 0x20 { break }
            i += 1
        }
        var out = Array(bytes[start..<i])
        while true {
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            let b = bytes[i]
            switch b {
            case ASCII.quote:
                i += 1
                // The input was validated and escapes emit only scalars, so decoding replaces nothing.
                return String(decoding: out, as: UTF8.self)
            case ASCII.backslash: try escape(into: &out)
            case 0x00..<0x20: throw fail(.controlCharacter)
            default:
                out.append(b)
                i += 1
            }
        }
    }

    mutating func escape(into out: inout [UInt8]) throws(JSONParseError) {
        let start = i
        i += 1
        guard i < bytes.count else { throw fail(.unexpectedEnd) }
        let e = bytes[i]
        i += 1
        switch e {
        case ASCII.quote, ASCII.backslash, ASCII.slash: out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"):
            let unit = try hex4()
            let scalar: UInt32
            switch unit {
            case 0xD800...0xDBFF:
                // A high surrogate is only meaningful when an escaped low one follows at once.
                guard i + 1 < bytes.count, bytes[i] == ASCII.backslash, bytes[i + 1] == UInt8(ascii: "u") else {
                    throw fail(.loneSurrogate, at: start)
                }
                i += 2
                let low = try hex4()
                guard (0xDC00...0xDFFF).contains(low) else { throw fail(.loneSurrogate, at: start) }
                scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
            case 0xDC00...0xDFFF:
                throw fail(.loneSurrogate, at: start)
            default:
                scalar = unit
            }
            appendUTF8(scalar, to: &out)
        default:
            throw fail(.invalidEscape, at: start)
        }
    }

    mutating func hex4() throws(JSONParseError) -> UInt32 {
        var value: UInt32 = 0
        for _ in 0..<4 {
            guard i < bytes.count else { throw fail(.unexpectedEnd) }
            let c = bytes[i]
            let digit: UInt8
            switch c {
            case ASCII.zero...ASCII.nine: digit = c - ASCII.zero
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = c - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = c - UInt8(ascii: "A") + 10
            default: throw fail(.invalidEscape)
            }
            value = value << 4 | UInt32(digit)
            i += 1
        }
        return value
    }

    func appendUTF8(_ scalar: UInt32, to out: inout [UInt8]) {
        switch scalar {
        case ..<0x80:
            out.append(UInt8(scalar))
        case ..<0x800:
            out.append(0xC0 | UInt8(scalar >> 6))
            out.append(0x80 | UInt8(scalar & 0x3F))
        case ..<0x10000:
            out.append(0xE0 | UInt8(scalar >> 12))
            out.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            out.append(0x80 | UInt8(scalar & 0x3F))
        default:
            out.append(0xF0 | UInt8(scalar >> 18))
            out.append(0x80 | UInt8(scalar >> 12 & 0x3F))
            out.append(0x80 | UInt8(scalar >> 6 & 0x3F))
            out.append(0x80 | UInt8(scalar & 0x3F))
        }
    }

    // MARK: Numbers

    mutating func number() throws(JSONParseError) -> JSONNumber {
        let start = i
        if bytes[i] == ASCII.minus { i += 1 }
        let intStart = i
        guard digits() > 0 else { throw fail(.invalidNumber) }
        if bytes[intStart] == ASCII.zero, i - intStart > 1 { throw fail(.invalidNumber, at: intStart + 1) }
        var plain = true
        if i < bytes.count, bytes[i] == ASCII.dot {
            plain = false
            i += 1
            guard digits() > 0 else { throw fail(.invalidNumber) }
        }
        if i < bytes.count, bytes[i] | 0x20 == ASCII.e {
            plain = false
            i += 1
            if i < bytes.count, bytes[i] == ASCII.plus || bytes[i] == ASCII.minus { i += 1 }
            guard digits() > 0 else { throw fail(.invalidNumber) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        // I-JSON §2.2: only what a double can hold. An integer of up to 308 digits always fits
        // (Double.greatestFiniteMagnitude has 309), which spares the conversion for the common case.
        if !plain || i - intStart > 308 {
            guard let value = Double(text), value.isFinite else { throw fail(.numberOutOfRange, at: start) }
        }
        return JSONNumber(validated: text)
    }

    mutating func digits() -> Int {
        let start = i
        while i < bytes.count, bytes[i] >= ASCII.zero, bytes[i] <= ASCII.nine { i += 1 }
        return i - start
    }

    // MARK: UTF-8

    /// Well-formed UTF-8 per Unicode Table 3-7, checked before parsing so that every string can
    /// later be made from raw bytes without a replacement character ever appearing.
    func validateUTF8() throws(JSONParseError) {
        let n = bytes.count
        guard n > 0, let base = bytes.baseAddress else { return }
        var k = 0
        while k < n {
            // ASCII fast path: eight bytes at a time while no high bit is set.
            while k + 8 <= n, UnsafeRawPointer(base + k).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 { k += 8 }
            guard k < n else { return }
            let b = bytes[k]
            if b < 0x80 { k += 1; continue }
            let trailing: Int
            var low: UInt8 = 0x80, high: UInt8 = 0xBF  // range allowed for the second byte
            switch b {
            case 0xC2...0xDF: trailing = 1
            case 0xE0: trailing = 2; low = 0xA0  // below: overlong
            case 0xE1...0xEC, 0xEE...0xEF: trailing = 2
            case 0xED: trailing = 2; high = 0x9F  // above: a surrogate encoded in UTF-8
            case 0xF0: trailing = 3; low = 0x90  // below: overlong
            case 0xF1...0xF3: trailing = 3
            case 0xF4: trailing = 3; high = 0x8F  // above: beyond U+10FFFF
            default: throw fail(.invalidUTF8, at: k)  // continuation byte, C0/C1 overlong, F5–FF
            }
            guard k + trailing < n, bytes[k + 1] >= low, bytes[k + 1] <= high else { throw fail(.invalidUTF8, at: k) }
            for t in stride(from: 2, through: trailing, by: 1) where bytes[k + t] & 0xC0 != 0x80 {
                throw fail(.invalidUTF8, at: k)
            }
            k += trailing + 1
        }
    }
}
