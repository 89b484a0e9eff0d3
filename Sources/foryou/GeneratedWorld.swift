// SPDX-License-Identifier: Apache-2.0
//
// A seeded world of any size for `bench world`, generated as it is loaded (events are never all in
// memory). 200 tags with skewed popularity; one creator per 20 items, each with a main tag; items
// published over the last 30 days (so about 1 in 15 is fresh), 5 s to 2 min long. Each user has two
// favourite tags and a geometric number of events (mean `eventsPerUser`) over the last 7 days: 70% on
// items of a favourite tag, 30% anywhere, both skewed toward the popular; views of favoured items are
// watched 60–120%, others 5–50%; 15% of favoured views come with a like, 20% of the others with a skip.
// Each user lives in one of 20 regions, which every event of theirs names.

import ForYou
import Foundation

struct GeneratedWorld: Sendable {
    static let tagCount = 200
    /// Each user lives in one of this many regions, which their events name.
    static let regions = 20
    let itemCount: Int
    let userCount: Int
    let eventsPerUser: Int
    let seed: UInt64
    let now: Timestamp
    /// Items of each tag (their main tag), in index order.
    let itemsByTag: [[Int32]]
    /// Each item's duration, ms.
    let durations: [Int32]

    init(items: Int, users: Int, eventsPerUser: Int, seed: UInt64, now: Timestamp) {
        itemCount = items
        userCount = users
        self.eventsPerUser = eventsPerUser
        self.seed = seed
        self.now = now
        var byTag = [[Int32]](repeating: [], count: Self.tagCount)
        for item in 0..<items { byTag[Self.mainTag(ofCreator: Self.creator(of: item, items: items), seed: seed)].append(Int32(item)) }
        itemsByTag = byTag
        var durations: [Int32] = []
        durations.reserveCapacity(items)
        for item in 0..<items { durations.append(Int32(Self.item(item, items: items, seed: seed, now: now).durationMilliseconds!)) }
        self.durations = durations
    }

    static func creator(of item: Int, items: Int) -> Int { item % max(1, items / 20) }

    /// A skewed draw in 0..<count: index = count · u^power, so low indices are the popular ones.
    static func skewed(_ count: Int, power: Double, _ random: inout SplitMix64) -> Int {
        min(count - 1, Int(Double(count) * pow(random.nextUnit(), power)))
    }

    static func mainTag(ofCreator creator: Int, seed: UInt64) -> Int {
        var random = SplitMix64(seed: seed ^ (UInt64(creator) &* 0x9E37_79B9_7F4A_7C15))
        return skewed(tagCount, power: 2, &random)
    }

    func items(_ range: Range<Int>) -> [ItemInput] {
        range.map { Self.item($0, items: itemCount, seed: seed, now: now) }
    }

    static func item(_ item: Int, items: Int, seed: UInt64, now: Timestamp) -> ItemInput {
        var random = SplitMix64(seed: seed &+ 1 ^ (UInt64(item) &* 0xBF58_476D_1CE4_E5B9))
        let creator = creator(of: item, items: items)
        var tags = ["t\(mainTag(ofCreator: creator, seed: seed))"]
        if random.nextUnit() < 0.3 { tags.append("t\(skewed(tagCount, power: 2, &random))") }
        let age = Int64(random.nextUnit() * Double(30 * Timestamp.day))
        return ItemInput(
            id: "i\(item)", creator: "c\(creator)", tags: tags, durationMilliseconds: 5_000 + Int64(random.next() % 115_000),
            language: "en", publishedAt: now.advanced(byMilliseconds: -age).rfc3339)
    }

    func favouriteTags(ofUser user: Int) -> (Int, Int) {
        var random = SplitMix64(seed: seed &+ 2 ^ (UInt64(user) &* 0x94D0_49BB_1331_11EB))
        return (Self.skewed(Self.tagCount, power: 2, &random), Self.skewed(Self.tagCount, power: 2, &random))
    }

    /// An item of one of the user's favourite tags, skewed toward the popular.
    func itemFavouredBy(user: String, random: inout SplitMix64) -> String {
        let (first, second) = favouriteTags(ofUser: Int(user.dropFirst()) ?? 0)
        let tag = random.next() % 2 == 0 ? first : second
        let items = itemsByTag[tag].isEmpty ? itemsByTag.first { !$0.isEmpty }! : itemsByTag[tag]
        return "i\(items[Self.skewed(items.count, power: 2, &random)])"
    }

    func eventStream() -> EventStream { EventStream(world: self) }

    /// The generated history, user by user, in batches.
    struct EventStream {
        let world: GeneratedWorld
        var user = 0
        var pending: [EventInput] = []
        var random: SplitMix64

        init(world: GeneratedWorld) {
            self.world = world
            random = SplitMix64(seed: world.seed &+ 3)
        }

        /// The next batch of at most `count` events, or nil at the end.
        mutating func next(_ count: Int) -> [EventInput]? {
            while pending.count < count && user < world.userCount {
                appendEvents(ofUser: user)
                user += 1
            }
            guard !pending.isEmpty else { return nil }
            let batch = Array(pending.prefix(count))
            pending.removeFirst(batch.count)
            return batch
        }

