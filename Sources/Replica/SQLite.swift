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

    init(path: String, readOnly: Bool = false) throws(StoreError) {
        let flags = (readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX
        guard sqlite3_open_v2(path, &db, flags, nil) == SQLITE_OK else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite3_close(db)
            throw StoreError(message: "\(path): \(message)")
        }
        sqlite3_busy_timeout(db, 10_000)
    }

    deinit { sqlite3_close_v2(db) }

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
        return Statement(statement, connection: self)
    }

    var lastError: String { String(cString: sqlite3_errmsg(db)) }

    /// Runs `body` inside BEGIN IMMEDIATE … COMMIT; rolls back on any error.
    func transaction<T>(_ body: () throws -> T) throws -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    final class Statement {
        private let statement: OpaquePointer
        private let connection: SQLiteConnection

        init(_ statement: OpaquePointer, connection: SQLiteConnection) {
            self.statement = statement
            self.connection = connection
        }

        deinit { sqlite3_finalize(statement) }

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
            default: throw StoreError(message: connection.lastError)
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
