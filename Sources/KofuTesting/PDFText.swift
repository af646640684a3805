import Foundation
import KofuZlib

/// The text of a PDF, read the way a viewer reads it: classic xref table → page tree → each
/// page's content streams (FlateDecode) → the strings shown by `Tj`, `TJ`, `'` and `"`, decoded
/// through the current font's `/ToUnicode` CMap (`bfchar` and `bfrange`, UTF-16BE targets).
///
/// `kofu loadtest` checks every certificate with it (pdftotext is a process per PDF, too slow
/// at hundreds per second). It is deliberately independent of Typesetting: it reads only the
/// bytes of the file, as any PDF reader would, and knows nothing of the renderer's glyph tables.
/// It covers what our PDFs use and refuses anything else (an xref stream, object streams, an
/// unknown filter, a font without ToUnicode): a certificate it cannot read counts as wrong, never
/// as checked. Tests compare its output with pdftotext's on every demo certificate.
public enum PDFText {
    public struct Failure: Error, CustomStringConvertible {
        public let description: String
        init(_ description: String) { self.description = description }
    }

    /// The text of each page, in content-stream order; one line per text object (BT … ET).
    public static func pages(_ pdf: [UInt8]) throws -> [String] {
        try File(pdf).pageTexts()
    }

    // MARK: - Objects

    indirect enum Object {
        case number(Double)
        case bool(Bool)
        case null
        case name(String)
        case string([UInt8])
        case array([Object])
        case dictionary([String: Object])
        case reference(Int)
        case stream([String: Object], Range<Int>)
        case keyword(String)

        var dictionary: [String: Object]? {
            switch self {
            case .dictionary(let d): d
            case .stream(let d, _): d
            default: nil
            }
        }
        var int: Int? { if case .number(let n) = self, n == n.rounded() { Int(n) } else { nil } }
        var nameValue: String? { if case .name(let n) = self { n } else { nil } }
    }

    struct Lexer {
        let bytes: [UInt8]
        var at: Int

        static func isSpace(_ b: UInt8) -> Bool { b == 0x20 || b == 0x0A || b == 0x0D || b == 0x09 || b == 0x0C || b == 0x00 }
        static func isDelimiter(_ b: UInt8) -> Bool { "()<>[]{}/%".utf8.contains(b) }

        mutating func skipSpace() {
            while at < bytes.count {
                if Self.isSpace(bytes[at]) { at += 1 } else if bytes[at] == 0x25 {  // % comment
                    while at < bytes.count, bytes[at] != 0x0A, bytes[at] != 0x0D { at += 1 }
                } else { break }
            }
        }

        mutating func regular() -> String {
            let start = at
            while at < bytes.count, !Self.isSpace(bytes[at]), !Self.isDelimiter(bytes[at]) { at += 1 }
            return String(decoding: bytes[start..<at], as: UTF8.self)
        }

        /// One object; `R` references are recognised (`a b R`).
        mutating func object() throws -> Object {
            skipSpace()
            guard at < bytes.count else { throw Failure("unexpected end of data") }
            let b = bytes[at]
            switch b {
            case 0x2F:  // /Name
                at += 1
                var name: [UInt8] = []
                while at < bytes.count, !Self.isSpace(bytes[at]), !Self.isDelimiter(bytes[at]) {
                    if bytes[at] == 0x23, at + 2 < bytes.count, let v = UInt8(String(decoding: bytes[(at + 1)...(at + 2)], as: UTF8.self), radix: 16) {
                        name.append(v)
                        at += 3
                    } else {
                        name.append(bytes[at])
                        at += 1
                    }
                }
                return .name(String(decoding: name, as: UTF8.self))
            case 0x28: return .string(try literalString())
            case 0x3C:
                if at + 1 < bytes.count, bytes[at + 1] == 0x3C {
                    at += 2
                    var d: [String: Object] = [:]
                    while true {
                        skipSpace()
                        guard at < bytes.count else { throw Failure("unterminated dictionary") }
                        if bytes[at] == 0x3E {
                            guard at + 1 < bytes.count, bytes[at + 1] == 0x3E else { throw Failure("bad dictionary end") }
                            at += 2
                            return .dictionary(d)
                        }
                        guard case .name(let key) = try object() else { throw Failure("dictionary key is not a name") }
                        d[key] = try object()
                    }
                }
                return .string(try hexString())
            case 0x5B:
                at += 1
                var a: [Object] = []
                while true {
                    skipSpace()
                    guard at < bytes.count else { throw Failure("unterminated array") }
                    if bytes[at] == 0x5D { at += 1; return .array(a) }
                    a.append(try object())
                }
            default:
                let token = regular()
                if token.isEmpty { at += 1; throw Failure("unexpected byte \(b)") }
                if let n = Double(token) {
                    // `a b R`?
                    if let first = Int(token) {
                        let save = at
                        skipSpace()
                        let second = regular()
                        skipSpace()
                        if Int(second) != nil, at < bytes.count, bytes[at] == 0x52,
                           at + 1 >= bytes.count || Self.isSpace(bytes[at + 1]) || Self.isDelimiter(bytes[at + 1]) {
                            at += 1
                            return .reference(first)
                        }
                        at = save
                    }
                    return .number(n)
                }
                switch token {
                case "true": return .bool(true)
                case "false": return .bool(false)
                case "null": return .null
                default: return .keyword(token)
                }
            }
        }

