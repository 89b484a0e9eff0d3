// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Foundation
import Synchronization
import Testing

@Suite struct FoldQueueTests {
    /// Jobs run one at a time, in the order they were submitted, and each result reaches its awaiter,
    /// whether it is awaited before or after the job ran.
    @Test func jobsRunInSubmissionOrderOneAtATime() async {
        let queue = FoldQueue()
        let log = Mutex<(order: [Int], running: Int, overlapped: Bool)>(([], 0, false))
        let pending = (0..<200).map { n in
            queue.submit {
                log.withLock {
                    $0.running += 1
                    $0.overlapped = $0.overlapped || $0.running > 1
                }
                if n % 50 == 0 { usleep(2_000) }  // a slow job: the later ones must still wait for it
                log.withLock {
                    $0.order.append(n)
                    $0.running -= 1
                }
                return n * n
            }
        }
        for (n, job) in pending.enumerated().reversed() {
            #expect(await job.value == n * n)
        }
        let (order, _, overlapped) = log.withLock { $0 }
        #expect(order == Array(0..<200))
        #expect(!overlapped)
    }

    /// `drain` returns only once every job submitted before it has run.
    @Test func drainWaitsForEveryEarlierJob() async {
        let queue = FoldQueue()
        let done = Mutex(0)
        for _ in 0..<3 {
            _ = queue.submit {
                usleep(5_000)
                done.withLock { $0 += 1 }
            }
        }
        await queue.drain()
        #expect(done.withLock { $0 } == 3)
    }
}
