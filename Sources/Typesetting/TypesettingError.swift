/// Every failure of the typesetting layer, with a stable code. The issuance layer maps
/// `.unrenderable` to 422 GAIJI_UNRENDERABLE; the others are configuration or programming faults.
public struct TypesettingError: Error, Equatable, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        /// A code point, or a variation sequence, that no configured font draws.
        case unrenderable = "GAIJI_UNRENDERABLE"
        case fontUnreadable = "FONT_UNREADABLE"
        case subsetFailed = "FONT_SUBSET_FAILED"
        /// The shaper produced something other than the glyphs the cmaps promise.
        case shapingMismatch = "SHAPING_MISMATCH"
        /// A value does not fit its cell even at the template's minimum size.
        case doesNotFit = "TEXT_DOES_NOT_FIT"
        case image = "IMAGE_INVALID"
    }

    public let code: Code
    /// For `.unrenderable`: the offending code point(s), written U+XXXX (a base and its selector
    /// for a sequence). Never the surrounding text, which may be a name.
    public let codePoints: [Unicode.Scalar]
    public let detail: String

    public init(code: Code, codePoints: [Unicode.Scalar] = [], detail: String) {
        self.code = code
        self.codePoints = codePoints
        self.detail = detail
    }

    public static func unrenderable(_ scalars: [Unicode.Scalar], _ why: String) -> TypesettingError {
        TypesettingError(code: .unrenderable, codePoints: scalars, detail: why)
    }

    /// The code points as the operators' log writes them, e.g. "U+845B U+E0100".
    public var codePointsText: String { codePoints.map(\.uPlus).joined(separator: " ") }

    public var description: String {
        codePoints.isEmpty ? "\(code.rawValue): \(detail)" : "\(code.rawValue) \(codePointsText): \(detail)"
    }
}

extension Unicode.Scalar {
    /// U+XXXX with at least four hex digits.
    public var uPlus: String {
        let hex = String(value, radix: 16, uppercase: true)
        return "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    }

    var isVariationSelector: Bool {
        (0xFE00...0xFE0F).contains(value) || (0xE0100...0xE01EF).contains(value)
    }

    var isPrivateUse: Bool {
        (0xE000...0xF8FF).contains(value) || (0xF0000...0xFFFFD).contains(value) || (0x100000...0x10FFFD).contains(value)
    }
}
