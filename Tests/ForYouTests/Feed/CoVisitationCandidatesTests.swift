// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import ForYouTesting
import Testing

/// The co-visitation source walks a popular item's neighbours in chunks, reading ahead, and passes over
/// those that cannot enter its list: it must pick what scoring every neighbour picks.
struct CoVisitationCandidatesTests {
    @Test func aPopularItemsBestCoVisitedItemsAreTheOnesScoringEveryNeighbourPicks() async throws {
        let clock = ManualClock()
        let engine = try await Recommender.open(store: MemoryStore(), clock: clock)
        let published = clock.now().advanced(byMilliseconds: -3 * Timestamp.day).rfc3339
        let neighbours = 400
        var items = [ItemInput(id: "hub", creator: "c-hub", tags: ["t"], durationMilliseconds: 20_000, language: "en", publishedAt: published)]
        for j in 0..<neighbours {
            items.append(ItemInput(id: "i\(j)", creator: "c\(j)", tags: ["t"], durationMilliseconds: 20_000, language: "en", publishedAt: published))
        }
        _ = try await engine.upsertItems(items)
        // Item j is liked after the hub by 1 + j % 37 users (its co-visitation weight) and alone by j / 37
        // others (more popularity, a lower score): 400 neighbours with scores in many orders.
        var events: [EventInput] = []
        for j in 0..<neighbours {
            for u in 0..<(1 + j % 37) {
                events.append(EventInput(id: "h-\(j)-\(u)", user: "v\(j)-\(u)", item: "hub", type: "like"))
                events.append(EventInput(id: "n-\(j)-\(u)", user: "v\(j)-\(u)", item: "i\(j)", type: "like"))
            }
            for u in 0..<(j / 37) { events.append(EventInput(id: "s-\(j)-\(u)", user: "w\(j)-\(u)", item: "i\(j)", type: "like")) }
        }
        for start in stride(from: 0, to: events.count, by: 1_000) {
            let result = try await engine.ingest(Array(events[start..<min(events.count, start + 1_000)]))
            #expect(result.accepted == min(1_000, events.count - start))
        }
        // The user has seen a few of the hub's neighbours: the list is of the others.
        _ = try await engine.ingest(
            [EventInput(id: "u-hub", user: "u", item: "hub", type: "like")]
                + (0..<5).map { EventInput(id: "u-seen-\($0)", user: "u", item: "i\($0 * 37 + 36)", type: "impression") })

        let (walked, exhaustive, rowSize) = engine.state.withLock { state in
            let user = state.users[UserID(trusted: "u")]!
            let eligible = Eligibility(
                user: user, catalog: state.catalog, now: clock.now().milliseconds, window: state.configuration.feed.noRepeatWindowMilliseconds)
            var candidates: [Int32: Candidate] = [:]
            state.coVisitationCandidates(user, eligible, into: &candidates)

            let hub = state.catalog.itemIndex[ItemID(trusted: "hub")]!
            let source = user.recent.last { $0.item == hub }!
            let sourcePopularity = state.engagement.popularity[Int(hub)] + 1
            var best = TopK(EngineState.coVisitationPerSource)
            let row = state.engagement.coVisitation(of: hub)
            for (item, weight) in row where eligible.allows(item) {
                best.insert(item, score: source.weight * weight / (sourcePopularity * (state.engagement.popularity[Int(item)] + 1)).squareRoot())
            }
            return (candidates.mapValues(\.coVisitation), best.sorted(), row.count)
        }
        #expect(rowSize == neighbours)
        #expect(walked.count == EngineState.coVisitationPerSource)
        #expect(Set(walked.keys) == Set(exhaustive.map(\.element)))
        for (item, score) in exhaustive { #expect(walked[item] == score) }
    }
}
