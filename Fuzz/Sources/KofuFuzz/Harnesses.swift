import CardAuth
import Foundation
import Issuance
import KofuConfiguration
import KofuDigest
import KofuJSON
import Replica
import Typesetting

// Every harness takes the fuzzer's bytes as the outside world would send them and calls the
// parser's public entry point. A refusal (a thrown error) is the expected outcome for most inputs;
// a crash, a leak, a timeout, or a broken invariant (`fail`, which traps) is a finding.

/// A broken invariant: trap, so that libFuzzer records the input as a crash.
func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("kofu-fuzz: invariant broken: \(message)\n".utf8))
    abort()
}

/// The repository root (Fuzz/Sources/KofuFuzz/Harnesses.swift is three folders down).
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<4 { url.deleteLastPathComponent() }
    return url.path
}()

struct Harness: Sendable {
    let name: String
    let about: String
    /// Work done once before the first input (fonts, trust store), so that it is not measured.
    var prepare: @Sendable () -> Void = {}
    let run: @Sendable ([UInt8]) -> Void
}

let harnesses: [Harness] = [
    Harness(name: "json", about: "JSONParser.parse, serialise and parse again, StrictJSONDecoder", run: fuzzJSON),
    Harness(name: "jws", about: "CompactJWS.parse, verifySignature, payload decoding", run: fuzzJWS),
    Harness(name: "payload", about: "eligibility and issuance payload decoding (Issuance)", run: fuzzPayload),
    Harness(name: "syncbatch", about: "SyncBatch.decode", run: fuzzSyncBatch),
    Harness(name: "extractline", about: "Extract.decodeLine: one extract line", run: fuzzExtractLine),
    Harness(name: "extract", about: "Extract.validate(bytes:) and Extract.check(file:) of a small extract", run: fuzzExtract),
    Harness(name: "cert", about: "CA certificate files (PEM, DER) and card certificates with path validation",
            prepare: { _ = trust }, run: fuzzCertificate),
    Harness(name: "crl", about: "CRL files (PEM, DER) as crl_dir accepts them", prepare: { _ = trust }, run: fuzzCRL),
    Harness(name: "png", about: "PNGImage.decode", run: fuzzPNG),
    Harness(name: "toml", about: "TOMLDocument.parse and KofuConfig.parse", run: fuzzTOML),
    Harness(name: "shape", about: "FontStack.shape with IPAmj明朝 and the demo 外字 font", prepare: { _ = fonts }, run: fuzzShape),
]

// MARK: JSON

struct Probe: Decodable {
    struct Inner: Decodable { let x: Int64; let y: [Bool]? }
    let a: String
    let b: Int?
    let c: [Double]?
    let d: [String: UInt8]?
    let e: Inner?
}

func fuzzJSON(_ bytes: [UInt8]) {
    let value: JSONValue
    do throws(JSONParseError) {
        value = try JSONParser.parse(bytes)
    } catch {
        guard error.offset >= 0 && error.offset <= bytes.count else { fail("JSON error offset \(error.offset) outside the input") }
        return
    }
    // What the parser accepts, the serialiser writes and the parser reads back unchanged.
    let written = serialize(value)
    let again: JSONValue
    do throws(JSONParseError) {
        again = try JSONParser.parse(written)
    } catch {
        fail("the serialiser's output does not parse: \(error)")
    }
    guard again == value else { fail("parse(serialize(v)) != v") }
    guard serialize(again) == written else { fail("serialize is not stable") }
    let decoder = StrictJSONDecoder()
    _ = try? decoder.decode(Probe.self, from: value)
    _ = try? decoder.decode([Probe].self, from: value)
    _ = try? decoder.decode([String: String].self, from: value)
    _ = try? decoder.decode([Int64].self, from: value)
    _ = try? decoder.decode(Double.self, from: value)
    _ = try? decoder.decode(Probe.self, from: bytes)
}

// MARK: JWS and payloads

