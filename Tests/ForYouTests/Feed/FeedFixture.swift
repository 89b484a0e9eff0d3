// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting

/// A small world with a known shape: four creators, each with ten items in one tag
/// (c0 cats, c1 dogs, c2 food, c3 cars), and background users whose watching links items within a tag.
struct FeedFixture {
    static let tags = ["cats", "dogs", "food", "cars"]
    let clock = ManualClock()
    let store = MemoryStore()
    let engine: Recommender

    init(configuration: Recommender.Configuration = .init(), backgroundUsers: Int = 8) async throws {
        engine = try await Recommender.open(store: store, configuration: configuration, clock: clock)
        let published = clock.now().advanced(byMilliseconds: -3 * Timestamp.day).rfc3339
        var items: [ItemInput] = []
        for creator in 0..<4 {
            for n in 0..<10 {
                items.append(
                    ItemInput(
                        id: "c\(creator)-v\(n)", creator: "c\(creator)", tags: [Self.tags[creator]], durationMilliseconds: 20_000,
                        language: "en", publishedAt: published))
            }
        }
        _ = try await engine.upsertItems(items)
        // Background user b watches every item of creator b % 4 to the end, an hour ago.
        var events: [EventInput] = []
        let at = clock.now().advanced(byMilliseconds: -Timestamp.hour).rfc3339
        for user in 0..<backgroundUsers {
            for n in 0..<10 {
                events.append(EventInput(id: "bg-\(user)-\(n)", user: "b\(user)", item: "c\(user % 4)-v\(n)", type: "view", at: at, watchMilliseconds: 20_000))
            }
        }
        _ = try await engine.ingest(events)
    }

    /// The creator of a fixture item id (`c2-v5` → `c2`).
    static func creator(of item: ItemID) -> String { String(item.rawValue.split(separator: "-")[0]) }

    func like(_ user: String, _ item: String, id: String) async throws {
        let result = try await engine.ingest([EventInput(id: id, user: user, item: item, type: "like")])
        precondition(result.accepted == 1, "fixture event refused: \(result)")
    }
}
