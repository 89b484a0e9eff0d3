// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouSQLite
import ForYouTesting
import Foundation
import Testing

struct SQLiteErasureTests {
    /// Erasure that really erases: after `Recommender.erase` (which compacts the store), no file in the
    /// data folder holds the user's id, in any table, index, journal or free page.
    @Test func noFileOfTheDataFolderHoldsAnErasedUsersID() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let victim = "erase-me-7f3a9c"
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 1, size: .small, now: clock.now())
        do {
            let engine = try await Recommender.open(store: try SQLiteStore(directory: directory.path), clock: clock)
            _ = try await engine.upsertItems(world.items)
            for batch in [0, 1000] { _ = try await engine.ingest(Array(world.events[batch..<batch + 1000])) }
            let mine = (0..<50).map {
                $0 % 2 == 0
                    ? EventInput(id: "ev-\($0)", user: victim, item: "v\($0)", type: "like")
                    : EventInput(id: "ev-\($0)", user: victim, item: "v\($0)", type: "view", watchMilliseconds: 5_000)
            }
            #expect(try await engine.ingest(mine).accepted == 50)
            _ = try await engine.feed(for: victim, count: 20)
            for batch in [2000, 3000] { _ = try await engine.ingest(Array(world.events[batch..<batch + 1000])) }
            #expect(try directory.files().contains { $0.bytes.range(of: Data(victim.utf8)) != nil })

            #expect(try await engine.erase(user: victim) == 50)
            for file in try directory.files() {
                #expect(file.bytes.range(of: Data(victim.utf8)) == nil, "\(file.name) still holds the user's id")
            }
            #expect(try await engine.feed(for: "u1", count: 5).entries.count == 5)
        }
        // Nothing else was lost: everyone else's events are still there after reopening.
        let reopened = try SQLiteStore(directory: directory.path)
        #expect(try await reopened.count() == 4_000)
    }
}