func fuzzJWS(_ bytes: [UInt8]) {
    guard let jws = try? CompactJWS.parse(bytes) else { return }
    _ = try? jws.verifySignature()
    _ = EligibilityPayload.decode(jws.payloadObject)
    _ = IssuancePayload.decode(jws.payloadObject)
}

func fuzzPayload(_ bytes: [UInt8]) {
    guard case .object(let object)? = try? JSONParser.parse(bytes) else { return }
    let eligibility = EligibilityPayload.decode(object)
    let issuance = IssuancePayload.decode(object)
    // Exactly one of payload and field; an accepted issuance payload is a valid eligibility one
    // but for its extra members, so nothing more is asserted between the two.
    for (accepted, field) in [(eligibility.payload != nil, eligibility.field), (issuance.payload != nil, issuance.field)] {
        guard accepted == (field == nil) else { fail("a payload decoded with a fault, or refused without one") }
    }
    if let p = issuance.payload {
        guard (1...10).contains(p.copies) else { fail("copies \(p.copies) accepted") }
        if let members = p.members, members.isEmpty { fail("an empty members list accepted") }
    }
}

// MARK: Replica

func fuzzSyncBatch(_ bytes: [UInt8]) {
    guard let batch = try? SyncBatch.decode(bytes) else { return }
    guard batch.events.count <= SyncBatch.maxEvents else { fail("more than maxEvents accepted") }
    for (a, b) in zip(batch.events, batch.events.dropFirst()) where b.seq != a.seq + 1 {
        fail("seq does not increase by 1")
    }
}

func fuzzExtractLine(_ bytes: [UInt8]) {
    _ = try? Extract.decodeLine(bytes)
}

