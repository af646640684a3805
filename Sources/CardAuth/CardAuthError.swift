/// A refusal of a card request, with the spec's stable code (center-api.md, "Errors").
///
/// `message` is for operators (logs); it never holds personal data: certificate subjects,
/// payload values and header values are left out on purpose.
public struct CardAuthError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case malformedRequest = "MALFORMED_REQUEST"
        case signatureInvalid = "SIGNATURE_INVALID"
        case cardCertUntrusted = "CARD_CERT_UNTRUSTED"
        case cardCertExpired = "CARD_CERT_EXPIRED"
        case cardCertRevoked = "CARD_CERT_REVOKED"
        case revocationUnavailable = "REVOCATION_UNAVAILABLE"
    }

    public let code: Code
    public let message: String

    public init(code: Code, message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }

    static func malformed(_ message: String) -> CardAuthError { CardAuthError(code: .malformedRequest, message: message) }
    static func signature(_ message: String) -> CardAuthError { CardAuthError(code: .signatureInvalid, message: message) }
    static func untrusted(_ message: String) -> CardAuthError { CardAuthError(code: .cardCertUntrusted, message: message) }
}
