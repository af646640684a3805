import Foundation

/// An advisory lock (flock(2)) on a file in the replica folder, coordinating processes: the
/// server applying batches and `kofu reseed` switching `current`. flock locks belong to an open
/// file description, so two instances conflict even inside one process.
final class FileLock: @unchecked Sendable {
    private let fd: Int32

    init(path: String) throws(StoreError) {
        fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError(message: "cannot open the lock file \(path): errno \(errno)") }
    }

    deinit { close(fd) }

    /// Blocks until held. Shared holders exclude an exclusive one and vice versa.
    func lock(exclusive: Bool) throws(StoreError) {
        while flock(fd, exclusive ? LOCK_EX : LOCK_SH) != 0 {
            guard errno == EINTR else { throw StoreError(message: "flock: errno \(errno)") }
        }
    }

    /// Takes the lock exclusively if nobody holds it; false otherwise.
    func tryLock() -> Bool { flock(fd, LOCK_EX | LOCK_NB) == 0 }

    func unlock() { flock(fd, LOCK_UN) }

    func withLock<T>(exclusive: Bool, _ body: () throws -> T) throws -> T {
        try lock(exclusive: exclusive)
        defer { unlock() }
        return try body()
    }
}

/// Makes a rename or a new link durable (fsync of the folder).
func syncFolder(_ folder: String) {
    let fd = open(folder, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
    guard fd >= 0 else { return }
    fsync(fd)
    close(fd)
}

func syncFile(_ path: String) throws(StoreError) {
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw StoreError(message: "cannot open \(path) to sync it: errno \(errno)") }
    defer { close(fd) }
    guard fsync(fd) == 0 else { throw StoreError(message: "fsync \(path): errno \(errno)") }
}
