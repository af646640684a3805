import KofuDigest

enum HMACTestVector {
    static var case2: [UInt8] { HMACSHA256.authenticate(Array("what do ya want for nothing?".utf8), key: Array("Jefe".utf8)) }
}

enum KofuDigestHex {
    static func hex(_ bytes: [UInt8]) -> String { SHA256.hex(bytes) }
}

enum SHA256Bytes {
    static func of(_ s: String) -> [UInt8] { SHA256.hash(Array(s.utf8)) }
}
