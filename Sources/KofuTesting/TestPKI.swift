internal import COpenSSL
import Foundation
import KofuDigest

public struct TestPKIError: Error, Sendable, CustomStringConvertible {
    public let description: String
    init(_ description: String) { self.description = description }
}

/// A test JPKI, made with the OpenSSL C API: root CA → intermediate (subject in the style of the
/// real "JPKI for user authentication" CA) → card certificates, RSA-2048, and CRLs for both CAs.
/// Beside it an unrelated "untrusted" CA (cards no configured anchor vouches for) and a TLS CA
/// (EC P-256) for the server's and the center's TLS certificates.
///
/// Cards share one RSA key pair unless `CardOptions.freshKey` is set: key generation costs
/// 50–200 ms, and a certificate differs from the next by serial and subject all the same.
public final class TestPKI: @unchecked Sendable {
    public static let policyOID = "1.2.392.200149.8.5.1.3.30"
    /// The OID of the unknown critical extension `CardOptions.extraCriticalExtension` adds.
    public static let unknownExtensionOID = "1.3.6.1.4.1.55555.1.1"

    public enum Issuer: Sendable { case intermediate, root, untrusted }

    /// What the intermediate's certificatePolicies asserts.
    public enum PolicyAssertion: Sendable {
        case policyOID
        case anyPolicy
        case other(String)
        case none
    }

    /// The time every default validity period and CRL date is relative to.
    public let now: Date

    let root: Authority
    let intermediate: Authority
    private let lock = NSLock()
    private var serial: UInt64
    private var lazyUntrusted: Authority?
    private var lazyTLS: Authority?
    private var lazyCardKey: Key?

