// SPDX-License-Identifier: Apache-2.0
//
// Ingestion in two stages. A batch, validated beforehand, is appended to the log under `writes`; it is
// then folded into the state here, in append order, while the next batch is appended. The
// log's fsync of one batch and the fold of the one before overlap instead of taking turns, and the
// fold runs on a thread of its own rather than on Swift's cooperative pool: on two cores that pool
// has two threads, and a fold that holds one of them (and makes feeds on the other wait for the state
// lock) left a quarter of the CPU idle while feeds and ingestion ran together (BENCHMARKS.md).
//
// Every other writer drains the queue after taking `writes` (`Recommender.exclusively`), so it sees
// every appended batch folded in, and no fold runs while it changes the log or the state.

import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs jobs one at a time, in the order they were submitted, on a thread of its own: a worker thread
/// starts when a job arrives at an idle queue and ends when the queue is empty again.
final class FoldQueue: Sendable {
    private struct State {
        var jobs: [@Sendable () -> Void] = []
        var working = false
    }
    private let state = Mutex(State())

    /// Submits `job`: it runs after every job submitted before it. Await its result with ``Pending/value``.
    func submit<Result: Sendable>(_ job: @escaping @Sendable () -> Result) -> Pending<Result> {
        let pending = Pending<Result>()
        let start = state.withLock { state in
            state.jobs.append { pending.complete(job()) }
            guard !state.working else { return false }
            state.working = true
            return true
        }
        if start { Self.startThread { self.work() } }
        return pending
    }

    /// Returns once every job submitted before the call has run.
    func drain() async {
        await submit {}.value
    }

    /// Runs jobs until none is left (at most a few are ever queued: one per batch waiting to be folded).
    private func work() {
        while let job = state.withLock({ state -> (@Sendable () -> Void)? in
            guard !state.jobs.isEmpty else {
                state.working = false
                return nil
            }
            return state.jobs.removeFirst()
        }) {
            job()
        }
    }

    private final class ThreadBody {
        let run: () -> Void
        init(_ run: @escaping () -> Void) { self.run = run }
    }

    /// Starts a detached thread that runs `body`.
    private static func startThread(_ body: @escaping () -> Void) {
        let argument = Unmanaged.passRetained(ThreadBody(body)).toOpaque()
        #if canImport(Darwin)
        var thread: pthread_t?
        #else
        var thread = pthread_t()
        #endif
        let created = pthread_create(
            &thread, nil,
            { argument in
                #if canImport(Darwin)
                let body = Unmanaged<ThreadBody>.fromOpaque(argument).takeRetainedValue()
                #else
                let body = Unmanaged<ThreadBody>.fromOpaque(argument!).takeRetainedValue()
                #endif
                body.run()
                return nil
            }, argument)
        precondition(created == 0, "pthread_create failed: \(created)")
        #if canImport(Darwin)
        pthread_detach(thread!)
        #else
        pthread_detach(thread)
        #endif
    }

    /// The result of a submitted job, once it has run.
    final class Pending<Result: Sendable>: Sendable {
        private struct State {
            var result: Result?
            var waiter: CheckedContinuation<Result, Never>?
        }
        private let state = Mutex(State())

        fileprivate func complete(_ result: Result) {
            let waiter = state.withLock { state -> CheckedContinuation<Result, Never>? in
                guard let waiter = state.waiter else {
                    state.result = result
                    return nil
                }
                state.waiter = nil
                return waiter
            }
            waiter?.resume(returning: result)
        }

        /// The job's result, waiting for the job to run if it has not yet.
        var value: Result {
            get async {
                if let result = state.withLock({ $0.result }) { return result }
                return await withCheckedContinuation { (continuation: CheckedContinuation<Result, Never>) in
                    let ready = state.withLock { state -> Result? in
                        if let result = state.result { return result }
                        state.waiter = continuation
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            }
        }
    }
}
