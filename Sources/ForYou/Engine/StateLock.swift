// SPDX-License-Identifier: Apache-2.0
//
// Why not `Synchronization.Mutex` for the engine state: on Linux it is a priority-inheritance futex,
// and when two feed requests contend for it, the waiter spins in the kernel (rt_mutex) while the
// holder computes a feed. On two cores that spinning took about a fifth of all CPU time in
// `foryou bench` (perf). A plain pthread mutex sleeps instead; see BENCHMARKS.md for the measured effect.

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
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