        private mutating func appendEvents(ofUser user: Int) {
            let (first, second) = world.favouriteTags(ofUser: user)
            // Geometric with mean eventsPerUser (at least 1).
            let continuation = 1 - 1 / Double(world.eventsPerUser)
            var events = 1
            while random.nextUnit() < continuation && events < 50 * world.eventsPerUser { events += 1 }
            for n in 0..<events {
                let favoured = random.nextUnit() < 0.7
                let item: Int
                if favoured {
                    let tag = random.next() % 2 == 0 ? first : second
                    let items = world.itemsByTag[tag]
                    item = items.isEmpty ? GeneratedWorld.skewed(world.itemCount, power: 3, &random) : Int(items[GeneratedWorld.skewed(items.count, power: 2, &random)])
                } else {
                    item = GeneratedWorld.skewed(world.itemCount, power: 3, &random)
                }
                let at = world.now.advanced(byMilliseconds: -Int64(random.nextUnit() * Double(7 * Timestamp.day)) - 60_000).rfc3339
                let id = "g\(user)-\(n)"
                let duration = Double(world.durations[item])
                let fraction = favoured ? 0.6 + 0.6 * random.nextUnit() : 0.05 + 0.45 * random.nextUnit()
                let region = "r\(user % GeneratedWorld.regions)"
                pending.append(
                    EventInput(
                        id: id, user: "u\(user)", item: "i\(item)", type: "view", at: at, watchMilliseconds: Int64(duration * fraction), region: region))
                if favoured && random.nextUnit() < 0.15 {
                    pending.append(EventInput(id: id + "-like", user: "u\(user)", item: "i\(item)", type: "like", at: at, region: region))
                } else if !favoured && random.nextUnit() < 0.2 {
                    pending.append(EventInput(id: id + "-skip", user: "u\(user)", item: "i\(item)", type: "skip", at: at, region: region))
                }
            }
        }
    }
}

/// The figures of one `bench world` run, as Markdown.
struct WorldReport {
    var items: Int
    var users: Int
    /// (what, seconds, rate per second if any).
    var steps: [(String, Double, Double?)] = []
    /// (after what, resident MiB).
    var memory: [(String, Double)] = []
    /// (load, feeds or ingestion figures, the ingestion running beside it).
    var loads: [(String, BenchWorldCommand.WrkResult, BenchWorldCommand.WrkResult?)] = []
    var effect: BenchWorldCommand.Effect?
    var retrieval: BenchWorldCommand.RetrievalComparison?
    /// The engine's counts after the load: what its bounded, expiring state holds.
    var held: Recommender.Statistics?

    func markdown(command: String) -> String {
        func ms(_ value: Double?) -> String { value.map { String(format: "%.2f ms", $0) } ?? "–" }
        var lines = ["`\(command)`: \(items) items, \(users) users", "", "| step | seconds | rate |", "|---|---|---|"]
        for (what, seconds, rate) in steps {
            lines.append("| \(what) | \(String(format: "%.1f", seconds)) | \(rate.map { String(format: "%.0f/s", $0) } ?? "") |")
        }
        lines += ["", "| load (wrk, beside the server) | requests/s | events/s | p50 | p90 | p99 | errors |", "|---|---|---|---|---|---|---|"]
        for (what, result, beside) in loads {
            let isIngest = what.hasPrefix("ingestion")
            lines.append(
                "| \(what) | \(String(format: "%.0f", result.requestsPerSecond)) | \(isIngest ? String(format: "%.0f", result.requestsPerSecond * 500) : "") | \(ms(result.percentiles[50])) | \(ms(result.percentiles[90])) | \(ms(result.percentiles[99])) | \(result.errors) |")
            if let beside {
                lines.append(
                    "| … ingestion beside it | \(String(format: "%.0f", beside.requestsPerSecond)) | \(String(format: "%.0f", beside.requestsPerSecond * 500)) | \(ms(beside.percentiles[50])) | \(ms(beside.percentiles[90])) | \(ms(beside.percentiles[99])) | \(beside.errors) |")
            }
        }
        if let retrieval, retrieval.users > 0 {
            let mean = { (values: [Double]) in values.reduce(0, +) / Double(values.count) }
            lines += [
                "", "The model's 50 best unseen items for \(retrieval.users) users, in process, side by side:", "",
                "| retrieval | mean | p50 | p99 | recall@10 | recall@50 |", "|---|---|---|---|---|---|",
                "| scoring every item (exact) | \(ms(mean(retrieval.exact))) | \(ms(percentile(retrieval.exact, 0.5))) | \(ms(percentile(retrieval.exact, 0.99))) | 1 | 1 |",
                "| HNSW index | \(ms(mean(retrieval.indexed))) | \(ms(percentile(retrieval.indexed, 0.5))) | \(ms(percentile(retrieval.indexed, 0.99))) | \(String(format: "%.3f", retrieval.recallAt10)) | \(String(format: "%.3f", retrieval.recallAt50)) |",
                "", String(format: "Index ÷ exact, mean time: %.3f×", mean(retrieval.indexed) / mean(retrieval.exact)),
            ]
        }
        if let effect, !effect.milliseconds.isEmpty {
            let times = effect.milliseconds
            lines += [
                "",
                "Event-to-effect (like acknowledged → next feed answered, \(times.count) likes): p50 \(ms(percentile(times, 0.5))), p99 \(ms(percentile(times, 0.99))); \(effect.reflected) of \(times.count) feeds name the liked item as a reason.",
            ]
        }
        lines += ["", "| resident memory after | MiB |", "|---|---|"]
        for (what, megabytes) in memory { lines.append("| \(what) | \(String(format: "%.0f", megabytes)) |") }
        if let held {
            lines += [
                "", "Held after the load: \(held.userVectorsHeld) user vectors (\(held.userVectorFoldIns) folded in, \(held.userVectorsExpired) expired); "
                    + "\(held.freshItemVectors) collaborative vectors of items the model does not place (\(held.freshItemRefits) computed); "
                    + "\(held.itemStatisticsEntries) (item, hour) statistics entries.",
            ]
        }
        return lines.joined(separator: "\n")
    }
}
