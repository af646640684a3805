@testable import CardAuth
import Foundation
import KofuTesting
import Testing

private let day: TimeInterval = 86_400

private func verify(_ store: TrustStore, _ options: TestPKI.CardOptions = .init(), at time: Date = now) throws -> CardAuthError.Code? {
    let certificate = try card(options)
    return code { () throws(CardAuthError) in try store.verify(certificate, at: time) }
}

private func write(_ bytes: [UInt8], _ path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
}

@Suite struct PathValidation {
    @Test func validCard() throws {
        let (store, _) = try makeStore()
        #expect(try verify(store) == nil)
        #expect(store.hasValidCRL(at: now))
    }

    @Test(arguments: [
        (TestPKI.CardOptions(notBefore: -2 * day, notAfter: -day), CardAuthError.Code?.some(.cardCertExpired)),
        (TestPKI.CardOptions(notBefore: -2 * day, notAfter: -1), .some(.cardCertExpired)),
        (TestPKI.CardOptions(notBefore: -2 * day, notAfter: 0), nil),   // notAfter inclusive
        (TestPKI.CardOptions(notBefore: -2 * day, notAfter: 1), nil),
        (TestPKI.CardOptions(notBefore: day, notAfter: 2 * day), .some(.cardCertExpired)),
        (TestPKI.CardOptions(notBefore: 1, notAfter: 2 * day), .some(.cardCertExpired)),
        (TestPKI.CardOptions(notBefore: 0, notAfter: 2 * day), nil),
    ])
    func validityPeriod(_ options: TestPKI.CardOptions, _ expected: CardAuthError.Code?) throws {
        let (store, _) = try makeStore()
        #expect(try verify(store, options) == expected)
    }

    @Test func fractionalValidationTimeIsTruncatedToTheSecond() throws {
        let (store, _) = try makeStore()
        let certificate = try card(.init(notAfter: 0))
        let t = Date(timeIntervalSince1970: floor(now.timeIntervalSince1970) + 0.75)
        #expect(code { () throws(CardAuthError) in try store.verify(certificate, at: t) } == nil)
        #expect(code { () throws(CardAuthError) in try store.verify(certificate, at: t + 1) } == .cardCertExpired)
    }

    @Test func policies() throws {
        let (store, _) = try makeStore()
        #expect(try verify(store, .init(policyOID: "1.2.392.200149.8.5.1.3.31")) == .cardCertUntrusted)
        #expect(try verify(store, .init(policyOID: "2.5.29.32.0")) == .cardCertUntrusted)  // the card itself must assert the OID
        #expect(try verify(store, .init(includePolicy: false)) == .cardCertUntrusted)
    }

    @Test func intermediatePolicyAssertions() throws {
        let anyPolicy = try TestPKI(now: now, intermediatePolicy: .anyPolicy)
        let (anyStore, _) = try makeStore(anyPolicy)
        let good = try CardCertificate(der: anyPolicy.issueCard().certificateDER)
        #expect(code { () throws(CardAuthError) in try anyStore.verify(good, at: now) } == nil)

        let other = try TestPKI(now: now, intermediatePolicy: .other("1.2.392.200149.8.5.1.3.31"))
        let (otherStore, _) = try makeStore(other)
        let card2 = try CardCertificate(der: other.issueCard().certificateDER)
        #expect(code { () throws(CardAuthError) in try otherStore.verify(card2, at: now) } == .cardCertUntrusted)

        let none = try TestPKI(now: now, intermediatePolicy: .none)
        let (noneStore, _) = try makeStore(none)
        let card3 = try CardCertificate(der: none.issueCard().certificateDER)
        #expect(code { () throws(CardAuthError) in try noneStore.verify(card3, at: now) } == .cardCertUntrusted)
    }

    @Test func keyUsage() throws {
        let (store, _) = try makeStore()
        #expect(try verify(store, .init(keyUsage: [.keyEncipherment])) == .cardCertUntrusted)
        #expect(try verify(store, .init(keyUsage: [.nonRepudiation])) == .cardCertUntrusted)
        #expect(try verify(store, .init(keyUsage: nil)) == .cardCertUntrusted)
        #expect(try verify(store, .init(keyUsage: [.digitalSignature, .keyEncipherment])) == nil)
    }

