import Foundation
import KofuDigest

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// What `stat` says about one `*.crl` file: enough to notice an addition, a rename into place,
/// a rewrite (even one of the same size within the same second: nanosecond mtime and ctime,
/// inode) or a removal, without reading the file.
struct FileStamp: Equatable, Sendable {
    let device: UInt64
    let inode: UInt64
    let size: Int64
    let modifiedSeconds: Int64, modifiedNanoseconds: Int64
    let changedSeconds: Int64, changedNanoseconds: Int64

    var modified: Double { Double(modifiedSeconds) + Double(modifiedNanoseconds) / 1e9 }
}

/// A CRL file as read and judged once: `crl` is nil when the file counts as absent.
final class LoadedCRL: @unchecked Sendable {
    let name: String
    let stamp: FileStamp
    let contentDigest: [UInt8]
    /// Read so soon after its last modification that a later rewrite might keep the same stamp
    /// (file system timestamps are coarser than a nanosecond); checked by content next time.
    let racy: Bool
    let crl: AcceptedCRL?
    /// Why the file counts as absent (nil when `crl` is set), for the operators' log.
    let problem: String?

    init(name: String, stamp: FileStamp, contentDigest: [UInt8], racy: Bool, crl: AcceptedCRL?, problem: String? = nil) {
        self.name = name
        self.stamp = stamp
        self.contentDigest = contentDigest
        self.racy = racy
        self.crl = crl
        self.problem = crl == nil ? (problem ?? "not a usable CRL") : nil
    }
}

/// How one `*.crl` file of `[trust] crl_dir` was judged when it was (re)read: loaded, or counted
/// as absent and why. No personal data: a file name and a reason.
public struct CRLNotice: Sendable, Equatable, CustomStringConvertible {
    public let file: String
    /// nil: loaded. Otherwise why the file counts as absent.
    public let problem: String?
    public var description: String { file + ": " + (problem.map { "counts as absent: " + $0 } ?? "loaded") }
}

/// A CRL that parsed, is a complete (not delta) CRL, and is signed by a configured CA.
final class AcceptedCRL: @unchecked Sendable {
    let object: CRLRef
    let issuerDER: [UInt8]
    let issuer: String
    let number: CRLRef.Number
    let thisUpdate: Int64
    let nextUpdate: Int64?

    init(object: CRLRef, issuerDER: [UInt8], issuer: String, number: CRLRef.Number, thisUpdate: Int64, nextUpdate: Int64?) {
        self.object = object
        self.issuerDER = issuerDER
        self.issuer = issuer
        self.number = number
        self.thisUpdate = thisUpdate
        self.nextUpdate = nextUpdate
    }

    func isValid(at time: Int64) -> Bool { thisUpdate <= time && nextUpdate.map { time < $0 } ?? true }

    /// Newest first: the highest CRLNumber, then the latest thisUpdate.
    static func newerFirst(_ a: AcceptedCRL, _ b: AcceptedCRL) -> Bool {
        a.number != b.number ? a.number > b.number : a.thisUpdate > b.thisUpdate
    }
}

/// The CRL set as last read; immutable, swapped whole under the trust store's lock.
final class CRLSet: @unchecked Sendable {
    let files: [String: LoadedCRL]
    /// Accepted CRLs by issuer name (DER), newest first.
    let byIssuer: [[UInt8]: [AcceptedCRL]]

    init(files: [String: LoadedCRL]) {
        self.files = files
        var groups: [[UInt8]: [AcceptedCRL]] = [:]
        for file in files.values {
            if let crl = file.crl { groups[crl.issuerDER, default: []].append(crl) }
        }
        byIssuer = groups.mapValues { $0.sorted(by: AcceptedCRL.newerFirst) }
    }

    static let empty = CRLSet(files: [:])

    /// Per issuer, the newest CRL valid at `time`: the only ones path validation sees.
    func chosen(at time: Int64) -> [AcceptedCRL] {
        byIssuer.values.compactMap { $0.first { $0.isValid(at: time) } }
    }
}

enum CRLFolder {
    /// The `*.crl` files of `directory` with their stamps; empty when the folder cannot be read.
    static func scan(_ directory: String) -> [String: FileStamp] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [:] }
        var result: [String: FileStamp] = [:]
        for name in names where name.hasSuffix(".crl") && !name.hasPrefix(".") {
            var info = stat()
            guard stat(directory + "/" + name, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else { continue }
            result[name] = FileStamp(
                device: UInt64(info.st_dev), inode: UInt64(info.st_ino), size: Int64(info.st_size),
                modifiedSeconds: Int64(info.st_mtim.tv_sec), modifiedNanoseconds: Int64(info.st_mtim.tv_nsec),
                changedSeconds: Int64(info.st_ctim.tv_sec), changedNanoseconds: Int64(info.st_ctim.tv_nsec))
        }
        return result
    }

    static func realTimeNow() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1e9
    }
}
