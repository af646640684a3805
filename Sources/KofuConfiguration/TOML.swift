import Foundation

/// A value of the TOML subset kofu's configuration uses.
public enum TOMLValue: Sendable, Equatable {
    case string(String)
    case integer(Int64)
    case float(Double)
    case bool(Bool)
    case array([TOMLValue])

    var typeName: String {
        switch self {
        case .string: "a string"
        case .integer: "an integer"
        case .float: "a float"
        case .bool: "a boolean"
        case .array: "an array"
        }
    }
}

/// A parse failure with its 1-based line.
public struct TOMLError: Error, Equatable, CustomStringConvertible, Sendable {
    public let line: Int
    public let message: String
    public var description: String { "line \(line): \(message)" }
}

/// One `key = value` with where it was written.
public struct TOMLEntry: Sendable, Equatable {
    public let key: String
    public let value: TOMLValue
    public let line: Int
}

/// A strict parser for the subset of TOML 1.0 that kofu's configuration needs: `[table]`
/// headers with bare names, `key = value` with bare keys, basic and literal strings, decimal
/// integers and floats, booleans, and arrays of those (over several lines, trailing comma
/// allowed), `#` comments. Everything else TOML has (dotted keys, inline tables, arrays of
/// tables, dates, multi-line strings) is refused with its line rather than half-understood;
/// a key or table given twice is refused. Strings are kept exactly: never normalised.
public struct TOMLDocument: Sendable {
    /// Tables in file order; the root table (keys before any header) is "".
    public private(set) var tables: [(name: String, line: Int, entries: [TOMLEntry])] = [("", 0, [])]

    public subscript(table: String) -> [TOMLEntry]? { tables.first { $0.name == table }?.entries }

    public static func parse(_ text: String) throws(TOMLError) -> TOMLDocument {
        var parser = Parser(scalars: Array(text.unicodeScalars))
        return try parser.document()
    }

    struct Parser {
        let scalars: [Unicode.Scalar]
        var i = 0
        var line = 1
        /// Arrays open around the current value: bounded, since each level is a recursive call
        /// (100 000 `[` overflowed the stack, found by the toml fuzz harness).
        var arrayDepth = 0
        static let maxArrayDepth = 32

        init(scalars: [Unicode.Scalar]) { self.scalars = scalars }

        func fail(_ message: String) -> TOMLError { TOMLError(line: line, message: message) }
        var atEnd: Bool { i >= scalars.count }
        var peek: Unicode.Scalar? { atEnd ? nil : scalars[i] }

        mutating func skipBlanks() { while let c = peek, c == " " || c == "\t" { i += 1 } }

        /// Skips blanks and a comment; then requires the end of the line.
        mutating func endOfLine() throws(TOMLError) {
            skipBlanks()
            if peek == "#" { try comment() }
            guard let c = peek else { return }
            if c == "\r" { i += 1; guard peek == "\n" else { throw fail("a lone carriage return") } }
            guard peek == "\n" else { throw fail("unexpected \"\(c.escaped(asASCII: true))\" after the value") }
            i += 1
            line += 1
        }

        mutating func comment() throws(TOMLError) {
            while let c = peek, c != "\n" {
                if c.value < 0x20 && c != "\t" && c != "\r" || c.value == 0x7F { throw fail("a control character in a comment") }
                i += 1
            }
        }

        /// Skips blank lines, comments and (inside arrays) newlines.
        mutating func skipWhitespaceAndNewlines() throws(TOMLError) {
            while let c = peek {
                if c == " " || c == "\t" { i += 1 } else if c == "\n" { i += 1; line += 1 } else if c == "\r", i + 1 < scalars.count, scalars[i + 1] == "\n" {
                    i += 2; line += 1
                } else if c == "#" { try comment() } else { return }
            }
        }

        static func isBare(_ c: Unicode.Scalar) -> Bool {
            ("A"..."Z").contains(c) || ("a"..."z").contains(c) || ("0"..."9").contains(c) || c == "_" || c == "-"
        }

        mutating func bareName(_ what: String) throws(TOMLError) -> String {
            let start = i
            while let c = peek, Parser.isBare(c) { i += 1 }
            guard i > start else { throw fail("expected a \(what)") }
            return String(String.UnicodeScalarView(scalars[start..<i]))
        }

        mutating func document() throws(TOMLError) -> TOMLDocument {
            var doc = TOMLDocument()
            var current = 0
            while true {
                try skipWhitespaceAndNewlines()
                guard let c = peek else { return doc }
                if c == "[" {
                    i += 1
                    if peek == "[" { throw fail("arrays of tables are not used in this configuration") }
                    skipBlanks()
                    let name = try bareName("table name")
                    skipBlanks()
                    if peek == "." { throw fail("dotted table names are not used in this configuration") }
                    guard peek == "]" else { throw fail("expected ] after [\(name)") }
                    i += 1
                    guard doc[name] == nil else { throw fail("table [\(name)] defined twice") }
                    doc.tables.append((name, line, []))
                    current = doc.tables.count - 1
                    try endOfLine()
                } else {
                    if c == "\"" || c == "'" { throw fail("quoted keys are not used in this configuration") }
                    let keyLine = line
                    let key = try bareName("key")
                    skipBlanks()
                    if peek == "." { throw fail("dotted keys are not used in this configuration") }
                    guard peek == "=" else { throw fail("expected = after \(key)") }
                    i += 1
                    skipBlanks()
                    let value = try self.value()
                    let table = doc.tables[current]
                    guard !table.entries.contains(where: { $0.key == key }) else {
                        throw TOMLError(line: keyLine, message: "key \(table.name.isEmpty ? "" : table.name + ".")\(key) given twice")
                    }
                    doc.tables[current].entries.append(TOMLEntry(key: key, value: value, line: keyLine))
                    try endOfLine()
                }
            }
        }