    @Test func unknownCriticalExtension() throws {
        let (store, _) = try makeStore()
        #expect(try verify(store, .init(extraCriticalExtension: true)) == .cardCertUntrusted)
    }

    @Test func untrustedIssuerAndCAAsCard() throws {
        let (store, _) = try makeStore()
        // The untrusted CA has the intermediate's very subject name: only the signature differs.
        #expect(try verify(store, .init(issuer: .untrusted)) == .cardCertUntrusted)
        #expect(try verify(store, .init(isCA: true)) == .cardCertUntrusted)
        // An anchor is not a card.
        let anchor = try CardCertificate(der: pki.rootDER())
        #expect(code { () throws(CardAuthError) in try store.verify(anchor, at: now) } == .cardCertUntrusted)
    }

    @Test func untrustedWinsOverExpiredAndExpiredOverRevoked() throws {
        let (store, crl) = try makeStore()
        #expect(try verify(store, .init(notAfter: -1, issuer: .untrusted)) == .cardCertUntrusted)
        let expired = try pki.issueCard(.init(notBefore: -2 * day, notAfter: -day))
        try write(pki.makeCRL(revoking: [expired], thisUpdate: now - 60, nextUpdate: now + day, number: 2), crl + "/new.crl")
        store.refreshCRLs()
        let certificate = try CardCertificate(der: expired.certificateDER)
        #expect(code { () throws(CardAuthError) in try store.verify(certificate, at: now) } == .cardCertExpired)
        try FileManager.default.removeItem(atPath: crl + "/new.crl")
        try FileManager.default.removeItem(atPath: crl + "/intermediate.crl")
        store.refreshCRLs()
        #expect(code { () throws(CardAuthError) in try store.verify(certificate, at: now) } == .cardCertExpired)
        #expect(try verify(store, .init(keyUsage: nil)) == .cardCertUntrusted)
        #expect(try verify(store) == .revocationUnavailable)
    }
}

@Suite struct Revocation {
    @Test func revokedCard() throws {
        let (store, crl) = try makeStore()
        let revoked = try pki.issueCard(), other = try pki.issueCard()
        try write(pki.makeCRL(revoking: [revoked], thisUpdate: now - 60, nextUpdate: now + day, number: 2), crl + "/intermediate-2.crl")
        store.refreshCRLs()
        #expect(code { () throws(CardAuthError) in try store.verify(CardCertificate(der: revoked.certificateDER), at: now) } == .cardCertRevoked)
        #expect(code { () throws(CardAuthError) in try store.verify(CardCertificate(der: other.certificateDER), at: now) } == nil)
    }

    @Test func revokedIntermediate() throws {
        let (store, crl) = try makeStore()
        try write(pki.makeCRL(revoking: [], revokingIntermediate: true, issuer: .root, thisUpdate: now - 60,
                              nextUpdate: now + day, number: 2), crl + "/root-2.crl")
        store.refreshCRLs()
        #expect(try verify(store) == .cardCertRevoked)
    }

    @Test func missingCRLs() throws {
        let (store, crl) = try makeStore()
        try FileManager.default.removeItem(atPath: crl + "/root.crl")
        store.refreshCRLs()
        #expect(try verify(store) == nil)  // the intermediate's issuer has no CRL: checked only when present
        try FileManager.default.removeItem(atPath: crl + "/intermediate.crl")
        store.refreshCRLs()
        #expect(try verify(store) == .revocationUnavailable)
        #expect(!store.hasValidCRL(at: now))
        #expect(store.crlAges(at: now).isEmpty)
    }

    @Test func crlPastNextUpdateOrNotYetValid() throws {
        let (store, crl) = try makeStore()
        try write(pki.makeCRL(revoking: [], thisUpdate: now - 2 * day, nextUpdate: now - 1, number: 1), crl + "/intermediate.crl")
        store.refreshCRLs()
        #expect(try verify(store) == .revocationUnavailable)
        #expect(!store.hasValidCRL(at: now))
        try write(pki.makeCRL(revoking: [], thisUpdate: now - 2 * day, nextUpdate: now, number: 1), crl + "/intermediate.crl")
        store.refreshCRLs()
        #expect(try verify(store) == .revocationUnavailable)  // thisUpdate ≤ time < nextUpdate
        try write(pki.makeCRL(revoking: [], thisUpdate: now + 1, nextUpdate: now + day, number: 1), crl + "/intermediate.crl")
        store.refreshCRLs()
        #expect(try verify(store) == .revocationUnavailable)
        #expect(try verify(store, at: now + 1) == nil)
    }