        mutating func literalString() throws -> [UInt8] {
            at += 1
            var out: [UInt8] = []
            var depth = 1
            while at < bytes.count {
                let c = bytes[at]
                at += 1
                switch c {
                case 0x5C:
                    guard at < bytes.count else { break }
                    let e = bytes[at]
                    at += 1
                    switch e {
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x0D: if at < bytes.count, bytes[at] == 0x0A { at += 1 }
                    case 0x0A: break
                    case 0x30...0x37:
                        var v = Int(e - 0x30)
                        for _ in 0..<2 where at < bytes.count && (0x30...0x37).contains(bytes[at]) {
                            v = v * 8 + Int(bytes[at] - 0x30)
                            at += 1
                        }
                        out.append(UInt8(v & 0xFF))
                    default: out.append(e)
                    }
                case 0x28: depth += 1; out.append(c)
                case 0x29:
                    depth -= 1
                    if depth == 0 { return out }
                    out.append(c)
                default: out.append(c)
                }
            }
            throw Failure("unterminated string")
        }

        mutating func hexString() throws -> [UInt8] {
            at += 1
            var digits: [UInt8] = []
            while at < bytes.count, bytes[at] != 0x3E {
                let c = bytes[at]
                at += 1
                if Self.isSpace(c) { continue }
                guard let v = Self.hex(c) else { throw Failure("bad hex string") }
                digits.append(v)
            }
            guard at < bytes.count else { throw Failure("unterminated hex string") }
            at += 1
            if digits.count % 2 == 1 { digits.append(0) }
            return stride(from: 0, to: digits.count, by: 2).map { digits[$0] << 4 | digits[$0 + 1] }
        }

        static func hex(_ c: UInt8) -> UInt8? {
            switch c {
            case 0x30...0x39: c - 0x30
            case 0x41...0x46: c - 0x41 + 10
            case 0x61...0x66: c - 0x61 + 10
            default: nil
            }
        }
    }

    // MARK: - The file

    final class File {
        let bytes: [UInt8]
        var offsets: [Int: Int] = [:]
        var trailer: [String: Object] = [:]
        var cache: [Int: Object] = [:]

