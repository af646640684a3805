@testable import CardAuth
import Foundation
import KofuTesting

/// One PKI for most tests: key generation is the slow part.
let pki: TestPKI = try! TestPKI(now: Date(timeIntervalSince1970: 1_800_000_000))
var now: Date { pki.now }

/// A fresh temporary folder.
func temporaryFolder() throws -> String {
    let path = NSTemporaryDirectory() + "kofu-cardauth-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// A trust folder of `pki` with its default CRLs, and a TrustStore over it.
func makeStore(_ pki: TestPKI = pki, intermediates: Bool = true) throws -> (store: TrustStore, crlDirectory: String) {
    let folder = try temporaryFolder()
    let files = try pki.writeTrust(to: folder)
    let store = try TrustStore(anchorFiles: [files.anchor], intermediateFiles: intermediates ? [files.intermediate] : [],
                               crlDirectory: files.crlDirectory, policyOID: TestPKI.policyOID)
    return (store, files.crlDirectory)
}

func card(_ options: TestPKI.CardOptions = .init()) throws -> CardCertificate {
    try CardCertificate(der: pki.issueCard(options).certificateDER)
}

/// The code `body` throws, nil when it does not throw.
func code(_ body: () throws(CardAuthError) -> Void) -> CardAuthError.Code? {
    do {
        try body()
        return nil
    } catch {
        return error.code
    }
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