    @Test func newestValidCRLDecides() throws {
        let (store, crl) = try makeStore()
        let target = try pki.issueCard()
        let certificate = try CardCertificate(der: target.certificateDER)
        func result() -> CardAuthError.Code? {
            store.refreshCRLs()
            return code { () throws(CardAuthError) in try store.verify(certificate, at: now) }
        }
        try write(pki.makeCRL(revoking: [target], thisUpdate: now - 60, nextUpdate: now + day, number: 5), crl + "/b.crl")
        #expect(result() == .cardCertRevoked)
        // A higher CRLNumber that no longer lists it (e.g. a suspension lifted) wins, whatever the file name.
        try write(pki.makeCRL(revoking: [], thisUpdate: now - 120, nextUpdate: now + day, number: 6), crl + "/a.crl")
        #expect(result() == nil)
        // The same CRLNumber with a later thisUpdate wins.
        try write(pki.makeCRL(revoking: [target], thisUpdate: now - 30, nextUpdate: now + day, number: 6), crl + "/c.crl")
        #expect(result() == .cardCertRevoked)
        // The newest has expired: the newest currently valid one decides.
        try write(pki.makeCRL(revoking: [], thisUpdate: now - 2 * day, nextUpdate: now - 1, number: 9), crl + "/d.crl")
        #expect(result() == .cardCertRevoked)
        // A CRL without CRLNumber counts as the oldest.
        try write(pki.makeCRL(revoking: [], thisUpdate: now - 1, nextUpdate: now + day, number: nil), crl + "/e.crl")
        #expect(result() == .cardCertRevoked)
    }

    @Test func unusableCRLFilesCountAsAbsent() throws {
        let (store, crl) = try makeStore()
        let target = try pki.issueCard()
        let certificate = try CardCertificate(der: target.certificateDER)
        func result() -> CardAuthError.Code? {
            store.refreshCRLs()
            return code { () throws(CardAuthError) in try store.verify(certificate, at: now) }
        }
        try write(bytes("not a CRL"), crl + "/garbage.crl")
        try write([], crl + "/empty.crl")
        let good = try pki.makeCRL(revoking: [target], thisUpdate: now - 60, nextUpdate: now + day, number: 2)
        try write(Array(good.dropLast()), crl + "/truncated.crl")
        try write(good + [0], crl + "/trailing.crl")
        #expect(result() == nil)
        // Signed with another key under the intermediate's name, CRLNumber higher: ignored.
        try write(pki.makeCRL(revoking: [], thisUpdate: now - 10, nextUpdate: now + day, number: 99, signature: .wrongKey),
                  crl + "/forged.crl")
        try write(good, crl + "/intermediate-2.crl")
        #expect(result() == .cardCertRevoked)
        // A file not named *.crl is not a CRL of the folder.
        try FileManager.default.removeItem(atPath: crl + "/intermediate-2.crl")
        try write(good, crl + "/intermediate-2.crl.tmp")
        #expect(result() == nil)
        // Only forged and unparseable CRLs left: none valid.
        try FileManager.default.removeItem(atPath: crl + "/intermediate.crl")
        #expect(result() == .revocationUnavailable)
    }

    @Test func pemCRL() throws {
        let (store, crl) = try makeStore()
        let target = try pki.issueCard()
        try write(pki.makeCRL(revoking: [target], thisUpdate: now - 60, nextUpdate: now + day, number: 2, pem: true), crl + "/pem.crl")
        store.refreshCRLs()
        #expect(code { () throws(CardAuthError) in try store.verify(CardCertificate(der: target.certificateDER), at: now) } == .cardCertRevoked)
    }
}