        mutating func value() throws(TOMLError) -> TOMLValue {
            guard let c = peek else { throw fail("expected a value") }
            switch c {
            case "\"":
                if i + 2 < scalars.count, scalars[i + 1] == "\"", scalars[i + 2] == "\"" { throw fail("multi-line strings are not used in this configuration") }
                return .string(try basicString())
            case "'":
                if i + 2 < scalars.count, scalars[i + 1] == "'", scalars[i + 2] == "'" { throw fail("multi-line strings are not used in this configuration") }
                return .string(try literalString())
            case "[": return try array()
            case "{": throw fail("inline tables are not used in this configuration")
            case "t", "f":
                let word = try bareName("value")
                if word == "true" { return .bool(true) }
                if word == "false" { return .bool(false) }
                throw fail("unknown value \(word) (strings need quotes)")
            default:
                return try number()
            }
        }

        mutating func basicString() throws(TOMLError) -> String {
            i += 1
            var out = String.UnicodeScalarView()
            while true {
                guard let c = peek, c != "\n" else { throw fail("unterminated string") }
                i += 1
                switch c {
                case "\"": return String(out)
                case "\\":
                    guard let e = peek else { throw fail("unterminated string") }
                    i += 1
                    switch e {
                    case "\"": out.append("\"")
                    case "\\": out.append("\\")
                    case "b": out.append("\u{08}")
                    case "t": out.append("\t")
                    case "n": out.append("\n")
                    case "f": out.append("\u{0C}")
                    case "r": out.append("\r")
                    case "u", "U":
                        let count = e == "u" ? 4 : 8
                        guard i + count <= scalars.count else { throw fail("short \\\(e) escape") }
                        let hex = String(String.UnicodeScalarView(scalars[i..<(i + count)]))
                        guard let v = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(v) else {
                            throw fail("\\\(e)\(hex) is not a Unicode scalar value")
                        }
                        out.append(scalar)
                        i += count
                    default: throw fail("unknown escape \\\(e.escaped(asASCII: true))")
                    }
                default:
                    if c.value < 0x20 && c != "\t" || c.value == 0x7F { throw fail("a control character in a string") }
                    out.append(c)
                }
            }
        }

        mutating func literalString() throws(TOMLError) -> String {
            i += 1
            let start = i
            while let c = peek, c != "'" {
                if c == "\n" || (c.value < 0x20 && c != "\t") || c.value == 0x7F { throw fail("unterminated or invalid literal string") }
                i += 1
            }
            guard peek == "'" else { throw fail("unterminated literal string") }
            defer { i += 1 }
            return String(String.UnicodeScalarView(scalars[start..<i]))
        }

        mutating func array() throws(TOMLError) -> TOMLValue {
            guard arrayDepth < Self.maxArrayDepth else { throw fail("arrays nested more than \(Self.maxArrayDepth) deep") }
            arrayDepth += 1
            defer { arrayDepth -= 1 }
            i += 1
            let opened = line
            var items: [TOMLValue] = []
            while true {
                try skipWhitespaceAndNewlines()
                if atEnd { throw TOMLError(line: opened, message: "the array opened on this line is not closed") }
                if peek == "]" { i += 1; return .array(items) }
                items.append(try value())
                try skipWhitespaceAndNewlines()
                if atEnd { throw TOMLError(line: opened, message: "the array opened on this line is not closed") }
                if peek == "," { i += 1; continue }
                guard peek == "]" else { throw fail("expected , or ] in an array") }
                i += 1
                return .array(items)
            }
        }

        mutating func number() throws(TOMLError) -> TOMLValue {
            let start = i
            while let c = peek, Parser.isBare(c) || c == "+" || c == "." { i += 1 }
            let raw = String(String.UnicodeScalarView(scalars[start..<i]))
            // TOML: underscores only between digits; no leading zeros; no hex/octal/bin here.
            guard !raw.isEmpty, raw.range(of: #"^[+-]?(0|[1-9](_?[0-9])*)(\.[0-9](_?[0-9])*)?([eE][+-]?[0-9](_?[0-9])*)?$"#,
                                          options: .regularExpression) != nil else {
                throw fail(raw.isEmpty ? "expected a value" : "\(raw) is not a number (strings need quotes)")
            }
            let plain = raw.replacingOccurrences(of: "_", with: "")
            if plain.contains(".") || plain.contains("e") || plain.contains("E") {
                guard let v = Double(plain), v.isFinite else { throw fail("\(raw) is out of range") }
                return .float(v)
            }
            guard let v = Int64(plain) else { throw fail("\(raw) is out of range") }
            return .integer(v)
        }
    }
}