    public init(now: Date = Date(), intermediatePolicy: PolicyAssertion = .policyOID) throws {
        self.now = now
        serial = UInt64(now.timeIntervalSince1970) << 16
        let t = Self.seconds(now)
        let rootKey = try Key.rsa()
        let rootName = [("C", "JP"), ("O", "JPKI"), ("OU", "kofu test root CA")]
        root = Authority(key: rootKey, certificate: try makeCertificate(
            subject: rootName, serial: 1, notBefore: t - 86_400 * 365, notAfter: t + 86_400 * 365 * 20,
            publicKey: rootKey, issuer: nil, signer: rootKey,
            extensions: [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign")]))
        let intermediateKey = try Key.rsa()
        var intermediateExtensions = [(NID_basic_constraints, "critical,CA:TRUE,pathlen:0"),
                                      (NID_key_usage, "critical,keyCertSign,cRLSign")]
        switch intermediatePolicy {
        case .policyOID: intermediateExtensions.append((NID_certificate_policies, Self.policyOID))
        case .anyPolicy: intermediateExtensions.append((NID_certificate_policies, "2.5.29.32.0"))
        case .other(let oid): intermediateExtensions.append((NID_certificate_policies, oid))
        case .none: break
        }
        intermediate = Authority(key: intermediateKey, certificate: try makeCertificate(
            subject: [("C", "JP"), ("O", "JPKI"), ("OU", "JPKI for user authentication"),
                      ("OU", "Japan Agency for Local Authority Information Systems"), ("OU", "kofu test")],
            serial: 2, notBefore: t - 86_400 * 365, notAfter: t + 86_400 * 365 * 10,
            publicKey: intermediateKey, issuer: root, signer: rootKey, extensions: intermediateExtensions))
    }

    static func seconds(_ date: Date) -> Int64 { Int64(floor(date.timeIntervalSince1970)) }

    private func nextSerial() -> UInt64 {
        lock.lock()
        defer { lock.unlock() }
        serial += 1
        return serial
    }

    private func lazily<T>(_ slot: ReferenceWritableKeyPath<TestPKI, T?>, _ make: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        if let value = self[keyPath: slot] { return value }
        let value = try make()
        self[keyPath: slot] = value
        return value
    }

    private func untrustedCA() throws -> Authority {
        try lazily(\.lazyUntrusted) {
            let key = try Key.rsa()
            let t = Self.seconds(now)
            // Same subject as the real intermediate: only the key tells them apart.
            return Authority(key: key, certificate: try makeCertificate(
                subject: X509Ref.subject(of: intermediate.certificate), serial: 99,
                notBefore: t - 86_400 * 365, notAfter: t + 86_400 * 365 * 10, publicKey: key, issuer: nil, signer: key,
                extensions: [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign"),
                             (NID_certificate_policies, Self.policyOID)]))
        }
    }

    private func tlsCA() throws -> Authority {
        try lazily(\.lazyTLS) {
            let key = try Key.ec()
            let t = Self.seconds(now)
            return Authority(key: key, certificate: try makeCertificate(
                subject: [("C", "JP"), ("O", "kofu test"), ("CN", "kofu test TLS CA")], serial: 1,
                notBefore: t - 86_400, notAfter: t + 86_400 * 365 * 10, publicKey: key, issuer: nil, signer: key,
                extensions: [(NID_basic_constraints, "critical,CA:TRUE"), (NID_key_usage, "critical,keyCertSign,cRLSign")]))
        }
    }

    private func sharedCardKey() throws -> Key { try lazily(\.lazyCardKey) { try Key.rsa() } }

    // MARK: Files

    /// Writes `anchor.pem`, `intermediate.pem` and `crl/` holding a valid CRL of each CA
    /// (thisUpdate now − 1 h, nextUpdate now + 1 d, CRLNumber 1, nothing revoked).
    public func writeTrust(to folder: String) throws -> (anchor: String, intermediate: String, crlDirectory: String) {
        let fm = FileManager.default
        let crlDirectory = folder + "/crl"
        try fm.createDirectory(atPath: crlDirectory, withIntermediateDirectories: true)
        let anchor = folder + "/anchor.pem", intermediatePath = folder + "/intermediate.pem"
        try Data(rootPEM().utf8).write(to: URL(fileURLWithPath: anchor))
        try Data(intermediatePEM().utf8).write(to: URL(fileURLWithPath: intermediatePath))
        let thisUpdate = now.addingTimeInterval(-3600), nextUpdate = now.addingTimeInterval(86_400)
        try writeCRL(to: crlDirectory + "/intermediate.crl", revoking: [], issuer: .intermediate,
                     thisUpdate: thisUpdate, nextUpdate: nextUpdate, number: 1)
        try writeCRL(to: crlDirectory + "/root.crl", revoking: [], issuer: .root,
                     thisUpdate: thisUpdate, nextUpdate: nextUpdate, number: 1)
        return (anchor, intermediatePath, crlDirectory)
    }

    public func rootPEM() -> String { root.certificate.pem }
    public func intermediatePEM() -> String { intermediate.certificate.pem }
    public func rootDER() -> [UInt8] { root.certificate.der }
    public func intermediateDER() -> [UInt8] { intermediate.certificate.der }
    /// The untrusted CA's certificate (same subject as the intermediate, another key).
    public func untrustedCAPEM() throws -> String { try untrustedCA().certificate.pem }
    public func tlsCAPEM() throws -> String { try tlsCA().certificate.pem }

    // MARK: CRLs

    public enum CRLSignature: Sendable {
        case valid
        /// Signed with another key than the issuer's (the untrusted CA's), the issuer name unchanged.
        case wrongKey
    }

    /// A CRL of `issuer` listing `revoking` (and the intermediate itself when `revokingIntermediate`,
    /// meaningful for issuer `.root`). DER unless `pem`.
    public func makeCRL(revoking: [TestCard], revokingIntermediate: Bool = false, issuer: Issuer = .intermediate,
                        thisUpdate: Date, nextUpdate: Date?, number: Int?, pem: Bool = false,
                        signature: CRLSignature = .valid) throws -> [UInt8] {
        let authority: Authority
        switch issuer {
        case .intermediate: authority = intermediate
        case .root: authority = root
        case .untrusted: authority = try untrustedCA()
        }
        let signer = signature == .valid ? authority.key : try untrustedCA().key
        var serials = revoking.map(\.serial)
        if revokingIntermediate { serials.append(2) }
        let crl = try makeCRLObject(issuer: authority.certificate, signer: signer, serials: serials,
                                    revocationDate: Self.seconds(thisUpdate), thisUpdate: Self.seconds(thisUpdate),
                                    nextUpdate: nextUpdate.map(Self.seconds), number: number)
        defer { X509_CRL_free(crl) }
        if pem { return bioBytes { _ = PEM_write_bio_X509_CRL($0, crl) } }
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509_CRL(crl, &out)
        guard length > 0, let out else { throw TestPKIError("i2d_X509_CRL failed") }
        defer { kofu_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    public func writeCRL(to path: String, revoking: [TestCard], issuer: Issuer = .intermediate,
                         thisUpdate: Date, nextUpdate: Date, number: Int) throws {
        let bytes = try makeCRL(revoking: revoking, issuer: issuer, thisUpdate: thisUpdate,
                                nextUpdate: nextUpdate, number: number)
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    }

    /// A CRL of the intermediate with `count` revoked serials (filler serials from 2^40 on, which
    /// no card has) plus `revoking`, DER built by hand: the OpenSSL API needs about a kilobyte of
    /// heap per entry to build one, this needs the 25 bytes each entry takes in the file. For the
    /// resource-limit tests (a CRL of a million entries is about 25 MB).
    public func makeLargeCRL(count: Int, revoking: [TestCard] = [], thisUpdate: Date, nextUpdate: Date, number: Int) throws -> [UInt8] {
        func length(_ n: Int) -> [UInt8] {
            if n < 0x80 { return [UInt8(n)] }
            var bytes: [UInt8] = []
            var v = n
            while v > 0 { bytes.insert(UInt8(v & 0xFF), at: 0); v >>= 8 }
            return [0x80 | UInt8(bytes.count)] + bytes
        }
        func tlv(_ tag: UInt8, _ content: [UInt8]) -> [UInt8] { [tag] + length(content.count) + content }
        func integer(_ v: UInt64) -> [UInt8] {
            var bytes: [UInt8] = []
            var x = v
            repeat { bytes.insert(UInt8(x & 0xFF), at: 0); x >>= 8 } while x > 0
            if bytes[0] & 0x80 != 0 { bytes.insert(0, at: 0) }
            return tlv(0x02, bytes)
        }
        func utcTime(_ date: Date) -> [UInt8] {
            let f = DateFormatter()
            f.locale = Locale(identifier: "en_US_POSIX")
            f.timeZone = TimeZone(secondsFromGMT: 0)
            f.dateFormat = "yyMMddHHmmss'Z'"
            return tlv(0x17, Array(f.string(from: date).utf8))
        }
        let sha256WithRSA: [UInt8] = [0x30, 0x0D, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x01, 0x0B, 0x05, 0x00]
        var nameOut: UnsafeMutablePointer<UInt8>? = nil
        let nameLength = i2d_X509_NAME(X509_get_subject_name(intermediate.certificate.pointer), &nameOut)
        guard nameLength > 0, let nameOut else { throw TestPKIError("i2d_X509_NAME") }
        let issuerName = Array(UnsafeBufferPointer(start: nameOut, count: Int(nameLength)))
        kofu_OPENSSL_free(nameOut)

        let revokedOn = utcTime(thisUpdate)
        var entries: [UInt8] = []
        entries.reserveCapacity((count + revoking.count) * 26)
        func entry(_ serial: UInt64) {
            let s = integer(serial)
            entries.append(0x30)
            entries.append(UInt8(s.count + revokedOn.count))
            entries.append(contentsOf: s)
            entries.append(contentsOf: revokedOn)
        }
        for card in revoking { entry(card.serial) }
        for k in 0..<count { entry((1 << 40) + UInt64(k)) }
        let crlNumber = tlv(0xA0, tlv(0x30, tlv(0x30, [0x06, 0x03, 0x55, 0x1D, 0x14] + tlv(0x04, integer(UInt64(number))))))
        let tbs = tlv(0x30, [0x02, 0x01, 0x01] + sha256WithRSA + issuerName + revokedOn + utcTime(nextUpdate)
                      + tlv(0x30, entries) + crlNumber)
        let signature = intermediate.key.signSHA256(tbs)
        return tlv(0x30, tbs + sha256WithRSA + tlv(0x03, [0x00] + signature))
    }

    // MARK: Cards

    public enum KeyUsage: String, Sendable {
        case digitalSignature, nonRepudiation, keyEncipherment, keyAgreement
    }

    public struct CardOptions: Sendable {
        /// Offsets from the PKI's `now`, in seconds.
        public var notBefore: TimeInterval = -86_400 * 30
        public var notAfter: TimeInterval = 86_400 * 365 * 5
        /// nil: no keyUsage extension at all.
        public var keyUsage: [KeyUsage]? = [.digitalSignature]
        public var includePolicy = true
        public var policyOID = TestPKI.policyOID
        /// Adds a critical extension with `TestPKI.unknownExtensionOID`.
        public var extraCriticalExtension = false
        public var issuer: Issuer = .intermediate
        /// A key pair of the card's own instead of the PKI's shared card key.
        public var freshKey = false
        /// basicConstraints cA=TRUE on the card (a CA certificate presented as a card).
        public var isCA = false
        /// This many extra extensions, each with an OID of its own under 2.999 (the example arc)
        /// and a NULL value: a certificate with thousands of extensions (issue 8's resource limits).
        public var manyExtensions = 0
        /// Whether those extensions are marked critical.
        public var manyExtensionsCritical = false

        public init(notBefore: TimeInterval = -86_400 * 30, notAfter: TimeInterval = 86_400 * 365 * 5,
                    keyUsage: [KeyUsage]? = [.digitalSignature], includePolicy: Bool = true,
                    policyOID: String = TestPKI.policyOID, extraCriticalExtension: Bool = false,
                    issuer: Issuer = .intermediate, freshKey: Bool = false, isCA: Bool = false,
                    manyExtensions: Int = 0, manyExtensionsCritical: Bool = false) {
            self.notBefore = notBefore
            self.notAfter = notAfter
            self.keyUsage = keyUsage
            self.includePolicy = includePolicy
            self.policyOID = policyOID
            self.extraCriticalExtension = extraCriticalExtension
            self.issuer = issuer
            self.freshKey = freshKey
            self.isCA = isCA
            self.manyExtensions = manyExtensions
            self.manyExtensionsCritical = manyExtensionsCritical
        }
    }

    public func issueCard(_ options: CardOptions = CardOptions()) throws -> TestCard {
        let key = options.freshKey ? try Key.rsa() : try sharedCardKey()
        let authority: Authority
        switch options.issuer {
        case .intermediate: authority = intermediate
        case .root: authority = root
        case .untrusted: authority = try untrustedCA()
        }
        let serial = nextSerial()
        var extensions: [(Int32, String)] = []
        if options.isCA { extensions.append((NID_basic_constraints, "critical,CA:TRUE")) }
        if let usage = options.keyUsage {
            extensions.append((NID_key_usage, "critical," + usage.map(\.rawValue).joined(separator: ",")))
        }
        if options.includePolicy { extensions.append((NID_certificate_policies, options.policyOID)) }
        let t = Self.seconds(now)
        // No personal name in the subject, as on a real 利用者証明用電子証明書.
        let certificate = try makeCertificate(
            subject: [("C", "JP"), ("CN", "kofu test card " + String(serial, radix: 16))], serial: serial,
            notBefore: t + Int64(options.notBefore), notAfter: t + Int64(options.notAfter),
            publicKey: key, issuer: authority, signer: authority.key, extensions: extensions,
            unknownCriticalExtension: options.extraCriticalExtension,
            many: (options.manyExtensions, options.manyExtensionsCritical))
        return TestCard(certificate: certificate, key: key, serial: serial)
    }

    // MARK: TLS

    /// A TLS certificate from the TLS CA (EC P-256): a server certificate with `serverAltNames` as
    /// subjectAltName (IP addresses or DNS names), or a client certificate (the center's).
    public func issueTLS(commonName: String, serverAltNames: [String] = ["127.0.0.1", "localhost"],
                         client: Bool = false) throws -> (certPEM: String, keyPEM: String) {
        let ca = try tlsCA()
        let key = try Key.ec()
        var extensions = [(NID_basic_constraints, "critical,CA:FALSE"), (NID_key_usage, "critical,digitalSignature"),
                          (NID_ext_key_usage, client ? "clientAuth" : "serverAuth")]
        if !client && !serverAltNames.isEmpty {
            let names = serverAltNames.map { name in
                name.allSatisfy { $0.isNumber || $0 == "." || $0 == ":" } && name.contains(where: \.isNumber)
                    && !name.allSatisfy(\.isNumber) ? "IP:" + name : "DNS:" + name
            }
            extensions.append((NID_subject_alt_name, names.joined(separator: ",")))
        }
        let t = Self.seconds(now)
        let certificate = try makeCertificate(
            subject: [("C", "JP"), ("O", "kofu test"), ("CN", commonName)], serial: nextSerial(),
            notBefore: t - 86_400, notAfter: t + 86_400 * 365, publicKey: key, issuer: ca, signer: ca.key,
            extensions: extensions)
        return (certificate.pem, key.privateKeyPEM)
    }
}

/// A card: its certificate and private key, and RS256 signing of compact JWS requests.
public final class TestCard: @unchecked Sendable {
    public let certificateDER: [UInt8]
    public let sha256Hex: String
    public let serial: UInt64
    let certificate: X509Ref
    let key: Key

    init(certificate: X509Ref, key: Key, serial: UInt64) {
        self.certificate = certificate
        self.key = key
        self.serial = serial
        certificateDER = certificate.der
        sha256Hex = SHA256.hex(SHA256.hash(certificate.der))
    }

    /// A card saved with `certificatePEM()` and `privateKeyPEM()` (the demo folder's cards, for loadtest).
    public convenience init(certificatePEM: String, privateKeyPEM: String, serial: UInt64 = 0) throws {
        // The BIOs get copies of the bytes: a pointer into a Swift array must not outlive its closure.
        func bio(_ text: String) throws -> OpaquePointer {
            guard let b = BIO_new(BIO_s_mem()) else { throw TestPKIError("BIO_new") }
            let bytes = Array(text.utf8)
            let written = bytes.withUnsafeBytes { BIO_write(b, $0.baseAddress, Int32($0.count)) }
            guard written == Int32(bytes.count) else {
                BIO_free(b)
                throw TestPKIError("BIO_write")
            }
            return b
        }
        let certBIO = try bio(certificatePEM)
        defer { BIO_free(certBIO) }
        guard let x509 = PEM_read_bio_X509(certBIO, nil, nil, nil) else { throw TestPKIError("not a PEM certificate") }
        let keyBIO: OpaquePointer
        do {
            keyBIO = try bio(privateKeyPEM)
        } catch {
            X509_free(x509)
            throw error
        }
        defer { BIO_free(keyBIO) }
        guard let pkey = PEM_read_bio_PrivateKey(keyBIO, nil, nil, nil) else {
            X509_free(x509)
            throw TestPKIError("not a PEM private key")
        }
        self.init(certificate: X509Ref(x509), key: Key(pkey), serial: serial)
    }

    /// `{"alg":"RS256","typ":"kofu-request","x5c":["<base64 DER>"]}`
    public var header: [UInt8] {
        Array(#"{"alg":"RS256","typ":"kofu-request","x5c":[""#.utf8) + Array(Data(certificateDER).base64EncodedString().utf8)
            + Array(#""]}"#.utf8)
    }

    /// A compact JWS of the standard header and `payload`, signed RS256.
    public func sign(payload: [UInt8]) -> [UInt8] { sign(payload: payload, header: header) }

    /// A compact JWS with this raw header (for negative tests), signed RS256.
    public func sign(payload: [UInt8], header: [UInt8]) -> [UInt8] {
        let input = Array((TestCard.base64url(header) + "." + TestCard.base64url(payload)).utf8)
        return input + Array(".".utf8) + Array(TestCard.base64url(signature(over: input)).utf8)
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `bytes`.
    public func signature(over bytes: [UInt8]) -> [UInt8] { key.signSHA256(bytes) }

    public func privateKeyPEM() -> String { key.privateKeyPEM }
    public func certificatePEM() -> String { certificate.pem }

    public static func base64url(_ bytes: [UInt8]) -> String {
        var s = Data(bytes).base64EncodedString()
        s = s.replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        while s.hasSuffix("=") { s.removeLast() }
        return s
    }
}

// MARK: - OpenSSL plumbing

final class Key: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { EVP_PKEY_free(pointer) }

    static func rsa(bits: Int32 = 2048) throws -> Key {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_RSA, nil) else { throw TestPKIError("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1, EVP_PKEY_CTX_set_rsa_keygen_bits(context, bits) == 1,
              EVP_PKEY_keygen(context, &key) == 1, let key
        else { throw TestPKIError("RSA key generation failed") }
        return Key(key)
    }

    static func ec() throws -> Key {
        guard let context = EVP_PKEY_CTX_new_id(EVP_PKEY_EC, nil) else { throw TestPKIError("EVP_PKEY_CTX_new_id") }
        defer { EVP_PKEY_CTX_free(context) }
        var key: OpaquePointer? = nil
        guard EVP_PKEY_keygen_init(context) == 1,
              EVP_PKEY_CTX_set_ec_paramgen_curve_nid(context, NID_X9_62_prime256v1) == 1,
              EVP_PKEY_keygen(context, &key) == 1, let key
        else { throw TestPKIError("EC key generation failed") }
        return Key(key)
    }

    var privateKeyPEM: String {
        String(decoding: bioBytes { _ = PEM_write_bio_PrivateKey($0, pointer, nil, nil, 0, nil, nil) }, as: UTF8.self)
    }

    func signSHA256(_ bytes: [UInt8]) -> [UInt8] {
        let context = EVP_MD_CTX_new()!
        defer { EVP_MD_CTX_free(context) }
        precondition(EVP_DigestSignInit(context, nil, EVP_sha256(), nil, pointer) == 1)
        var length = 0
        precondition(bytes.withUnsafeBufferPointer { EVP_DigestSign(context, nil, &length, $0.baseAddress, $0.count) } == 1)
        var signature = [UInt8](repeating: 0, count: length)
        precondition(bytes.withUnsafeBufferPointer { EVP_DigestSign(context, &signature, &length, $0.baseAddress, $0.count) } == 1)
        return Array(signature.prefix(length))
    }
}

final class X509Ref: @unchecked Sendable {
    let pointer: OpaquePointer
    init(_ pointer: OpaquePointer) { self.pointer = pointer }
    deinit { X509_free(pointer) }

    var der: [UInt8] {
        var out: UnsafeMutablePointer<UInt8>? = nil
        let length = i2d_X509(pointer, &out)
        guard length > 0, let out else { return [] }
        defer { kofu_OPENSSL_free(out) }
        return Array(UnsafeBufferPointer(start: out, count: Int(length)))
    }

    var pem: String { String(decoding: bioBytes { _ = PEM_write_bio_X509($0, pointer) }, as: UTF8.self) }

    /// The subject as (short name, value) pairs, for copying it.
    static func subject(of certificate: X509Ref) -> [(String, String)] {
        let name = X509_get_subject_name(certificate.pointer)
        var result: [(String, String)] = []
        for i in 0..<X509_NAME_entry_count(name) {
            let entry = X509_NAME_get_entry(name, i)
            let nid = OBJ_obj2nid(X509_NAME_ENTRY_get_object(entry))
            let data = X509_NAME_ENTRY_get_data(entry)!
            let bytes = Array(UnsafeBufferPointer(start: ASN1_STRING_get0_data(data), count: Int(ASN1_STRING_length(data))))
            result.append((String(cString: OBJ_nid2sn(nid)), String(decoding: bytes, as: UTF8.self)))
        }
        return result
    }
}

struct Authority {
    let key: Key
    let certificate: X509Ref
}

func bioBytes(_ body: (OpaquePointer) -> Void) -> [UInt8] {
    let bio = BIO_new(BIO_s_mem())!
    defer { BIO_free(bio) }
    body(bio)
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = kofu_BIO_get_mem_data(bio, &data)
    guard length > 0, let data else { return [] }
    return data.withMemoryRebound(to: UInt8.self, capacity: length) { Array(UnsafeBufferPointer(start: $0, count: length)) }
}

private func makeName(_ entries: [(String, String)]) throws -> OpaquePointer {
    let name = X509_NAME_new()!
    for (field, value) in entries {
        let bytes = Array(value.utf8)
        guard X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8, bytes, Int32(bytes.count), -1, 0) == 1 else {
            X509_NAME_free(name)
            throw TestPKIError("bad name entry \(field)")
        }
    }
    return name
}

private func addExtension(_ nid: Int32, _ value: String, to certificate: OpaquePointer, context: inout X509V3_CTX) throws {
    // An empty configuration database: certificatePolicies' parser refuses to run without one.
    let database = NCONF_new(nil)
    defer { NCONF_free(database) }
    X509V3_set_nconf(&context, database)
    guard let ext = X509V3_EXT_nconf_nid(database, &context, nid, value) else {
        ERR_clear_error()
        throw TestPKIError("bad extension \(nid)=\(value)")
    }
    defer { X509_EXTENSION_free(ext) }
    guard X509_add_ext(certificate, ext, -1) == 1 else { throw TestPKIError("X509_add_ext") }
}

private func makeCertificate(
    subject: [(String, String)], serial: UInt64, notBefore: Int64, notAfter: Int64, publicKey: Key,
    issuer: Authority?, signer: Key, extensions: [(Int32, String)], unknownCriticalExtension: Bool = false,
    many: (count: Int, critical: Bool) = (0, false)
) throws -> X509Ref {
    let x = X509_new()!
    let result = X509Ref(x)  // frees on any throw below
    X509_set_version(x, 2)
    ASN1_INTEGER_set_uint64(X509_get_serialNumber(x), serial)
    let name = try makeName(subject)
    defer { X509_NAME_free(name) }
    X509_set_subject_name(x, name)
    X509_set_issuer_name(x, issuer.map { X509_get_subject_name($0.certificate.pointer) } ?? name)
    ASN1_TIME_set(X509_getm_notBefore(x), time_t(notBefore))
    ASN1_TIME_set(X509_getm_notAfter(x), time_t(notAfter))
    X509_set_pubkey(x, publicKey.pointer)
    var context = X509V3_CTX()
    X509V3_set_ctx(&context, issuer?.certificate.pointer ?? x, x, nil, nil, 0)
    try addExtension(NID_subject_key_identifier, "hash", to: x, context: &context)
    try addExtension(NID_authority_key_identifier, "keyid:always", to: x, context: &context)
    for (nid, value) in extensions { try addExtension(nid, value, to: x, context: &context) }
    if unknownCriticalExtension {
        let object = OBJ_txt2obj(TestPKI.unknownExtensionOID, 1)!
        defer { ASN1_OBJECT_free(object) }
        let content = ASN1_OCTET_STRING_new()!
        defer { ASN1_OCTET_STRING_free(content) }
        let null: [UInt8] = [0x05, 0x00]
        ASN1_OCTET_STRING_set(content, null, 2)
        let ext = X509_EXTENSION_create_by_OBJ(nil, object, 1, content)!
        defer { X509_EXTENSION_free(ext) }
        X509_add_ext(x, ext, -1)
    }
    if many.count > 0 {
        let content = ASN1_OCTET_STRING_new()!
        defer { ASN1_OCTET_STRING_free(content) }
        let null: [UInt8] = [0x05, 0x00]
        ASN1_OCTET_STRING_set(content, null, 2)
        for k in 0..<many.count {
            guard let object = OBJ_txt2obj("2.999.\(k + 1)", 1) else { throw TestPKIError("OBJ_txt2obj") }
            defer { ASN1_OBJECT_free(object) }
            let ext = X509_EXTENSION_create_by_OBJ(nil, object, many.critical ? 1 : 0, content)!
            defer { X509_EXTENSION_free(ext) }
            X509_add_ext(x, ext, -1)
        }
    }
    guard X509_sign(x, signer.pointer, EVP_sha256()) > 0 else { throw TestPKIError("X509_sign failed") }
    return result
}

private func makeCRLObject(issuer: X509Ref, signer: Key, serials: [UInt64], revocationDate: Int64,
                           thisUpdate: Int64, nextUpdate: Int64?, number: Int?) throws -> OpaquePointer {
    let crl = X509_CRL_new()!
    X509_CRL_set_version(crl, 1)
    X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer.pointer))
    func setTime(_ seconds: Int64, _ setter: (OpaquePointer, UnsafePointer<ASN1_TIME>) -> Int32) {
        let time = ASN1_TIME_set(nil, time_t(seconds))!
        defer { ASN1_TIME_free(time) }
        _ = setter(crl, time)
    }
    setTime(thisUpdate) { X509_CRL_set1_lastUpdate($0, $1) }
    if let nextUpdate { setTime(nextUpdate) { X509_CRL_set1_nextUpdate($0, $1) } }
    for serial in serials {
        let revoked = X509_REVOKED_new()!
        let integer = ASN1_INTEGER_new()!
        ASN1_INTEGER_set_uint64(integer, serial)
        X509_REVOKED_set_serialNumber(revoked, integer)
        ASN1_INTEGER_free(integer)
        let date = ASN1_TIME_set(nil, time_t(revocationDate))!
        X509_REVOKED_set_revocationDate(revoked, date)
        ASN1_TIME_free(date)
        X509_CRL_add0_revoked(crl, revoked)
    }
    if let number {
        let integer = ASN1_INTEGER_new()!
        ASN1_INTEGER_set_int64(integer, Int64(number))
        X509_CRL_add1_ext_i2d(crl, NID_crl_number, integer, 0, 0)
        ASN1_INTEGER_free(integer)
    }
    var context = X509V3_CTX()
    X509V3_set_ctx(&context, issuer.pointer, nil, nil, crl, 0)
    if let ext = X509V3_EXT_conf_nid(nil, &context, NID_authority_key_identifier, "keyid:always") {
        X509_CRL_add_ext(crl, ext, -1)
        X509_EXTENSION_free(ext)
    }
    X509_CRL_sort(crl)
    guard X509_CRL_sign(crl, signer.pointer, EVP_sha256()) > 0 else {
        X509_CRL_free(crl)
        throw TestPKIError("X509_CRL_sign failed")
    }
    return crl
}
