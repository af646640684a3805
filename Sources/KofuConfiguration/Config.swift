import Foundation

/// A refused configuration: the key (`trust.crl_dir`) or file it concerns, and why.
/// `kofu` prints it and exits 1 before any listener opens.
public struct ConfigError: Error, Equatable, CustomStringConvertible, Sendable {
    public let key: String?
    public let line: Int?
    public let message: String

    public var description: String {
        var s = ""
        if let key { s += key }
        if let line { s += (s.isEmpty ? "" : " ") + "(line \(line))" }
        return (s.isEmpty ? "" : s + ": ") + message
    }
}

/// A listen address: host and port, as written.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int
    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// 127.0.0.0/8, ::1 or localhost.
    public var isLoopback: Bool {
        if host == "localhost" || host == "::1" { return true }
        let parts = host.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    static func parse(_ text: String) -> ListenAddress? {
        let host: Substring, port: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]"), text[text.index(after: close)...].hasPrefix(":") else { return nil }
            host = text[text.index(after: text.startIndex)..<close]
            port = text[text.index(close, offsetBy: 2)...]
        } else {
            guard let colon = text.lastIndex(of: ":"), !text[..<colon].contains(":") else { return nil }
            host = text[..<colon]
            port = text[text.index(after: colon)...]
        }
        guard !host.isEmpty, port.allSatisfy(\.isASCII), let p = Int(port), (1...65535).contains(p) else { return nil }
        return ListenAddress(host: String(host), port: p)
    }
}

/// Service hours in Japan time: minutes from midnight, start inclusive, end exclusive.
public struct ServiceHours: Sendable, Equatable {
    public let startMinute: Int
    public let endMinute: Int

    public init(startMinute: Int, endMinute: Int) {
        self.startMinute = startMinute
        self.endMinute = endMinute
    }

    public func contains(minuteOfDay m: Int) -> Bool { m >= startMinute && m < endMinute }

    static func parse(_ text: String) -> ServiceHours? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let start = minutes(parts[0], allow24: false), let end = minutes(parts[1], allow24: true),
              start < end else { return nil }
        return ServiceHours(startMinute: start, endMinute: end)
    }

    private static func minutes(_ s: Substring, allow24: Bool) -> Int? {
        let b = Array(s.utf8)
        guard b.count == 5, b[2] == UInt8(ascii: ":"), [0, 1, 3, 4].allSatisfy({ (48...57).contains(b[$0]) }) else { return nil }
        let h = Int(b[0] - 48) * 10 + Int(b[1] - 48), m = Int(b[3] - 48) * 10 + Int(b[4] - 48)
        if h == 24 && m == 0 && allow24 { return 24 * 60 }
        guard h < 24, m < 60 else { return nil }
        return h * 60 + m
    }
}

/// A closed day, every year.
public struct MonthDay: Sendable, Hashable {
    public let month: Int
    public let day: Int

    init(month: Int, day: Int) {
        self.month = month
        self.day = day
    }

    /// "MM-DD", as `[issuance] closed` writes it.
    public init?(_ text: String) {
        guard let parsed = MonthDay.parse(text) else { return nil }
        self = parsed
    }

    static func parse(_ text: String) -> MonthDay? {
        let b = Array(text.utf8)
        guard b.count == 5, b[2] == UInt8(ascii: "-"), [0, 1, 3, 4].allSatisfy({ (48...57).contains(b[$0]) }) else { return nil }
        let m = Int(b[0] - 48) * 10 + Int(b[1] - 48), d = Int(b[3] - 48) * 10 + Int(b[4] - 48)
        let days = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
        guard (1...12).contains(m), (1...days[m - 1]).contains(d) else { return nil }
        return MonthDay(month: m, day: d)
    }
}

