import Foundation

/// Group commit: callers hand over an item and wait; one thread takes everything pending, makes
/// it durable with one `commit` (one fsync for many requests), then resumes every caller of that
/// group with the commit's result. Throughput under load is bounded by the disk's sync rate per
/// group, not per request.
final class GroupCommitter<Item: Sendable>: @unchecked Sendable {
    private let condition = NSCondition()
    private var pending: [(Item, CheckedContinuation<Void, any Error>)] = []
    private let commit: ([Item]) throws -> Void
    private let maxGroup: Int

    init(name: String, maxGroup: Int = 512, commit: @escaping ([Item]) throws -> Void) {
        self.commit = commit
        self.maxGroup = maxGroup
        let thread = Thread { self.loop() }  // lives as long as the process: one per server
        thread.name = name
        thread.start()
    }

    func submit(_ item: Item) async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            condition.lock()
            pending.append((item, continuation))
            condition.signal()
            condition.unlock()
        }
    }

    private func loop() {
        while true {
            condition.lock()
            while pending.isEmpty { condition.wait() }
            let count = min(pending.count, maxGroup)
            let group = Array(pending.prefix(count))
            pending.removeFirst(count)
            condition.unlock()
            do {
                try commit(group.map(\.0))
                for (_, c) in group { c.resume() }
            } catch {
                for (_, c) in group { c.resume(throwing: error) }
            }
        }
    }
}