        init(_ bytes: [UInt8]) throws {
            self.bytes = bytes
            guard bytes.starts(with: Array("%PDF-".utf8)) else { throw Failure("not a PDF") }
            // startxref near the end
            let tail = Array(bytes.suffix(64))
            guard let range = String(decoding: tail, as: UTF8.self).range(of: "startxref") else { throw Failure("no startxref") }
            var lexer = Lexer(bytes: Array(String(decoding: tail, as: UTF8.self)[range.upperBound...].utf8), at: 0)
            lexer.skipSpace()
            guard let xref = Int(lexer.regular()), xref >= 0, xref < bytes.count else { throw Failure("bad startxref") }
            var l = Lexer(bytes: bytes, at: xref)
            l.skipSpace()
            guard l.regular() == "xref" else { throw Failure("not a classic xref table (xref streams are not read)") }
            while true {
                l.skipSpace()
                let save = l.at
                let first = l.regular()
                if first == "trailer" {
                    guard case .dictionary(let t) = try l.object() else { throw Failure("bad trailer") }
                    trailer = t
                    break
                }
                guard let start = Int(first) else { l.at = save; throw Failure("bad xref subsection") }
                l.skipSpace()
                guard let count = Int(l.regular()), count >= 0, count < 1_000_000 else { throw Failure("bad xref count") }
                for i in 0..<count {
                    l.skipSpace()
                    guard let offset = Int(l.regular()) else { throw Failure("bad xref entry") }
                    l.skipSpace()
                    _ = l.regular()
                    l.skipSpace()
                    let kind = l.regular()
                    if kind == "n" { offsets[start + i] = offset }
                }
            }
            if trailer["Prev"] != nil { throw Failure("incremental updates are not read") }
        }

        func object(_ number: Int) throws -> Object {
            if let cached = cache[number] { return cached }
            guard let offset = offsets[number], offset < bytes.count else { throw Failure("object \(number) missing") }
            var l = Lexer(bytes: bytes, at: offset)
            l.skipSpace()
            guard Int(l.regular()) == number else { throw Failure("object \(number) is not at its offset") }
            l.skipSpace()
            _ = l.regular()
            l.skipSpace()
            guard l.regular() == "obj" else { throw Failure("object \(number): no obj") }
            var value = try l.object()
            l.skipSpace()
            let save = l.at
            if l.regular() == "stream", case .dictionary(let d) = value {
                if l.at < bytes.count, bytes[l.at] == 0x0D { l.at += 1 }
                if l.at < bytes.count, bytes[l.at] == 0x0A { l.at += 1 }
                guard let length = try resolve(d["Length"] ?? .null).int, length >= 0, l.at + length <= bytes.count else {
                    throw Failure("object \(number): bad stream length")
                }
                value = .stream(d, l.at..<(l.at + length))
            } else {
                l.at = save
            }
            cache[number] = value
            return value
        }

        func resolve(_ o: Object) throws -> Object {
            var o = o
            var hops = 0
            while case .reference(let n) = o {
                hops += 1
                guard hops < 32 else { throw Failure("reference loop") }
                o = try object(n)
            }
            return o
        }

        func streamData(_ o: Object) throws -> [UInt8] {
            guard case .stream(let d, let range) = try resolve(o) else { throw Failure("not a stream") }
            let raw = Array(bytes[range])
            switch try resolve(d["Filter"] ?? .null) {
            case .null: return raw
            case .name("FlateDecode"): return try Zlib.inflate(raw, maxOutput: 64 << 20)
            case .array(let a) where a.count == 1:
                guard case .name("FlateDecode") = try resolve(a[0]) else { throw Failure("unsupported filter") }
                return try Zlib.inflate(raw, maxOutput: 64 << 20)
            default: throw Failure("unsupported filter")
            }
        }

        func pageTexts() throws -> [String] {
            guard let root = try resolve(trailer["Root"] ?? .null).dictionary,
                  let pages = try resolve(root["Pages"] ?? .null).dictionary else { throw Failure("no page tree") }
            var out: [String] = []
            var fonts: [Int: Font] = [:]
            func walk(_ node: [String: Object], inherited: Object?, depth: Int) throws {
                guard depth < 32 else { throw Failure("page tree too deep") }
                let resources = node["Resources"] ?? inherited
                if node["Type"]?.nameValue == "Pages" {
                    guard case .array(let kids) = try resolve(node["Kids"] ?? .null) else { throw Failure("Pages without Kids") }
                    for kid in kids {
                        guard let k = try resolve(kid).dictionary else { throw Failure("bad page tree node") }
                        try walk(k, inherited: resources, depth: depth + 1)
                    }
                    return
                }
                guard node["Type"]?.nameValue == "Page" else { throw Failure("a page tree node that is not a page") }
                var content: [UInt8] = []
                switch try resolve(node["Contents"] ?? .null) {
                case .array(let parts): for p in parts { content += try streamData(p) + [0x0A] }
                case .stream: content = try streamData(node["Contents"]!)
                case .null: break
                default: throw Failure("bad page contents")
                }
                var fontTable: [String: Font] = [:]
                if let r = try resolve(resources ?? .null).dictionary, let f = try resolve(r["Font"] ?? .null).dictionary {
                    for (name, ref) in f {
                        if case .reference(let n) = ref, let known = fonts[n] {
                            fontTable[name] = known
                            continue
                        }
                        let font = try Font(self, try resolve(ref))
                        if case .reference(let n) = ref { fonts[n] = font }
                        fontTable[name] = font
                    }
                }
                out.append(try Self.show(content, fonts: fontTable))
            }
            try walk(pages, inherited: nil, depth: 0)
            return out
        }

