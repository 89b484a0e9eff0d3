// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A first-in, first-out lock for async code: holders may suspend (await the store) while holding it.
///
/// The engine uses it to make "write to the store, then update the state" one step, so the in-memory
/// state changes in the same order as the log and an erasure never interleaves with a write.
final class AsyncLock: Sendable {
    private struct State {
        var isLocked = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }
    private let state = Mutex(State())

    /// Runs `body` while holding the lock.
    func withLock<T>(_ body: () async throws -> T) async rethrows -> T {
        await lock()
        defer { unlock() }
        return try await body()
    }

    private func lock() async {
        let acquired = state.withLock { s -> Bool in
            if s.isLocked { return false }
            s.isLocked = true
            return true
        }
        if acquired { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let acquiredNow = state.withLock { s -> Bool in
                if !s.isLocked {
                    s.isLocked = true
                    return true
                }
                s.waiters.append(continuation)
                return false
            }
            if acquiredNow { continuation.resume() }
        }
    }

    private func unlock() {
        let next = state.withLock { s -> CheckedContinuation<Void, Never>? in
            if s.waiters.isEmpty {
                s.isLocked = false
                return nil
            }
            return s.waiters.removeFirst()  // ownership passes straight to the next waiter
        }
        next?.resume()
    }
}
