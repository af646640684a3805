internal import CSQLite

/// A failure of the embedded store, with SQLite's own message. Never holds resident data:
/// statements bind values, and messages come from SQLite.
public struct StoreError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public var description: String { "replica store: \(message)" }
}

/// One SQLite connection, used by one thread at a time (the store serialises access).
final class SQLiteConnection {
    private var db: OpaquePointer?
    /// Statements prepared once and kept for the connection's life (hot paths: apply, lookups).
    private var cache: [String: Statement] = [:]
    /// The real path the connection was opened with.
    let path: String

    /// `create: false` opens an existing file only (a store that a reseed deleted is not re-made
    /// empty under its old name).
    init(path: String, readOnly: Bool = false, create: Bool = true) throws(StoreError) {
        self.path = path
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0)) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw StoreError(message: "\(path): \(message)")
        }
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit {
        cache.removeAll()
        sqlite3_close_v2(db)
    }

    func execute(_ sql: String) throws(StoreError) {
        var error: UnsafeMutablePointer<CChar>?
        guard sqlite3_exec(db, sql, nil, nil, &error) == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "error"
            sqlite3_free(error)
            throw StoreError(message: message)
        }
    }

    func prepare(_ sql: String) throws(StoreError) -> Statement {
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(db, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw StoreError(message: String(cString: sqlite3_errmsg(db)))
        }
        return Statement(statement, db: db, owner: self)
    }

    /// A statement prepared on first use and reused; reset (its read ended) before every COMMIT.
    func cached(_ sql: String) throws(StoreError) -> Statement {
        if let s = cache[sql] { return s }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v3(db, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil) == SQLITE_OK, let statement else {
            throw StoreError(message: String(cString: sqlite3_errmsg(db)))
        }
        let s = Statement(statement, db: db, owner: nil)  // owned by the connection: no cycle
        cache[sql] = s
        return s
    }

    /// Ends every cached statement's read, so that COMMIT and the end of a read transaction
    /// release their locks.
    func resetCached() {
        for s in cache.values { s.reset() }
    }

    var lastError: String { String(cString: sqlite3_errmsg(db)) }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back on any error.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            resetCached()
            try execute("COMMIT")
            return result
        } catch {
            resetCached()
            try? execute("ROLLBACK")
            throw error
        }
    }

    final class Statement {
        private let statement: OpaquePointer
        private let db: OpaquePointer?
        /// Keeps the connection open while a statement prepared on it lives (nil for cached ones,
        /// which the connection itself holds).
        private let owner: SQLiteConnection?

        init(_ statement: OpaquePointer, db: OpaquePointer?, owner: SQLiteConnection?) {
            self.statement = statement
            self.db = db
            self.owner = owner
        }

        deinit { sqlite3_finalize(statement) }

        func reset() { sqlite3_reset(statement) }

        enum Value {
            case text(String)
            case int(Int64)
            case blob([UInt8])
            case null
        }

        @discardableResult
        func bind(_ values: [Value]) -> Statement {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
            for (i, value) in values.enumerated() {
                let index = Int32(i + 1)
                switch value {
                case .text(let s): sqlite3_bind_text(statement, index, s, -1, kofu_sqlite_transient())
                case .int(let v): sqlite3_bind_int64(statement, index, v)
                case .blob(let b): b.withUnsafeBytes { _ = sqlite3_bind_blob(statement, index, $0.baseAddress, Int32(b.count), kofu_sqlite_transient()) }
                case .null: sqlite3_bind_null(statement, index)
                }
            }
            return self
        }

        /// Steps once: true when a row is available.
        func step() throws(StoreError) -> Bool {
            switch sqlite3_step(statement) {
            case SQLITE_ROW: return true
            case SQLITE_DONE: return false
            default: throw StoreError(message: String(cString: sqlite3_errmsg(db)))
            }
        }

        func run(_ values: [Value] = []) throws(StoreError) {
            bind(values)
            while try step() {}
        }

        func int(_ column: Int32) -> Int64 { sqlite3_column_int64(statement, column) }
        func isNull(_ column: Int32) -> Bool { sqlite3_column_type(statement, column) == SQLITE_NULL }
        func text(_ column: Int32) -> String {
            guard let p = sqlite3_column_text(statement, column) else { return "" }
            let n = Int(sqlite3_column_bytes(statement, column))
            return String(decoding: UnsafeBufferPointer(start: p, count: n), as: UTF8.self)
        }
        func blob(_ column: Int32) -> [UInt8] {
            let n = Int(sqlite3_column_bytes(statement, column))
            guard n > 0, let p = sqlite3_column_blob(statement, column) else { return [] }
            return [UInt8](UnsafeRawBufferPointer(start: p, count: n))
        }
    }
}
