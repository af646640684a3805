internal import COpenSSL
import KofuDigest

/// A card certificate (DER), parsed once. Immutable; shared freely between threads.
public final class CardCertificate: @unchecked Sendable {
    public let der: [UInt8]
    /// Lowercase hex SHA-256 of `der`: the key of the card bindings (`certSha256`).
    public let sha256Hex: String
    let x509: X509Ref

    /// `.malformedRequest` unless `der` is exactly one X.509 certificate with nothing after it.
    public init(der: [UInt8]) throws(CardAuthError) {
        guard let x509 = X509Ref(der: der) else { throw .malformed("x5c[0] is not one DER X.509 certificate") }
        self.der = der
        self.x509 = x509
        self.sha256Hex = SHA256.hex(SHA256.hash(der))
    }
}
