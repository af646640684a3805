import Foundation
import KofuDigest

/// The keyed hashes of operations.md: memberIds the center sees and opaque references in logs and
/// the audit log. The key (32 random bytes) is created on first start in the `[audit]` folder,
/// readable by its owner only, and kept across restarts and reseeds, so a resident's memberId
/// never changes. Neither value reveals the 住民票コード without the key.
public struct KeyedHasher: Sendable {
    public static let fileName = "keyed-hash.key"
    private let key: [UInt8]

    public struct KeyError: Error, CustomStringConvertible, Sendable {
        public let path: String
        public let message: String
        public var description: String { "\(path): \(message)" }
    }

    public init(key: [UInt8]) { self.key = key }

    /// Loads the key from `folder`, creating it (mode 0600, written and synced before use) on first start.
    public static func loadOrCreate(folder: String) throws(KeyError) -> KeyedHasher {
        let path = folder + "/" + fileName
        try? FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if let data = FileManager.default.contents(atPath: path) {
            guard data.count == 32 else { throw KeyError(path: path, message: "not a 32-byte key (\(data.count) bytes)") }
            return KeyedHasher(key: Array(data))
        }
        if FileManager.default.fileExists(atPath: path) { throw KeyError(path: path, message: "cannot read") }
        var generator = SystemRandomNumberGenerator()
        let key = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
        guard fd >= 0 else { throw KeyError(path: path, message: "cannot create (errno \(errno))") }
        defer { close(fd) }
        let written = key.withUnsafeBytes { write(fd, $0.baseAddress, 32) }
        guard written == 32, fsync(fd) == 0 else { throw KeyError(path: path, message: "cannot write (errno \(errno))") }
        let dir = open(folder, O_RDONLY)
        if dir >= 0 { fsync(dir); close(dir) }
        return KeyedHasher(key: key)
    }

    /// `m_` + 26 base32 characters (130 bits of HMAC-SHA-256): the same for every requester,
    /// across requests, restarts, reseeds, deletion and restoration.
    public func memberId(_ juminhyoCode: String) -> String {
        "m_" + Base32.encode(HMACSHA256.authenticate(Array(("member\u{0}" + juminhyoCode).utf8), key: key), characters: 26)
    }

    /// `r_` + 16 base32 characters: the opaque reference of logs, metrics and the audit log.
    public func reference(_ juminhyoCode: String) -> String {
        "r_" + Base32.encode(HMACSHA256.authenticate(Array(("reference\u{0}" + juminhyoCode).utf8), key: key), characters: 16)
    }
}

/// 交付番号: 16 characters of Crockford-style base32 (no I, L, O, U), 80 bits from the system's
/// cryptographic random source, so that numbers cannot be enumerated or guessed.
public enum IssuanceID {
    public static func generate() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<10).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Base32.encode(bytes, characters: 16)
    }

    /// The form a 交付番号 has; anything else cannot name an issuance.
    public static func isWellFormed(_ s: String) -> Bool {
        s.utf8.count == 16 && s.utf8.allSatisfy { Base32.alphabet.contains($0) }
    }
}

enum Base32 {
    static let alphabet = Array("0123456789ABCDEFGHJKMNPQRSTVWXYZ".utf8)

    static func encode(_ bytes: [UInt8], characters: Int) -> String {
        var out: [UInt8] = []
        var buffer = 0
        var bits = 0
        for b in bytes {
            buffer = (buffer << 8) | Int(b)
            bits += 8
            while bits >= 5, out.count < characters {
                out.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
            buffer &= (1 << bits) - 1
        }
        return String(decoding: out, as: UTF8.self)
    }
}