/// The whole configuration of operations.md, validated once at start. Paths are absolute
/// (resolved against the configuration file's folder) and every file named has been read.
public struct KofuConfig: Sendable {
    public struct Municipality: Sendable {
        public let code: String
        public let name: String
        public let authority: String
        public let officialSeal: String
        public let officialSealMm: Double
    }
    public struct Listen: Sendable {
        public let center: ListenAddress
        public let sync: ListenAddress
    }
    public struct TLS: Sendable {
        public let centerCert: String
        public let centerKey: String
        public let centerClientCA: String?
        public let syncCert: String
        public let syncKey: String
        public let syncClientCA: String?
    }
    public struct Trust: Sendable {
        public let anchors: [String]
        public let intermediates: [String]
        public let crlDir: String
        public let policyOID: String
        public let clockSkewSeconds: Int
    }
    public enum Replica: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)
    }
    public struct Fonts: Sendable {
        public let base: String
        public let gaiji: [String]
    }
    public struct Issuance: Sendable {
        public let minRequesterAge: Int
        public let hours: ServiceHours
        public let closed: [MonthDay]
    }
    public struct Audit: Sendable {
        public let path: String
        public let retentionYears: Int
    }

    public let file: String
    public let municipality: Municipality
    public let listen: Listen
    public let tls: TLS?
    public let trust: Trust
    public let replica: Replica
    public let fonts: Fonts
    public let issuance: Issuance
    public let audit: Audit

    /// Reads and validates the file. Fails on an unreadable file, a TOML error, an unknown table
    /// or key, a wrong type, a missing required key, a bad value, or an unreadable file it names.
    public static func load(path: String) throws(ConfigError) -> KofuConfig {
        let url = URL(fileURLWithPath: path)
        guard let data = FileManager.default.contents(atPath: url.path) else {
            throw ConfigError(key: nil, line: nil, message: "cannot read configuration file \(path)")
        }
        guard let text = String(validatingUTF8Bytes: data) else {
            throw ConfigError(key: nil, line: nil, message: "\(path) is not UTF-8")
        }
        return try parse(text, folder: url.deletingLastPathComponent().path, file: url.path)
    }

    public static func parse(_ text: String, folder: String, file: String = "(configuration)") throws(ConfigError) -> KofuConfig {
        let document: TOMLDocument
        do {
            document = try TOMLDocument.parse(text)
        } catch {
            throw ConfigError(key: nil, line: error.line, message: error.message)
        }
        var reader = Reader(document: document, folder: folder)
        return try reader.config(file: file)
    }

    /// 全国地方公共団体コード: five digits and a check digit (11 minus the weighted sum mod 11,
    /// weights 6…2, last digit of the result).
    public static func isValidMunicipalityCode(_ code: String) -> Bool {
        let d = code.utf8.map { Int($0) - 48 }
        guard d.count == 6, d.allSatisfy({ (0...9).contains($0) }) else { return false }
        let sum = zip(d.prefix(5), [6, 5, 4, 3, 2]).reduce(0) { $0 + $1.0 * $1.1 }
        return (11 - sum % 11) % 10 == d[5]
    }
}

extension String {
    init?(validatingUTF8Bytes data: Data) {
        guard let s = String(data: data, encoding: .utf8) else { return nil }
        self = s
    }
}

/// Walks the document table by table, marking what it reads, so that whatever is left over
/// is reported as unknown.
struct Reader {
    let document: TOMLDocument
    let folder: String
    var used: Set<String> = []

    static let known: [String: Set<String>] = [
        "municipality": ["code", "name", "authority", "official_seal", "official_seal_mm"],
        "listen": ["center", "sync"],
        "tls": ["center_cert", "center_key", "center_client_ca", "sync_cert", "sync_key", "sync_client_ca"],
        "trust": ["anchors", "intermediates", "crl_dir", "policy_oid", "clock_skew_seconds"],
        "replica": ["path", "url"],
        "fonts": ["base", "gaiji"],
        "issuance": ["min_requester_age", "hours", "closed"],
        "audit": ["path", "retention_years"],
    ]

    func entry(_ table: String, _ key: String) -> TOMLEntry? { document[table]?.first { $0.key == key } }

    func fail(_ table: String, _ key: String, _ message: String) -> ConfigError {
        ConfigError(key: "\(table).\(key)", line: entry(table, key)?.line, message: message)
    }

    func raw(_ table: String, _ key: String, required: Bool) throws(ConfigError) -> TOMLValue? {
        guard let entry = entry(table, key) else {
            if required { throw ConfigError(key: "\(table).\(key)", line: nil, message: "required key missing") }
            return nil
        }
        return entry.value
    }

    func string(_ t: String, _ k: String, required: Bool = true) throws(ConfigError) -> String? {
        guard let v = try raw(t, k, required: required) else { return nil }
        guard case .string(let s) = v else { throw fail(t, k, "expected a string, found \(v.typeName)") }
        guard !s.isEmpty else { throw fail(t, k, "must not be empty") }
        return s
    }