        /// Runs the text operators of one content stream.
        static func show(_ content: [UInt8], fonts: [String: Font]) throws -> String {
            var l = Lexer(bytes: content, at: 0)
            var operands: [Object] = []
            var font: Font?
            var text = String.UnicodeScalarView()
            func draw(_ o: Object) throws {
                switch o {
                case .string(let s):
                    guard let font else { throw Failure("text shown without a font") }
                    text.append(contentsOf: try font.decode(s))
                case .array(let parts): for p in parts { try draw(p) }
                case .number: break  // kerning in TJ
                default: throw Failure("bad text operand")
                }
            }
            while true {
                l.skipSpace()
                guard l.at < content.count else { break }
                let o = try l.object()
                guard case .keyword(let op) = o else { operands.append(o); continue }
                switch op {
                case "BI":  // inline image: skip to EI
                    while l.at + 1 < content.count, !(content[l.at] == 0x45 && content[l.at + 1] == 0x49) { l.at += 1 }
                    l.at += 2
                case "Tf":
                    guard operands.count >= 2, case .name(let name) = operands[operands.count - 2] else { throw Failure("bad Tf") }
                    guard let f = fonts[name] else { throw Failure("font /\(name) not in the page resources") }
                    font = f
                case "Tj", "TJ", "'":
                    guard let last = operands.last else { throw Failure("\(op) without operand") }
                    try draw(last)
                case "\"":
                    guard let last = operands.last else { throw Failure("\" without operand") }
                    try draw(last)
                case "ET": text.append("\n")
                default: break
                }
                operands.removeAll(keepingCapacity: true)
            }
            return String(text)
        }
    }

    /// A font's code → text mapping from its ToUnicode CMap; Type0 fonts use two-byte codes.
    final class Font {
        let twoByte: Bool
        var map: [UInt32: [Unicode.Scalar]] = [:]

        init(_ file: File, _ object: Object) throws {
            guard let d = object.dictionary else { throw Failure("bad font") }
            twoByte = d["Subtype"]?.nameValue == "Type0"
            if twoByte, let e = d["Encoding"]?.nameValue, e != "Identity-H" { throw Failure("unsupported encoding \(e)") }
            guard let ref = d["ToUnicode"] else { throw Failure("a font without ToUnicode") }
            try parse(try file.streamData(ref))
        }

        static func utf16(_ bytes: [UInt8]) throws -> [Unicode.Scalar] {
            guard bytes.count % 2 == 0 else { throw Failure("odd UTF-16 in ToUnicode") }
            let units = stride(from: 0, to: bytes.count, by: 2).map { UInt16(bytes[$0]) << 8 | UInt16(bytes[$0 + 1]) }
            var out: [Unicode.Scalar] = []
            var it = units.makeIterator()
            var decoder = UTF16()
            loop: while true {
                switch decoder.decode(&it) {
                case .scalarValue(let s): out.append(s)
                case .emptyInput: break loop
                case .error: throw Failure("bad UTF-16 in ToUnicode")
                }
            }
            return out
        }

        static func code(_ bytes: [UInt8]) -> UInt32 { bytes.reduce(0) { $0 << 8 | UInt32($1) } }

