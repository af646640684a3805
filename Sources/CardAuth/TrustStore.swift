internal import COpenSSL
import Foundation
import KofuDigest

/// The `[trust]` configuration made ready for path validation: anchors and intermediates parsed
/// once, and the CRL folder as last read.
///
/// Thread safety: `verify`, `refreshCRLs`, `hasValidCRL` and `crlAges` may be called from any
/// thread at the same time. The CRL set is an immutable value swapped whole under a lock; each
/// `verify` takes the current set once and runs its own `X509_STORE_CTX`, so a verification sees
/// either the old or the new CRLs, never a mix, and no decision outlives a CRL change.
public final class TrustStore: @unchecked Sendable {
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public let file: String
        public let message: String
        public init(file: String, message: String) {
            self.file = file
            self.message = message
        }
        public var description: String { "\(file): \(message)" }
    }

    private let anchors: [X509Ref]
    private let intermediates: [X509Ref]
    /// The CAs that issue card certificates: the intermediates, or the anchors without any.
    private let cardIssuers: [X509Ref]
    private let caCertificates: [X509Ref]
    private let store: AnchorStore
    private let policyOID: String
    private let policyBytes: [UInt8]
    private let crlDirectory: String

    private let stateLock = NSLock()
    private var current = CRLSet.empty
    /// Serialises refreshes, so that two threads never read the folder at once.
    private let refreshLock = NSLock()

    public init(anchorFiles: [String], intermediateFiles: [String], crlDirectory: String, policyOID: String)
        throws(ConfigurationError)
    {
        func load(_ file: String) throws(ConfigurationError) -> [X509Ref] {
            guard let bytes = FileManager.default.contents(atPath: file) else {
                throw ConfigurationError(file: file, message: "cannot be read")
            }
            return try Self.caCertificates(inFile: Array(bytes), named: file)
        }
        guard !anchorFiles.isEmpty else { throw ConfigurationError(file: "[trust] anchor_files", message: "no trust anchor configured") }
        var anchors: [X509Ref] = [], intermediates: [X509Ref] = []
        for file in anchorFiles { anchors += try load(file) }
        for file in intermediateFiles { intermediates += try load(file) }
        guard Self.isDottedOID(policyOID), let object = OBJ_txt2obj(policyOID, 1) else {
            throw ConfigurationError(file: "[trust] policy_oid", message: "is not a dotted-decimal object identifier")
        }
        // The canonical dotted form, as OpenSSL prints the card's own policies.
        var buffer = [CChar](repeating: 0, count: 128)
        let length = OBJ_obj2txt(&buffer, Int32(buffer.count), object, 1)
        ASN1_OBJECT_free(object)
        guard length > 0 && Int(length) < buffer.count else {
            throw ConfigurationError(file: "[trust] policy_oid", message: "is not a usable object identifier")
        }
        let canonicalOID = String(decoding: buffer.prefix(Int(length)).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: crlDirectory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ConfigurationError(file: crlDirectory, message: "[trust] crl_dir is not a directory")
        }
        self.anchors = anchors
        self.intermediates = intermediates
        self.cardIssuers = intermediates.isEmpty ? anchors : intermediates
        self.caCertificates = anchors + intermediates
        self.store = AnchorStore(anchors)
        self.policyOID = canonicalOID
        self.policyBytes = Array(canonicalOID.utf8)
        self.crlDirectory = crlDirectory
        refreshCRLs()
    }

    static func caCertificates(inFile bytes: [UInt8], named file: String) throws(ConfigurationError) -> [X509Ref] {
        guard let certificates = X509Ref.parseFile(bytes) else {
            throw ConfigurationError(file: file, message: "is not a PEM or DER certificate file")
        }
        for c in certificates where X509_check_ca(c.pointer) == 0 {
            throw ConfigurationError(file: file, message: "holds a certificate that is not a CA certificate")
        }
        return certificates
    }

    /// The checks `init` makes of one `anchor_files`/`intermediate_files` file, from its bytes
    /// (PEM or DER): the number of CA certificates it holds. For the fuzz harnesses.
    public static func checkCertificateFile(_ bytes: [UInt8]) throws(ConfigurationError) -> Int {
        try caCertificates(inFile: bytes, named: "(bytes)").count
    }

    private static func isDottedOID(_ s: String) -> Bool {
        let arcs = s.split(separator: ".", omittingEmptySubsequences: false)
        return arcs.count >= 2 && arcs.allSatisfy { !$0.isEmpty && $0.utf8.allSatisfy { (0x30...0x39).contains($0) } }
    }

    private var crlSet: CRLSet {
        stateLock.lock()
        defer { stateLock.unlock() }
        return current
    }

    // MARK: Verification

    /// Path validation of a card certificate at `time` (center-api.md, card authentication steps
    /// 2 and 3). When several faults apply: untrusted, then expired, then revoked, then
    /// revocation unavailable (see docs/card-verification.md).
    public func verify(_ certificate: CardCertificate, at time: Date) throws(CardAuthError) {
        let leaf = certificate.x509
        let flags = leaf.extensionFlags
        if flags & UInt32(EXFLAG_CA) != 0 { throw .untrusted("a CA certificate is not a card certificate") }
        if flags & UInt32(EXFLAG_KUSAGE) == 0 { throw .untrusted("the card certificate has no keyUsage extension") }
        if leaf.keyUsage & UInt32(KU_DIGITAL_SIGNATURE) == 0 {
            throw .untrusted("the card certificate's keyUsage lacks digitalSignature")
        }
        // RFC 5280 would let a card asserting anyPolicy through; the spec wants the OID itself.
        guard let asserted = leaf.assertedPolicies, asserted.contains(where: { Array($0.utf8) == policyBytes }) else {
            throw .untrusted("the card certificate does not assert the configured policy")
        }
        let crls = crlSet.chosen(at: Self.seconds(time))
        var options = PathValidationOptions(time: time)
        options.initialPolicies = [policyOID]
        options.explicitPolicy = true
        options.revocation = .endEntityRequired
        let outcome = PathValidator.run(leaf: leaf, store: store, untrusted: intermediates,
                                        crls: crls.map(\.object), options: options)
        if let error = outcome.cardError { throw error }
    }

    static func seconds(_ time: Date) -> Int64 { Int64(floor(time.timeIntervalSince1970)) }

    // MARK: CRLs

    /// A CRL file larger than this is not read: it counts as absent (fail closed: without another
    /// valid CRL for its issuer, card requests get REVOCATION_UNAVAILABLE) and is reported. OpenSSL
    /// holds about 250 bytes of heap per revoked entry (a 25 MB CRL of a million entries: about
    /// 250 MB), so this bounds one file to about 1.3 million entries and 350 MB (docs/limits.md).
    public static let maxCRLFileBytes = 32 << 20

    /// Re-reads `crl_dir` if any `*.crl` file was added, removed, renamed or rewritten. Costs one
    /// directory listing and one `stat` per file when nothing changed (plus a re-read of files
    /// modified in the last two seconds, whose stamps cannot prove that they are unchanged).
    /// Parsing a large CRL takes a while (about a second for a million entries): call it off
    /// the event loops and the cooperative pool. Verifications meanwhile use the previous set.
    /// Returns how each file that was (re)judged by this call was judged.
    @discardableResult
    public func refreshCRLs() -> [CRLNotice] {
        refreshLock.lock()
        defer { refreshLock.unlock() }
        let stamps = CRLFolder.scan(crlDirectory)
        let old = crlSet
        var files: [String: LoadedCRL] = [:]
        var notices: [CRLNotice] = []
        for (name, stamp) in stamps {
            let previous = old.files[name]
            if let previous, previous.stamp == stamp, !previous.racy {
                files[name] = previous
                continue
            }
            if stamp.size > Self.maxCRLFileBytes {
                let problem = "\(stamp.size) bytes, over the limit of \(Self.maxCRLFileBytes) bytes; not read"
                if previous?.stamp != stamp { notices.append(CRLNotice(file: name, problem: problem)) }
                files[name] = LoadedCRL(name: name, stamp: stamp, contentDigest: [], racy: false, crl: nil, problem: problem)
                continue
            }
            let readAt = CRLFolder.realTimeNow()
            guard let data = FileManager.default.contents(atPath: crlDirectory + "/" + name) else {
                continue  // gone since the listing: absent
            }
            let bytes = Array(data)
            let digest = SHA256.hash(bytes)
            let racy = stamp.modified >= readAt - 2
            if let previous, previous.stamp == stamp, previous.contentDigest == digest {
                files[name] = racy ? previous : LoadedCRL(name: name, stamp: stamp, contentDigest: digest, racy: false, crl: previous.crl)
                continue
            }
            let (crl, problem) = accept(bytes)
            files[name] = LoadedCRL(name: name, stamp: stamp, contentDigest: digest, racy: racy, crl: crl, problem: problem)
            notices.append(CRLNotice(file: name, problem: files[name]!.problem))
        }
        let next = CRLSet(files: files)
        stateLock.lock()
        current = next
        stateLock.unlock()
        return notices
    }

    /// Every `*.crl` file as last judged, by name (for the log at start-up).
    public func crlNotices() -> [CRLNotice] {
        crlSet.files.values.map { CRLNotice(file: $0.name, problem: $0.problem) }.sorted { $0.file < $1.file }
    }

    /// A CRL counts when it parses, is a complete CRL (delta CRLs are not used), and is signed by
    /// a configured CA certificate with its issuer's name; anything else counts as absent, so a
    /// forged CRL with a high CRLNumber cannot hide the genuine one.
    private func accept(_ bytes: [UInt8]) -> (AcceptedCRL?, String?) {
        guard let crl = CRLRef(file: bytes) else { return (nil, "does not parse as a DER or PEM CRL") }
        guard !crl.isDelta else { return (nil, "a delta CRL (not used)") }
        guard let thisUpdate = crl.thisUpdate else { return (nil, "thisUpdate unreadable") }
        guard let number = crl.number else { return (nil, "CRLNumber present but unreadable") }
        let hasNextUpdate = X509_CRL_get0_nextUpdate(crl.pointer) != nil
        let nextUpdate = crl.nextUpdate
        if hasNextUpdate && nextUpdate == nil { return (nil, "nextUpdate unreadable") }
        let issuer = crl.issuerDER
        let signed = caCertificates.contains { ca in
            ca.subjectDER == issuer && ca.publicKey.map { crl.isSigned(by: $0) } == true
        }
        guard signed else { return (nil, "not signed by a configured CA under its own name") }
        // OpenSSL sorts the revoked entries at the first lookup, under the CRL's lock: do it here,
        // off the request path, rather than in the first card request after a large CRL arrives.
        crl.prepareLookups()
        return (AcceptedCRL(object: crl, issuerDER: issuer, issuer: crl.issuerRFC2253, number: number,
                            thisUpdate: thisUpdate, nextUpdate: nextUpdate), nil)
    }

    /// Whether `refreshCRLs` would accept a `crl_dir` file with these bytes (DER or PEM): the
    /// same parsing and checks, without the folder. For the fuzz harnesses.
    public func acceptsCRL(_ bytes: [UInt8]) -> Bool { accept(bytes).0 != nil }

    /// For /readyz: every CA that issues card certificates has a CRL valid at `time`
    /// (thisUpdate ≤ time < nextUpdate).
    public func hasValidCRL(at time: Date) -> Bool {
        let set = crlSet
        let t = Self.seconds(time)
        return cardIssuers.allSatisfy { ca in set.byIssuer[ca.subjectDER]?.contains { $0.isValid(at: t) } ?? false }
    }

    /// For `kofu_crl_age_seconds{issuer}`: per issuer (RFC 2253 string) of a loaded CRL, the
    /// seconds since the thisUpdate of its newest loaded CRL (valid or not), sorted by issuer.
    public func crlAges(at time: Date) -> [(issuer: String, seconds: Double)] {
        crlSet.byIssuer.values.compactMap { $0.first }
            .map { (issuer: $0.issuer, seconds: time.timeIntervalSince1970 - Double($0.thisUpdate)) }
            .sorted { $0.issuer < $1.issuer }
    }
}
