/// Why a document was refused, and where.
///
/// `offset` is the 0-based byte offset of the offending byte (for a bad escape, number or
/// duplicate name: where that token starts). `line` and `column` are 1-based; a line ends at
/// LF, CR or CRLF, and `column` counts Unicode scalars, so it matches what an editor shows.
public struct JSONParseError: Error, Equatable, CustomStringConvertible, Sendable {
    /// Stable codes: callers may log, match and return them to clients.
    public enum Code: String, Sendable, CaseIterable {
        /// Ill-formed UTF-8: overlongs, UTF-8-encoded surrogates, above U+10FFFF, truncated.
        case invalidUTF8 = "INVALID_UTF8"
        /// A UTF-8 byte order mark at the start (RFC 8259 §8.1: must not be added).
        case byteOrderMark = "BYTE_ORDER_MARK"
        case unexpectedCharacter = "UNEXPECTED_CHARACTER"
        case unexpectedEnd = "UNEXPECTED_END"
        /// The same member name twice in one object (I-JSON §2.3), compared by UTF-8 bytes.
        case duplicateKey = "DUPLICATE_KEY"
        /// Anything but JSON whitespace after the top-level value.
        case trailingData = "TRAILING_DATA"
        /// A `\u` escape leaving an unpaired surrogate (I-JSON §2.1).
        case loneSurrogate = "LONE_SURROGATE"
        /// U+0000–U+001F unescaped inside a string.
        case controlCharacter = "CONTROL_CHARACTER"
        case invalidEscape = "INVALID_ESCAPE"
        /// Outside RFC 8259's number grammar (leading zero, `1.`, `.5`, `-`, ...).
        case invalidNumber = "INVALID_NUMBER"
        /// Magnitude beyond Double (e.g. `1e400`), I-JSON §2.2. Underflow to zero is accepted.
        case numberOutOfRange = "NUMBER_OUT_OF_RANGE"
        /// More nested arrays/objects than `JSONLimits.maxDepth`.
        case tooDeep = "TOO_DEEP"
    }

    public let code: Code
    public let offset: Int
    public let line: Int
    public let column: Int
    /// The repeated member name, for `DUPLICATE_KEY`; nil otherwise.
    public let key: String?
    /// Where in the document the fault is: the member names and (decimal) array indices of the
    /// containers open at the fault, outermost first, ending with the member or element being
    /// read (`["events", "3", "resident", "name"]` for a lone surrogate escape in that name).
    /// While a member name itself is read, the path ends at its object. Empty at the top level.
    /// Not part of `==`: it locates the fault for a caller (the sync feed names the field of
    /// INVALID_EVENT with it), the code and position identify it.
    public let path: [String]

    init(code: Code, offset: Int, line: Int, column: Int, key: String? = nil, path: [String] = []) {
        self.code = code
        self.offset = offset
        self.line = line
        self.column = column
        self.key = key
        self.path = path
    }

    func at(path: [String]) -> JSONParseError {
        JSONParseError(code: code, offset: offset, line: line, column: column, key: key, path: path)
    }

    public var description: String {
        "\(code.rawValue) at line \(line), column \(column) (byte \(offset))" + (key.map { ": member \"\($0)\"" } ?? "")
    }

    public static func == (a: JSONParseError, b: JSONParseError) -> Bool {
        a.code == b.code && a.offset == b.offset && a.line == b.line && a.column == b.column
            && a.key.map(ExactKey.init) == b.key.map(ExactKey.init)
    }
}