@Suite struct CRLFolderChanges {
    @Test func addRenameRewriteRemove() throws {
        let (store, crl) = try makeStore()
        let target = try pki.issueCard()
        let certificate = try CardCertificate(der: target.certificateDER)
        func result() -> CardAuthError.Code? {
            store.refreshCRLs()
            return code { () throws(CardAuthError) in try store.verify(certificate, at: now) }
        }
        #expect(result() == nil)
        // Renamed into place.
        let revoking = try pki.makeCRL(revoking: [target], thisUpdate: now - 60, nextUpdate: now + day, number: 2)
        try Data(revoking).write(to: URL(fileURLWithPath: crl + "/.incoming"))
        #expect(result() == nil)
        try FileManager.default.moveItem(atPath: crl + "/.incoming", toPath: crl + "/intermediate-2.crl")
        #expect(result() == .cardCertRevoked)
        // Rewritten in place (same inode), same size, within the same second.
        let lifting = try pki.makeCRL(revoking: [], thisUpdate: now - 60, nextUpdate: now + day, number: 3)
        let revokingAgain = try pki.makeCRL(revoking: [target], thisUpdate: now - 60, nextUpdate: now + day, number: 4)
        let handle = try #require(FileHandle(forWritingAtPath: crl + "/intermediate-2.crl"))
        try handle.truncate(atOffset: 0)
        try handle.write(contentsOf: lifting)
        try handle.close()
        #expect(result() == nil)
        // Rewritten in place again with different content (sizes may differ; the same-size case is
        // sameSizeRewriteWithinTheSameStamp).
        do {
            let h2 = try #require(FileHandle(forWritingAtPath: crl + "/intermediate-2.crl"))
            try h2.truncate(atOffset: 0)
            try h2.write(contentsOf: revokingAgain)
            try h2.close()
            #expect(result() == .cardCertRevoked)
        }
        // Removed.
        try FileManager.default.removeItem(atPath: crl + "/intermediate-2.crl")
        #expect(result() == nil)
    }

    @Test func sameSizeRewriteWithinTheSameStamp() throws {
        // Two CRLs of exactly the same size, written over each other in place as fast as possible.
        let (store, crl) = try makeStore()
        let a = try pki.issueCard(), b = try pki.issueCard()
        let revokeA = try pki.makeCRL(revoking: [a], thisUpdate: now - 60, nextUpdate: now + day, number: 2)
        let revokeB = try pki.makeCRL(revoking: [b], thisUpdate: now - 60, nextUpdate: now + day, number: 2)
        try #require(revokeA.count == revokeB.count)
        let path = crl + "/intermediate-2.crl"
        try Data(revokeA).write(to: URL(fileURLWithPath: path))
        store.refreshCRLs()
        let handle = try #require(FileHandle(forWritingAtPath: path))
        try handle.seek(toOffset: 0)
        try handle.write(contentsOf: revokeB)
        try handle.close()
        store.refreshCRLs()
        #expect(code { () throws(CardAuthError) in try store.verify(CardCertificate(der: a.certificateDER), at: now) } == nil)
        #expect(code { () throws(CardAuthError) in try store.verify(CardCertificate(der: b.certificateDER), at: now) } == .cardCertRevoked)
    }

    @Test func folderRemovedMeansNoCRL() throws {
        let (store, crl) = try makeStore()
        try FileManager.default.removeItem(atPath: crl)
        store.refreshCRLs()
        #expect(try verify(store) == .revocationUnavailable)
    }

    @Test func readinessAndAges() throws {
        let (store, crl) = try makeStore()
        #expect(store.hasValidCRL(at: now))
        #expect(!store.hasValidCRL(at: now + day))
        #expect(!store.hasValidCRL(at: now - 2 * 3600))
        let ages = store.crlAges(at: now)
        #expect(ages.count == 2)
        #expect(ages.allSatisfy { abs($0.seconds - 3600 - (now.timeIntervalSince1970 - floor(now.timeIntervalSince1970))) < 0.001 })
        #expect(ages.contains { $0.issuer.contains("OU=JPKI for user authentication") && $0.issuer.hasPrefix("OU=kofu test") })
        // A newer CRL of the intermediate: its age is the newest one's.
        try Data(pki.makeCRL(revoking: [], thisUpdate: now - 60, nextUpdate: now + day, number: 2))
            .write(to: URL(fileURLWithPath: crl + "/new.crl"))
        store.refreshCRLs()
        let intermediateAge = store.crlAges(at: now).first { $0.issuer.contains("user authentication") }
        #expect(intermediateAge.map { Int($0.seconds) } == 60)
        // Only the root's CRL: not ready, since the intermediate issues the cards.
        try FileManager.default.removeItem(atPath: crl + "/intermediate.crl")
        try FileManager.default.removeItem(atPath: crl + "/new.crl")
        store.refreshCRLs()
        #expect(!store.hasValidCRL(at: now))
    }

