import Typesetting

/// Why a certificate was not rendered. `unrenderable` becomes 422 GAIJI_UNRENDERABLE at the
/// issuance layer; the others are faults of configuration or templates (500 and an operator log).
/// Never carries the value itself: `field` names where, `codePoints` what.
public struct CertificateError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case unrenderable = "GAIJI_UNRENDERABLE"
        case doesNotFit = "LAYOUT_OVERFLOW"
        case template = "TEMPLATE_INVALID"
        case image = "IMAGE_INVALID"
        case content = "CONTENT_INVALID"
        case font = "FONT_FAILURE"
    }

    public let code: Code
    public let field: String?
    public let codePoints: [Unicode.Scalar]
    public let detail: String

    public init(code: Code, field: String? = nil, codePoints: [Unicode.Scalar] = [], detail: String) {
        self.code = code
        self.field = field
        self.codePoints = codePoints
        self.detail = detail
    }

    init(_ error: TypesettingError, field: String?) {
        let code: Code = switch error.code {
        case .unrenderable: .unrenderable
        case .doesNotFit: .doesNotFit
        case .image: .image
        case .fontUnreadable, .subsetFailed, .shapingMismatch: .font
        }
        self.init(code: code, field: field, codePoints: error.codePoints, detail: error.detail)
    }

    /// e.g. "U+845B U+E0100".
    public var codePointsText: String { codePoints.map(\.uPlus).joined(separator: " ") }

    public var description: String {
        var s = code.rawValue
        if let field { s += " in \(field)" }
        if !codePoints.isEmpty { s += " (\(codePointsText))" }
        return s + ": " + detail
    }
}