    func int(_ t: String, _ k: String, default value: Int, range: ClosedRange<Int>) throws(ConfigError) -> Int {
        guard let v = try raw(t, k, required: false) else { return value }
        guard case .integer(let i) = v else { throw fail(t, k, "expected an integer, found \(v.typeName)") }
        guard range.contains(Int(i)) else { throw fail(t, k, "\(i) is outside \(range.lowerBound)…\(range.upperBound)") }
        return Int(i)
    }

    func strings(_ t: String, _ k: String, required: Bool) throws(ConfigError) -> [String]? {
        guard let v = try raw(t, k, required: required) else { return nil }
        guard case .array(let items) = v else { throw fail(t, k, "expected an array of strings, found \(v.typeName)") }
        var out: [String] = []
        for item in items {
            guard case .string(let s) = item, !s.isEmpty else { throw fail(t, k, "expected an array of non-empty strings") }
            out.append(s)
        }
        return out
    }

    func resolve(_ path: String) -> String {
        path.hasPrefix("/") ? path : URL(fileURLWithPath: folder).appendingPathComponent(path).standardizedFileURL.path
    }

    /// A file the server reads at start: it must exist and be readable now.
    func readableFile(_ t: String, _ k: String, _ path: String) throws(ConfigError) -> String {
        let full = resolve(path)
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory), !isDirectory.boolValue,
              FileManager.default.isReadableFile(atPath: full) else {
            throw fail(t, k, "cannot read file \(full)")
        }
        return full
    }

    func directory(_ t: String, _ k: String, _ path: String, mustExist: Bool) throws(ConfigError) -> String {
        let full = resolve(path)
        var isDirectory: ObjCBool = false
        let exists = FileManager.default.fileExists(atPath: full, isDirectory: &isDirectory)
        if exists && !isDirectory.boolValue { throw fail(t, k, "\(full) is not a folder") }
        if !exists {
            if mustExist { throw fail(t, k, "folder \(full) does not exist") }
            let parent = URL(fileURLWithPath: full).deletingLastPathComponent().path
            guard FileManager.default.fileExists(atPath: parent) else { throw fail(t, k, "the folder holding \(full) does not exist") }
        }
        return full
    }

    mutating func config(file: String) throws(ConfigError) -> KofuConfig {
        for table in document.tables {
            if table.name.isEmpty {
                if let first = table.entries.first {
                    throw ConfigError(key: first.key, line: first.line, message: "unknown key outside any table")
                }
                continue
            }
            guard let keys = Reader.known[table.name] else {
                throw ConfigError(key: "[\(table.name)]", line: table.line, message: "unknown table")
            }
            for entry in table.entries where !keys.contains(entry.key) {
                throw ConfigError(key: "\(table.name).\(entry.key)", line: entry.line, message: "unknown key")
            }
        }
        for required in ["municipality", "listen", "trust", "replica", "fonts", "audit"] where document[required] == nil {
            throw ConfigError(key: "[\(required)]", line: nil, message: "required table missing")
        }

        let m = "municipality"
        let code = try string(m, "code")!
        guard KofuConfig.isValidMunicipalityCode(code) else {
            throw fail(m, "code", "\(code) is not a 全国地方公共団体コード (6 digits with a valid check digit)")
        }
        let sealMm: Double
        switch try raw(m, "official_seal_mm", required: true)! {
        case .float(let v): sealMm = v
        case .integer(let v): sealMm = Double(v)  // 21 means 21.0 mm
        case let other: throw fail(m, "official_seal_mm", "expected a number of millimetres, found \(other.typeName)")
        }
        guard sealMm > 0 && sealMm <= 60 else { throw fail(m, "official_seal_mm", "\(sealMm) mm is outside 0…60") }
        let municipality = KofuConfig.Municipality(
            code: code, name: try string(m, "name")!, authority: try string(m, "authority")!,
            officialSeal: try readableFile(m, "official_seal", try string(m, "official_seal")!), officialSealMm: sealMm)

        var addresses: [ListenAddress] = []
        for key in ["center", "sync"] {
            let text = try string("listen", key)!
            guard let address = ListenAddress.parse(text) else { throw fail("listen", key, "\(text) is not HOST:PORT") }
            addresses.append(address)
        }
        guard addresses[0] != addresses[1] else { throw fail("listen", "sync", "the sync feed needs its own address and port") }
        let listen = KofuConfig.Listen(center: addresses[0], sync: addresses[1])

        var tls: KofuConfig.TLS?
        if document["tls"] != nil {
            func file(_ key: String, required: Bool) throws(ConfigError) -> String? {
                guard let p = try string("tls", key, required: required) else { return nil }
                return try readableFile("tls", key, p)
            }
            tls = KofuConfig.TLS(centerCert: try file("center_cert", required: true)!, centerKey: try file("center_key", required: true)!,
                                 centerClientCA: try file("center_client_ca", required: false),
                                 syncCert: try file("sync_cert", required: true)!, syncKey: try file("sync_key", required: true)!,
                                 syncClientCA: try file("sync_client_ca", required: false))
        } else {
            for (key, address) in zip(["center", "sync"], addresses) where !address.isLoopback {
                throw fail("listen", key, "\(address) is not a loopback address; plain HTTP (no [tls]) is allowed only on loopback")
            }
        }

        let t = "trust"
        let anchorPaths = try strings(t, "anchors", required: true)!
        guard !anchorPaths.isEmpty else { throw fail(t, "anchors", "at least one trust anchor is required") }
        var anchors: [String] = []
        for p in anchorPaths { anchors.append(try readableFile(t, "anchors", p)) }
        var intermediates: [String] = []
        for p in try strings(t, "intermediates", required: false) ?? [] { intermediates.append(try readableFile(t, "intermediates", p)) }
        let oid = try string(t, "policy_oid")!
        guard oid.range(of: #"^[0-2](\.(0|[1-9][0-9]*))+$"#, options: .regularExpression) != nil else {
            throw fail(t, "policy_oid", "\(oid) is not a dotted OID")
        }
        let trust = KofuConfig.Trust(anchors: anchors, intermediates: intermediates,
                                     crlDir: try directory(t, "crl_dir", try string(t, "crl_dir")!, mustExist: true),
                                     policyOID: oid, clockSkewSeconds: try int(t, "clock_skew_seconds", default: 300, range: 0...3600))

        let path = try string("replica", "path", required: false)
        let url = try string("replica", "url", required: false)
        let replica: KofuConfig.Replica
        switch (path, url) {
        case (let p?, nil): replica = .sqlite(path: try directory("replica", "path", p, mustExist: false))
        case (nil, let u?):
            guard u.hasPrefix("postgres://") || u.hasPrefix("postgresql://") else {
                throw fail("replica", "url", "expected a postgres:// URL")
            }
            replica = .postgres(url: u)
        case (nil, nil): throw ConfigError(key: "replica.path", line: nil, message: "required key missing (or replica.url)")
        case (_?, _?): throw fail("replica", "url", "give replica.path or replica.url, not both")
        }

        var gaiji: [String] = []
        for p in try strings("fonts", "gaiji", required: false) ?? [] { gaiji.append(try readableFile("fonts", "gaiji", p)) }
        let fonts = KofuConfig.Fonts(base: try readableFile("fonts", "base", try string("fonts", "base")!), gaiji: gaiji)

        let i = "issuance"
        var hours = ServiceHours(startMinute: 6 * 60 + 30, endMinute: 23 * 60)
        if let text = try string(i, "hours", required: false) {
            guard let parsed = ServiceHours.parse(text) else {
                throw fail(i, "hours", "\(text) is not \"HH:MM-HH:MM\" with start < end (24:00 only as the end)")
            }
            hours = parsed
        }
        var closed = ["12-29", "12-30", "12-31", "01-01", "01-02", "01-03"].compactMap(MonthDay.parse)
        if let list = try strings(i, "closed", required: false) {
            closed = []
            for text in list {
                guard let day = MonthDay.parse(text) else { throw fail(i, "closed", "\(text) is not \"MM-DD\"") }
                closed.append(day)
            }
        }
        let issuance = KofuConfig.Issuance(minRequesterAge: try int(i, "min_requester_age", default: 15, range: 0...150),
                                           hours: hours, closed: closed)
        let audit = KofuConfig.Audit(path: try directory("audit", "path", try string("audit", "path")!, mustExist: false),
                                     retentionYears: try int("audit", "retention_years", default: 5, range: 1...100))
        return KofuConfig(file: file, municipality: municipality, listen: listen, tls: tls, trust: trust,
                          replica: replica, fonts: fonts, issuance: issuance, audit: audit)
    }
}