    @Test func anchorsOnlyConfiguration() throws {
        let (store, _) = try makeStore(intermediates: false)
        #expect(store.hasValidCRL(at: now))  // the root's CRL: the anchor issues the cards now
        #expect(try verify(store) == .cardCertUntrusted)  // the intermediate is not configured
        #expect(try verify(store, .init(issuer: .root)) == nil)
    }
}

@Suite struct Configuration {
    @Test func errors() throws {
        let folder = try temporaryFolder()
        let files = try pki.writeTrust(to: folder)
        func error(_ anchors: [String], _ intermediates: [String] = [], crl: String? = nil, oid: String = TestPKI.policyOID) -> String? {
            do {
                _ = try TrustStore(anchorFiles: anchors, intermediateFiles: intermediates, crlDirectory: crl ?? files.crlDirectory, policyOID: oid)
                return nil
            } catch { return error.file }
        }
        #expect(error([files.anchor], [files.intermediate]) == nil)
        #expect(error([]) == "[trust] anchor_files")
        #expect(error([folder + "/missing.pem"]) == folder + "/missing.pem")
        try Data("junk".utf8).write(to: URL(fileURLWithPath: folder + "/junk.pem"))
        #expect(error([files.anchor], [folder + "/junk.pem"]) == folder + "/junk.pem")
        let leaf = folder + "/leaf.pem"
        try Data(pki.issueCard().certificatePEM().utf8).write(to: URL(fileURLWithPath: leaf))
        #expect(error([leaf]) == leaf)
        #expect(error([files.anchor], oid: "not.an.oid") == "[trust] policy_oid")
        #expect(error([files.anchor], oid: "") == "[trust] policy_oid")
        #expect(error([files.anchor], crl: folder + "/nope") == folder + "/nope")
        // DER anchors and a PEM file with both CA certificates work too.
        try Data(pki.rootDER()).write(to: URL(fileURLWithPath: folder + "/root.der"))
        try Data((pki.rootPEM() + pki.intermediatePEM()).utf8).write(to: URL(fileURLWithPath: folder + "/both.pem"))
        #expect(error([folder + "/root.der"], [folder + "/both.pem"]) == nil)
    }
}

@Suite struct Concurrency {
    @Test func concurrentVerifyAndRefresh() throws {
        let (store, crl) = try makeStore()
        let cards = try (0..<8).map { _ in try CardCertificate(der: pki.issueCard().certificateDER) }
        let failures = LockedCounter()
        DispatchQueue.concurrentPerform(iterations: 400) { i in
            if i % 50 == 0 {
                try? Data(pki.makeCRL(revoking: [], thisUpdate: now - 60, nextUpdate: now + day, number: 2 + i))
                    .write(to: URL(fileURLWithPath: crl + "/n\(i % 3).crl"), options: .atomic)
                store.refreshCRLs()
            }
            do { try store.verify(cards[i % cards.count], at: now) } catch { failures.increment() }
        }
        #expect(failures.value == 0)
    }

    @Test func throughput() throws {
        let (store, _) = try makeStore()
        let certificate = try card()
        let n = 500
        let start = DispatchTime.now()
        for _ in 0..<n { try store.verify(certificate, at: now) }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
        print("CardAuth: \(n) verifications in \(seconds) s, \(Int(Double(n) / seconds))/s (debug build, one thread)")
        #expect(seconds < 10)
    }
}

final class LockedCounter: @unchecked Sendable {
    private let lock = NSLock()
    private var count = 0
    func increment() { lock.lock(); count += 1; lock.unlock() }
    var value: Int { lock.lock(); defer { lock.unlock() }; return count }
}
