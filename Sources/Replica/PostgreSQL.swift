internal import CLibPQ
import Foundation

/// A failure reported by PostgreSQL: its SQLSTATE and primary message only (the DETAIL of a
/// constraint violation may quote a value, which may be resident data; it is never kept).
struct PGFailure: Error, CustomStringConvertible {
    let sqlstate: String
    let message: String
    var description: String { "PostgreSQL \(sqlstate): \(message)" }

    /// The relation or schema named is gone: a reseed dropped the generation a reader resolved.
    /// (or a deadlock with that drop was broken by failing the reader): resolve again.
    var isGone: Bool { sqlstate == "42P01" || sqlstate == "3F000" || sqlstate == "40P01" }
}

/// One libpq connection, used by one thread at a time (the store serialises access). Every
/// parameter is sent and every result received in binary format: text is the UTF-8 bytes as they
/// are (the database and the client encoding are UTF8, so nothing is converted), bytea is raw.
final class PGConnection {
    private let conn: OpaquePointer
    /// Statements prepared once per connection, by SQL text (schema-qualified, so a new
    /// generation's statements are new entries).
    private var prepared: [String: String] = [:]

    /// `application`: the `application_name` the server shows for the connection
    /// (pg_stat_activity), `kofu <namespace>`.
    init(url: String, application: String) throws(StoreError) {
        guard let c = PQconnectdb(url) else { throw StoreError(message: "\(PostgresReplica.redacted(url)): out of memory") }
        guard PQstatus(c) == CONNECTION_OK else {
            let message = String(cString: PQerrorMessage(c)).trimmingCharacters(in: .whitespacesAndNewlines)
            PQfinish(c)
            throw StoreError(message: "cannot connect to \(PostgresReplica.redacted(url)): \(message)")
        }
        conn = c
        guard PQsetClientEncoding(c, "UTF8") == 0 else {
            throw StoreError(message: "\(PostgresReplica.redacted(url)): cannot set client_encoding UTF8")
        }
        // Names are stored byte-exactly only in a UTF8 database (any other encoding would convert).
        let encoding = PQparameterStatus(c, "server_encoding").map { String(cString: $0) } ?? "?"
        guard encoding == "UTF8" else {
            throw StoreError(message: "\(PostgresReplica.redacted(url)): the database encoding is \(encoding); kofu needs UTF8")
        }
        do {
            // A batch is acknowledged only once its commit is flushed (the server default, made explicit).
            try execute("SET synchronous_commit = on; SET client_min_messages = warning")
            try query("SELECT set_config('application_name', $1, false)", [.text(application)])
        } catch {
            throw StoreError(message: "\(error)")
        }
    }

    deinit { PQfinish(conn) }

    var isBroken: Bool { PQstatus(conn) != CONNECTION_OK }

    enum Value {
        case text(String)
        case int(Int64)
        case bytes([UInt8])
        case double(Double)
        case bool(Bool)
        case null
    }

    private static func failure(_ result: OpaquePointer?, _ conn: OpaquePointer) -> PGFailure {
        guard let result else { return PGFailure(sqlstate: "08000", message: String(cString: PQerrorMessage(conn))) }
        let state = PQresultErrorField(result, Int32(UInt8(ascii: "C"))).map { String(cString: $0) } ?? "XX000"
        let primary = PQresultErrorField(result, Int32(UInt8(ascii: "M"))).map { String(cString: $0) }
            ?? String(cString: PQerrorMessage(conn))
        return PGFailure(sqlstate: state, message: primary.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Runs one or more statements without parameters or results (BEGIN, DDL, COMMIT).
    func execute(_ sql: String) throws(PGFailure) {
        let r = PQexec(conn, sql)
        defer { PQclear(r) }
        let status = PQresultStatus(r)
        guard r != nil, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else { throw Self.failure(r, conn) }
    }

    /// One statement with parameters, prepared on first use on this connection.
    @discardableResult
    func query(_ sql: String, _ values: [Value] = []) throws(PGFailure) -> PGResult {
        var name = prepared[sql]
        if name == nil {
            if prepared.count >= 500 {
                try execute("DEALLOCATE ALL")
                prepared = [:]
            }
            let n = "k\(prepared.count)"
            let types: [Oid] = values.map {
                switch $0 {
                case .text: 25
                case .int: 20
                case .bytes: 17
                case .double: 701
                case .bool: 16
                case .null: 0
                }
            }
            let r = PQprepare(conn, n, sql, Int32(types.count), types)
            defer { PQclear(r) }
            guard r != nil, PQresultStatus(r) == PGRES_COMMAND_OK else { throw Self.failure(r, conn) }
            prepared[sql] = n
            name = n
        }
        // All parameter bytes in one buffer; the pointers into it never leave this scope.
        var data: [UInt8] = []
        var offsets: [Int] = []
        var lengths: [Int32] = []
        var nulls: [Bool] = []
        for value in values {
            offsets.append(data.count)
            nulls.append(false)
            switch value {
            case .text(let s): data.append(contentsOf: s.utf8)
            case .bytes(let b): data.append(contentsOf: b)
            case .int(let v): withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) }
            case .double(let d): withUnsafeBytes(of: d.bitPattern.bigEndian) { data.append(contentsOf: $0) }
            case .bool(let b): data.append(b ? 1 : 0)
            case .null: nulls[nulls.count - 1] = true
            }
            lengths.append(Int32(data.count - offsets.last!))
        }
        data.append(0)  // never empty, so the base address exists
        let formats = [Int32](repeating: 1, count: values.count)
        let result: OpaquePointer? = data.withUnsafeBufferPointer { buffer in
            let base = UnsafeRawPointer(buffer.baseAddress!).assumingMemoryBound(to: CChar.self)
            let pointers: [UnsafePointer<CChar>?] = offsets.indices.map { nulls[$0] ? nil : base + offsets[$0] }
            return PQexecPrepared(conn, name!, Int32(values.count), pointers, lengths, formats, 1)
        }
        let status = PQresultStatus(result)
        guard let result, status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let f = Self.failure(result, conn)
            PQclear(result)
            throw f
        }
        return PGResult(result)
    }

    /// `COPY … FROM STDIN (FORMAT binary)` with `data` (header, tuples and trailer).
    func copyIn(_ sql: String, _ data: [UInt8]) throws(PGFailure) {
        let r = PQexec(conn, sql)
        guard r != nil, PQresultStatus(r) == PGRES_COPY_IN else {
            let f = Self.failure(r, conn)
            PQclear(r)
            throw f
        }
        PQclear(r)
        var offset = 0
        while offset < data.count {
            let n = min(1 << 20, data.count - offset)
            let ok = data.withUnsafeBufferPointer { buffer in
                UnsafeRawPointer(buffer.baseAddress! + offset).withMemoryRebound(to: CChar.self, capacity: n) {
                    PQputCopyData(conn, $0, Int32(n))
                }
            }
            guard ok == 1 else { throw PGFailure(sqlstate: "08000", message: String(cString: PQerrorMessage(conn))) }
            offset += n
        }
        guard PQputCopyEnd(conn, nil) == 1 else { throw PGFailure(sqlstate: "08000", message: String(cString: PQerrorMessage(conn))) }
        var failure: PGFailure?
        while let result = PQgetResult(conn) {
            if PQresultStatus(result) != PGRES_COMMAND_OK, failure == nil { failure = Self.failure(result, conn) }
            PQclear(result)
        }
        if let failure { throw failure }
    }
}