        func parse(_ cmap: [UInt8]) throws {
            var l = Lexer(bytes: cmap, at: 0)
            var operands: [Object] = []
            var mode = ""
            while true {
                l.skipSpace()
                guard l.at < cmap.count else { break }
                let o = try l.object()
                if case .keyword(let k) = o {
                    switch k {
                    case "beginbfchar", "beginbfrange": mode = k
                    case "endbfchar", "endbfrange": mode = ""
                    default: break
                    }
                    operands.removeAll()
                    continue
                }
                operands.append(o)
                if mode == "beginbfchar", operands.count == 2 {
                    guard case .string(let src) = operands[0], case .string(let dst) = operands[1] else { throw Failure("bad bfchar") }
                    map[Self.code(src)] = try Self.utf16(dst)
                    operands.removeAll()
                } else if mode == "beginbfrange", operands.count == 3 {
                    guard case .string(let lo) = operands[0], case .string(let hi) = operands[1] else { throw Failure("bad bfrange") }
                    let a = Self.code(lo), b = Self.code(hi)
                    guard a <= b, b - a < 65536 else { throw Failure("bad bfrange bounds") }
                    switch operands[2] {
                    case .string(let dst):
                        var units = try Self.utf16(dst)
                        for c in a...b {
                            map[c] = units
                            if let last = units.last, let next = Unicode.Scalar(last.value + 1) { units[units.count - 1] = next }
                        }
                    case .array(let dsts):
                        for (i, d) in dsts.enumerated() where UInt32(i) <= b - a {
                            guard case .string(let dst) = d else { throw Failure("bad bfrange array") }
                            map[a + UInt32(i)] = try Self.utf16(dst)
                        }
                    default: throw Failure("bad bfrange target")
                    }
                    operands.removeAll()
                }
            }
        }

        func decode(_ s: [UInt8]) throws -> [Unicode.Scalar] {
            var out: [Unicode.Scalar] = []
            let width = twoByte ? 2 : 1
            guard s.count % width == 0 else { throw Failure("a string that is not whole codes") }
            var i = 0
            while i < s.count {
                let c = width == 2 ? UInt32(s[i]) << 8 | UInt32(s[i + 1]) : UInt32(s[i])
                guard let text = map[c] else { throw Failure(String(format: "code %04X has no ToUnicode entry", c)) }
                out += text
                i += width
            }
            return out
        }
    }
}

/// What one certificate must show, checked from its bytes alone (with ``PDFText``): every page
/// carries the answer's 交付番号, the page count matches, each requested person is named, nobody
/// in `mustNotName` is, and for a household that a sync rewrites during the load, its dates and
/// address are all old or all new.
public enum CertificateCheck {
    public static func problems(pdf: [UInt8], issuanceId: String, pages expectedPages: Int, mustName: [String],
                                mustNotName: [String], flip: (old: [String], new: [String])? = nil) -> [String] {
        let pages: [String]
        do {
            pages = try PDFText.pages(pdf)
        } catch {
            return ["a PDF whose text cannot be read (\(error))"]
        }
        var problems: [String] = []
        if pages.count != expectedPages { problems.append("X-Page-Count differs from the PDF's pages") }
        let stamp = Tools.squeezed("交付番号" + issuanceId)
        if pages.contains(where: { !Tools.squeezed($0).contains(stamp) }) {
            problems.append("a page that does not carry the answer's 交付番号")
        }
        let text = Tools.squeezed(pages.joined(separator: "\n"))
        if mustName.contains(where: { !text.contains(Tools.squeezed($0)) }) {
            problems.append("a PDF that does not name a person it was asked for")
        }
        if mustNotName.contains(where: { text.contains(Tools.squeezed($0)) }) {
            problems.append("a PDF that names someone it must not (another household, or a member not asked for)")
        }
        if let flip {
            let old = flip.old.reduce(0) { $0 + text.components(separatedBy: Tools.squeezed($1)).count - 1 }
            let new = flip.new.reduce(0) { $0 + text.components(separatedBy: Tools.squeezed($1)).count - 1 }
            if old > 0 && new > 0 { problems.append("a PDF that mixes old and new data of a sync or reseed") }
            if old == 0 && new == 0 { problems.append("a PDF of the rewritten household without its dates") }
        }
        return problems
    }
}
