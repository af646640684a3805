/// A reference to an indirect object (generation always 0: we never update files in place).
public struct PDFRef: Hashable, Sendable {
    public let number: Int
}

/// The PDF object model (ISO 32000-1 §7.3), typed so that nothing is spliced in as a string.
public indirect enum PDFObject: Sendable {
    case null
    case bool(Bool)
    case int(Int)
    case real(Double)
    case name(String)
    /// A string written as `<hex>`: safe for any bytes.
    case hexString([UInt8])
    /// A string of printable ASCII written as `(…)` with escapes.
    case literal(String)
    case array([PDFObject])
    case dict(PDFDict)
    case ref(PDFRef)
}

/// A dictionary that keeps its keys in insertion order, so the bytes are deterministic.
public struct PDFDict: Sendable {
    public private(set) var entries: [(String, PDFObject)] = []
    public init(_ entries: [(String, PDFObject)] = []) { self.entries = entries }
    public subscript(key: String) -> PDFObject? {
        get { entries.first { $0.0 == key }?.1 }
        set {
            if let index = entries.firstIndex(where: { $0.0 == key }) {
                if let newValue { entries[index].1 = newValue } else { entries.remove(at: index) }
            } else if let newValue {
                entries.append((key, newValue))
            }
        }
    }
}

extension PDFObject: ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral, ExpressibleByArrayLiteral {
    public init(integerLiteral value: Int) { self = .int(value) }
    public init(floatLiteral value: Double) { self = .real(value) }
    public init(arrayLiteral elements: PDFObject...) { self = .array(elements) }
}

/// Byte-level serialisation helpers. Numbers are written without exponents and with at most
/// four decimals (ISO 32000-1 §7.3.3 has no exponent form), identically on every platform.
public struct PDFBytes {
    public var bytes: [UInt8] = []
    public init(capacity: Int = 0) { bytes.reserveCapacity(capacity) }

    @inline(__always) public mutating func append(_ s: StaticString) {
        s.withUTF8Buffer { bytes.append(contentsOf: $0) }
    }
    @inline(__always) public mutating func append(_ s: String) { bytes.append(contentsOf: s.utf8) }
    @inline(__always) public mutating func append(_ b: [UInt8]) { bytes.append(contentsOf: b) }
    @inline(__always) public mutating func byte(_ b: UInt8) { bytes.append(b) }

    public mutating func int(_ value: Int) {
        if value < 0 { bytes.append(UInt8(ascii: "-")) }
        var v = value.magnitude
        if v == 0 { bytes.append(UInt8(ascii: "0")); return }
        var digits: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8, UInt8) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        var n = 0
        withUnsafeMutableBytes(of: &digits) { buf in
            while v > 0 { buf[n] = UInt8(v % 10) + 48; v /= 10; n += 1 }
            for i in stride(from: n - 1, through: 0, by: -1) { bytes.append(buf[i]) }
        }
    }

    public mutating func real(_ value: Double) {
        precondition(value.isFinite, "a PDF number must be finite")
        let scaled = (value * 10_000).rounded()
        var units = Int(scaled)
        if units < 0 { bytes.append(UInt8(ascii: "-")); units = -units }
        int(units / 10_000)
        var fraction = units % 10_000
        if fraction != 0 {
            bytes.append(UInt8(ascii: "."))
            var width = 4
            while fraction % 10 == 0 { fraction /= 10; width -= 1 }
            var divisor = 1
            for _ in 1..<width { divisor *= 10 }
            while divisor > 0 { bytes.append(UInt8(fraction / divisor % 10) + 48); divisor /= 10 }
        }
    }

    public mutating func name(_ name: String) {
        bytes.append(UInt8(ascii: "/"))
        for b in name.utf8 {
            // Regular characters only; everything else as #XX (§7.3.5).
            if b > 0x20 && b < 0x7F && !"#()<>[]{}/%".utf8.contains(b) { bytes.append(b) } else {
                bytes.append(UInt8(ascii: "#"))
                hexByte(b)
            }
        }
    }

    @inline(__always) public mutating func hexByte(_ b: UInt8) {
        let digits: StaticString = "0123456789ABCDEF"
        digits.withUTF8Buffer { d in
            bytes.append(d[Int(b >> 4)])
            bytes.append(d[Int(b & 0xF)])
        }
    }

    @inline(__always) public mutating func hex16(_ v: UInt16) {
        hexByte(UInt8(v >> 8))
        hexByte(UInt8(v & 0xFF))
    }

    public mutating func object(_ object: PDFObject) {
        switch object {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): int(i)
        case .real(let r): real(r)
        case .name(let n): name(n)
        case .hexString(let data):
            byte(UInt8(ascii: "<"))
            for b in data { hexByte(b) }
            byte(UInt8(ascii: ">"))
        case .literal(let s):
            byte(UInt8(ascii: "("))
            for b in s.utf8 {
                switch b {
                case UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "\\"):
                    byte(UInt8(ascii: "\\")); byte(b)
                case 0x20..<0x7F: byte(b)
                default:
                    // Octal escape keeps the file ASCII.
                    byte(UInt8(ascii: "\\"))
                    byte(48 + (b >> 6)); byte(48 + ((b >> 3) & 7)); byte(48 + (b & 7))
                }
            }
            byte(UInt8(ascii: ")"))
        case .array(let items):
            byte(UInt8(ascii: "["))
            for (i, item) in items.enumerated() {
                if i > 0 { byte(0x20) }
                self.object(item)
            }
            byte(UInt8(ascii: "]"))
        case .dict(let dict):
            append("<<")
            for (key, value) in dict.entries {
                name(key)
                byte(0x20)
                self.object(value)
            }
            append(">>")
        case .ref(let ref):
            int(ref.number)
            append(" 0 R")
        }
    }
}