/// A result in binary format; cleared when released.
final class PGResult {
    private let r: OpaquePointer
    init(_ r: OpaquePointer) { self.r = r }
    deinit { PQclear(r) }

    var rows: Int { Int(PQntuples(r)) }

    func isNull(_ row: Int, _ column: Int) -> Bool { PQgetisnull(r, Int32(row), Int32(column)) == 1 }

    func bytes(_ row: Int, _ column: Int) -> [UInt8] {
        let n = Int(PQgetlength(r, Int32(row), Int32(column)))
        guard n > 0, let p = PQgetvalue(r, Int32(row), Int32(column)) else { return [] }
        return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
    }

    func text(_ row: Int, _ column: Int) -> String {
        let n = Int(PQgetlength(r, Int32(row), Int32(column)))
        guard n > 0, let p = PQgetvalue(r, Int32(row), Int32(column)) else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: p, count: n), as: UTF8.self)
    }

    /// int2, int4 or int8, by the value's length (binary integers are big-endian).
    func int(_ row: Int, _ column: Int) -> Int64 {
        let n = Int(PQgetlength(r, Int32(row), Int32(column)))
        guard let p = PQgetvalue(r, Int32(row), Int32(column)) else { return 0 }
        var v: Int64 = 0
        let raw = UnsafeRawBufferPointer(start: p, count: n)
        for b in raw { v = v << 8 | Int64(b) }
        switch n {
        case 2: return Int64(Int16(truncatingIfNeeded: v))
        case 4: return Int64(Int32(truncatingIfNeeded: v))
        default: return v
        }
    }

    func double(_ row: Int, _ column: Int) -> Double {
        Double(bitPattern: UInt64(bitPattern: int(row, column)))
    }

    func bool(_ row: Int, _ column: Int) -> Bool {
        guard let p = PQgetvalue(r, Int32(row), Int32(column)), PQgetlength(r, Int32(row), Int32(column)) == 1 else { return false }
        return p.pointee != 0
    }
}

/// Rows for `COPY … FROM STDIN (FORMAT binary)`: the format's header, then tuples of
/// length-prefixed fields in each type's binary form, then the trailer.
struct PGCopyBuffer {
    private(set) var data: [UInt8] = []
    private(set) var tuples = 0

    mutating func row(_ fields: [PGConnection.Value]) {
        if data.isEmpty {
            data = Array("PGCOPY\n".utf8) + [0xFF, 0x0D, 0x0A, 0x00] + [0, 0, 0, 0] + [0, 0, 0, 0]
        }
        append16(Int16(fields.count))
        for f in fields {
            switch f {
            case .text(let s):
                append32(Int32(s.utf8.count))
                data.append(contentsOf: s.utf8)
            case .bytes(let b):
                append32(Int32(b.count))
                data.append(contentsOf: b)
            case .int(let v):
                append32(8)
                withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) }
            case .double(let d):
                append32(8)
                withUnsafeBytes(of: d.bitPattern.bigEndian) { data.append(contentsOf: $0) }
            case .bool(let b):
                append32(1)
                data.append(b ? 1 : 0)
            case .null:
                append32(-1)
            }
        }
        tuples += 1
    }

    /// The finished stream, and the buffer emptied for the next one.
    mutating func take() -> [UInt8] {
        guard !data.isEmpty else { return [] }
        append16(-1)
        defer {
            data = []
            tuples = 0
        }
        return data
    }

    private mutating func append16(_ v: Int16) { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
    private mutating func append32(_ v: Int32) { withUnsafeBytes(of: v.bigEndian) { data.append(contentsOf: $0) } }
}
