// SPDX-License-Identifier: Apache-2.0

@testable import ForYouServer
import Synchronization
import Testing

struct FairQueueTests {
    /// One slot; a noisy key queues four requests, then a quiet key one: the quiet request runs after at
    /// most one of the noisy key's, not after all of them.
    @Test func aFreedSlotGoesToTheNextKeyInTurnNotToTheOldestRequest() async throws {
        let queue = FairQueue(capacity: 1)
        let order = Recorder()
        let (holding, release) = AsyncStream<Void>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                try await queue.run(key: "noisy") {
                    order.add("noisy-0")
                    for await _ in holding { break }
                }
            }
            try await waitUntil { order.all.count == 1 }
            for index in 1...4 {
                group.addTask { try await queue.run(key: "noisy") { order.add("noisy-\(index)") } }
                try await waitUntil { queue.waitingCount == index }
            }
            group.addTask { try await queue.run(key: "quiet") { order.add("quiet") } }
            try await waitUntil { queue.waitingCount == 5 }
            release.yield()
            try await group.waitForAll()
        }
        let all = order.all
        #expect(all.count == 6)
        let quietPosition = try #require(all.firstIndex(of: "quiet"))
        #expect(quietPosition <= 2, "the quiet key ran at position \(quietPosition): \(all)")
        #expect(all.filter { $0.hasPrefix("noisy") } == (0...4).map { "noisy-\($0)" }, "one key's requests keep their order")
    }

    /// Below capacity nothing waits; every slot is given back.
    @Test func belowCapacityNothingWaits() async throws {
        let queue = FairQueue(capacity: 2)
        for _ in 0..<10 { try await queue.run(key: "k") {} }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<20 { group.addTask { try await queue.run(key: "k\(index % 3)") { await Task.yield() } } }
            try await group.waitForAll()
        }
        #expect(queue.waitingCount == 0)
        try await queue.run(key: "k") { #expect(queue.waitingCount == 0) }
    }

    func waitUntil(_ condition: () -> Bool) async throws {
        for _ in 0..<2000 where !condition() { try await Task.sleep(for: .milliseconds(1)) }
        #expect(condition())
    }
}

private final class Recorder: Sendable {
    private let entries = Mutex<[String]>([])
    func add(_ entry: String) { entries.withLock { $0.append(entry) } }
    var all: [String] { entries.withLock { $0 } }
}
