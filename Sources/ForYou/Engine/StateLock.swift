// SPDX-License-Identifier: Apache-2.0
//
// Why not `Synchronization.Mutex` for the engine state: on Linux it is a priority-inheritance futex,
// and when two feed requests contend for it, the waiter spins in the kernel (rt_mutex) while the
// holder computes a feed. On two cores that spinning took about a fifth of all CPU time in
// `foryou bench` (perf). A plain pthread mutex sleeps instead; see BENCHMARKS.md for the measured effect.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A value guarded by a plain (non-priority-inheritance) pthread mutex.
final class StateLock<Value: Sendable>: @unchecked Sendable {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var value: Value
    /// How many threads are blocked in ``withLock(_:)`` (see ``yieldToWaiters()``).
    private let waiters = Atomic<Int>(0)

    init(_ value: Value) {
        self.value = value
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        precondition(pthread_mutex_init(mutex, nil) == 0, "pthread_mutex_init failed")
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// Runs `body` with exclusive access to the value.
    func withLock<Result>(_ body: (inout Value) throws -> Result) rethrows -> Result {
        if pthread_mutex_trylock(mutex) != 0 {
            waiters.add(1, ordering: .relaxed)
            pthread_mutex_lock(mutex)
            waiters.subtract(1, ordering: .relaxed)
        }
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }

    /// Lets the threads waiting for the lock take it before the caller takes it again. For work done in
    /// turns of the lock (a batch folded in chunks): a pthread mutex is not fair, and a thread that
    /// unlocks and locks again at once nearly always wins against one that has to wake up, so a feed
    /// waiting for the state would otherwise wait for the whole batch, not one chunk. Gives up after
    /// 1,000 yields.
    func yieldToWaiters() {
        var turns = 0
        while waiters.load(ordering: .relaxed) > 0 && turns < 1_000 {
            sched_yield()
            turns += 1
        }
    }
}