/// Writes a PDF file front to back: objects are serialised as they are finished, the
/// cross-reference table and trailer at the end. Object numbers can be reserved before the
/// object is written, so that parents and children may refer to each other.
public struct PDFWriter {
    private var out = PDFBytes(capacity: 64 * 1024)
    private var offsets: [Int] = [0]  // index = object number; 0 is the free-list head

    public init() {
        out.append("%PDF-1.7\n%")
        out.append([0xE2, 0xE3, 0xCF, 0xD3])  // binary marker (§7.5.2)
        out.byte(0x0A)
    }

    public mutating func reserve() -> PDFRef {
        offsets.append(-1)
        return PDFRef(number: offsets.count - 1)
    }

    public mutating func write(_ ref: PDFRef, _ object: PDFObject) {
        begin(ref)
        out.object(object)
        out.append("\nendobj\n")
    }

    /// A stream; `/Length` is added here. `data` must already be encoded as `dict` says.
    public mutating func writeStream(_ ref: PDFRef, _ dict: PDFDict, data: [UInt8]) {
        var dict = dict
        dict["Length"] = .int(data.count)
        begin(ref)
        out.object(.dict(dict))
        out.append("\nstream\n")
        out.append(data)
        out.append("\nendstream\nendobj\n")
    }

    private mutating func begin(_ ref: PDFRef) {
        precondition(offsets[ref.number] == -1, "object \(ref.number) written twice")
        offsets[ref.number] = out.bytes.count
        out.int(ref.number)
        out.append(" 0 obj\n")
    }

    /// Finishes the file. Every reserved object must have been written.
    public consuming func finish(root: PDFRef, info: PDFRef? = nil) -> [UInt8] {
        let xref = out.bytes.count
        out.append("xref\n0 ")
        out.int(offsets.count)
        out.append("\n0000000000 65535 f\r\n")
        for number in 1..<offsets.count {
            let offset = offsets[number]
            precondition(offset >= 0, "object \(number) reserved but never written")
            var digits = [UInt8](repeating: 48, count: 10)
            var v = offset
            var i = 9
            while v > 0 { digits[i] = UInt8(v % 10) + 48; v /= 10; i -= 1 }
            out.append(digits)
            out.append(" 00000 n\r\n")
        }
        var trailer = PDFDict([("Size", .int(offsets.count)), ("Root", .ref(root))])
        if let info { trailer["Info"] = .ref(info) }
        out.append("trailer\n")
        out.object(.dict(trailer))
        out.append("\nstartxref\n")
        out.int(xref)
        out.append("\n%%EOF\n")
        return out.bytes
    }
}
