import Foundation

/// A configuration for the commands that touch only the replica (`sync apply`, `reseed`): every
/// required key present, the files it names as placeholders, `[replica] path = "replica"`.
public enum ReplicaOnlyConfig {
    /// Creates `folder` with `kofu.toml`, `crl/` and placeholder files; returns the configuration's path.
    @discardableResult
    public static func write(in folder: String) throws -> String {
        try FileManager.default.createDirectory(atPath: folder + "/crl", withIntermediateDirectories: true)
        for name in ["seal.png", "root.pem"] { try Data("x".utf8).write(to: URL(fileURLWithPath: folder + "/" + name)) }
        let path = folder + "/kofu.toml"
        try Data("""
            [municipality]
            code = "272078"
            name = "高槻市"
            authority = "高槻市長　高槻　太郎"
            official_seal = "seal.png"
            official_seal_mm = 21.0
            [listen]
            center = "127.0.0.1:8443"
            sync = "127.0.0.1:8444"
            [trust]
            anchors = ["root.pem"]
            crl_dir = "crl"
            policy_oid = "1.2.392.200149.8.5.1.3.30"
            [replica]
            path = "replica"
            [fonts]
            base = "\(Demo.baseFontPath)"
            [audit]
            path = "audit"
            """.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }
}