/// The extract with its trailer's `"sha256":"…"` replaced by the true checksum of the lines
/// before it, so that the fuzzer also reaches the checks made after the checksum (references).
func withTrueChecksum(_ bytes: [UInt8]) -> [UInt8]? {
    var end = bytes.count
    if end > 0 && bytes[end - 1] == 0x0A { end -= 1 }
    guard let lastLF = bytes[..<end].lastIndex(of: 0x0A) else { return nil }
    let key = Array(#""sha256":""#.utf8)
    let trailer = bytes[(lastLF + 1)..<end]
    guard let at = trailer.firstRange(of: key)?.upperBound, at + 64 <= end else { return nil }
    let digest = Array(SHA256.hex(SHA256.hash(Array(bytes[...lastLF]))).utf8)
    var fixed = bytes
    fixed.replaceSubrange(at..<(at + 64), with: digest)
    return fixed == bytes ? nil : fixed
}

let scratchFile = NSTemporaryDirectory() + "/kofu-fuzz-\(getpid()).extract"

func fuzzExtract(_ bytes: [UInt8]) {
    // Each scan hands blocks of lines to worker threads, which on this loaded machine costs a
    // scheduling delay per scan (the harness runs a few inputs a second, the CPU mostly idle): the
    // raw input is validated in memory, the one with the true checksum in memory and from a file.
    let fixed = withTrueChecksum(bytes)
    if fixed != nil { _ = try? Extract.validate(bytes: bytes, municipality: "999997") }
    do {
        let input = fixed ?? bytes
        let inMemory = Result { () throws(ExtractError) in try Extract.validate(bytes: input, municipality: "999997") }
        // The same bytes through the file reader (chunked reads, gzip detection on the file).
        // A plain write: FileManager.createFile writes atomically (fsync and rename), not needed here.
        guard let file = fopen(scratchFile, "wb"), fwrite(input, 1, input.count, file) == input.count, fclose(file) == 0 else {
            fail("cannot write \(scratchFile)")
        }
        let fromFile = Result { () throws(ExtractError) in try Extract.check(file: scratchFile, municipality: "999997") }
        switch (inMemory, fromFile) {
        case (.success(let e), .success(let s)):
            guard e.asOfSeq == s.asOfSeq, e.residents.count == s.residents, e.seals.count == s.seals,
                  e.cards.count == s.cards, e.restrictions.count == s.restrictions
            else { fail("validate and check disagree on an accepted extract") }
        case (.failure(let a), .failure(let b)):
            guard a == b else { fail("validate and check refuse differently: \(a) / \(b)") }
        default:
            fail("validate and check disagree: \(inMemory) / \(fromFile)")
        }
    }
}

// MARK: Certificates and CRLs

/// A trust store over the NIST PKITS root and its GoodCA (committed copies in Fuzz/trust/).
let trust: TrustStore = {
    let folder = repositoryRoot + "/Fuzz/trust"
    let crls = NSTemporaryDirectory() + "/kofu-fuzz-crls-\(getpid())"
    try? FileManager.default.createDirectory(atPath: crls, withIntermediateDirectories: true)
    do {
        return try TrustStore(anchorFiles: [folder + "/TrustAnchorRootCertificate.crt"],
                              intermediateFiles: [folder + "/GoodCACert.crt"],
                              crlDirectory: crls, policyOID: "2.16.840.1.101.3.2.1.48.1")
    } catch {
        fail("cannot set up the trust store: \(error)")
    }
}()

/// Inside the validity of the PKITS certificates (2010–2030).
let verificationTime = Date(timeIntervalSince1970: 1_700_000_000)

func fuzzCertificate(_ bytes: [UInt8]) {
    _ = try? TrustStore.checkCertificateFile(bytes)
    guard let card = try? CardCertificate(der: bytes) else { return }
    guard card.der == bytes, card.sha256Hex.utf8.count == 64 else { fail("CardCertificate does not keep its DER") }
    _ = try? trust.verify(card, at: verificationTime)
}

func fuzzCRL(_ bytes: [UInt8]) {
    _ = trust.acceptsCRL(bytes)
}

// MARK: Typesetting

func fuzzPNG(_ bytes: [UInt8]) {
    guard let image = try? PNGImage.decode(bytes) else { return }
    let limits = PNGLimits.default
    guard image.width >= 1, image.height >= 1, image.width <= limits.maxWidth, image.height <= limits.maxHeight,
          image.width * image.height <= limits.maxPixels
    else { fail("PNG of \(image.width)×\(image.height) accepted") }
    guard image.pixels.count == image.width * image.height * image.colorComponents else { fail("pixel buffer size") }
    if let alpha = image.alpha, alpha.count != image.width * image.height { fail("alpha buffer size") }
}

let fonts: FontStack = {
    do {
        return FontStack(base: try FontFace(path: "/usr/share/fonts/truetype/ipamj/ipamjm.ttf"),
                         gaiji: [try FontFace(path: repositoryRoot + "/Fonts/kofu-demo-gaiji.ttf")])
    } catch {
        fail("cannot load the fonts: \(error)")
    }
}()

func fuzzShape(_ bytes: [UInt8]) {
    let text = String(decoding: bytes, as: UTF8.self)
    do throws(TypesettingError) {
        let shaped = try fonts.shape(text)
        if !text.isEmpty && shaped.glyphs.isEmpty { fail("text shaped to no glyph") }
    } catch {
        // A precise error: GAIJI_UNRENDERABLE naming code points of the text, nothing else.
        guard error.code == .unrenderable else { fail("shaping failed with \(error.code.rawValue)") }
        let scalars = Set(text.unicodeScalars)
        guard !error.codePoints.isEmpty, error.codePoints.allSatisfy(scalars.contains) else {
            fail("the error names code points not in the text")
        }
    }
}

// MARK: Configuration

let configFolder: String = {
    let folder = NSTemporaryDirectory() + "/kofu-fuzz-config-\(getpid())"
    try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
    return folder
}()

func fuzzTOML(_ bytes: [UInt8]) {
    // The configuration file must be UTF-8 (KofuConfig.load refuses anything else).
    guard let text = String(validating: bytes, as: UTF8.self) else { return }
    _ = try? TOMLDocument.parse(text)
    _ = try? KofuConfig.parse(text, folder: configFolder)
}
