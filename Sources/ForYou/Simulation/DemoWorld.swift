// SPDX-License-Identifier: Apache-2.0
//
// A generated short-video world for the demo, tests and benchmarks, from a seed.
//
// Shapes, chosen to look like a real short-video platform:
// - creator popularity follows a power law (Zipf, s = 1.1), and so does tag popularity;
// - durations follow the KuaiRand-Pure video table (CC BY-SA 4.0; Gao et al., CIKM 2022): the
//   quantiles below were measured on its 7,583 videos (median 81 s, 10% under 15 s, 10% over 4 min);
//   only these summary figures are used, no data is copied;
// - 75% of items carry one tag and 25% two, as in KuaiRand;
// - each simulated user has two or three hidden favourite tags; they watch items in those tags to the
//   end (often more than once), like and share some, follow a few creators, and swipe away from the
//   rest, which becomes short views and skips.

/// A generated world: items and events in the API's input form, plus the hidden truth about users.
public struct DemoWorld: Sendable {
    /// How big a world to generate.
    public struct Size: Sendable {
        public var creators: Int
        public var items: Int
        public var users: Int
        /// Mean number of sessions per user; each session shows 10...30 items.
        public var sessionsPerUser: Int
        /// - Precondition: every count is at least 1.
        public init(creators: Int, items: Int, users: Int, sessionsPerUser: Int) {
            precondition(creators >= 1 && items >= 1 && users >= 1 && sessionsPerUser >= 1, "a demo world needs at least one of everything")
            self.creators = creators
            self.items = items
            self.users = users
            self.sessionsPerUser = sessionsPerUser
        }
        /// The demo's default: 400 creators, 6,000 items, 1,500 users, about 90,000 events.
        public static let demo = Size(creators: 400, items: 6_000, users: 1_500, sessionsPerUser: 3)
        /// A small world for tests: 40 creators, 400 items, 100 users.
        public static let small = Size(creators: 40, items: 400, users: 100, sessionsPerUser: 3)
    }

    /// A simulated user and the tags they secretly prefer.
    public struct User: Sendable {
        public var id: String
        public var favouriteTags: [String]
    }

    public var items: [ItemInput]
    public var events: [EventInput]
    public var users: [User]
    /// The tag vocabulary, most popular first.
    public static let tags = [
        "comedy", "dance", "food", "pets", "music", "gaming", "beauty", "fitness", "travel", "diy",
        "fashion", "sports", "cars", "science", "art", "parenting", "news", "movies", "anime", "tech",
        "nature", "history", "cooking", "football", "skate", "magic", "asmr", "books", "garden", "finance",
        "language", "photography", "vlog", "pranks", "animals", "design", "music-covers", "chess", "yoga", "coffee",
    ]

    /// KuaiRand-Pure duration quantiles (probability, milliseconds).
    static let durationQuantiles: [(Double, Double)] = [
        (0, 3_000), (0.01, 7_440), (0.05, 10_724), (0.10, 14_583), (0.25, 31_900), (0.50, 81_100),
        (0.75, 148_216), (0.90, 237_666), (0.95, 303_400), (0.99, 509_966), (1, 900_000),
    ]

    /// Generates a world whose events span the week before `now`.
    public static func generate(seed: UInt64, size: Size = .demo, now: Timestamp) -> DemoWorld {
        var random = SplitMix64(seed: seed)
        let creatorWeights = zipf(count: size.creators, exponent: 1.1)
        let tagWeights = zipf(count: tags.count, exponent: 0.8)
        // Each creator has a main tag and a second one.
        let creatorTags: [(Int, Int)] = (0..<size.creators).map { _ in
            (pick(tagWeights, &random), pick(tagWeights, &random))
        }
        let week = 7 * Timestamp.day
        var items: [ItemInput] = []
        var itemCreator: [Int] = []
        var itemTags: [[Int]] = []
        var itemDuration: [Int64] = []
        var itemPublished: [Int64] = []
        var byTag = [[Int]](repeating: [], count: tags.count)
        for index in 0..<size.items {
            let creator = pick(creatorWeights, &random)
            var tagIndices = [creatorTags[creator].0]
            if random.nextUnit() < 0.25 && creatorTags[creator].1 != tagIndices[0] { tagIndices.append(creatorTags[creator].1) }
            let duration = Int64(duration(at: random.nextUnit()))
            // Publication: spread over two weeks, denser recently; 5% in the last 48 hours.
            let age = random.nextUnit() < 0.05 ? Int64(random.nextUnit() * Double(2 * Timestamp.day)) : Int64(random.nextUnit() * random.nextUnit() * Double(2 * week))
            let published = now.milliseconds - age
            items.append(
                ItemInput(
                    id: "v\(index)", creator: "c\(creator)", tags: tagIndices.map { tags[$0] }, durationMilliseconds: duration,
                    language: random.nextUnit() < 0.8 ? "en" : "es", publishedAt: Timestamp(milliseconds: published).rfc3339))
            itemCreator.append(creator)
            itemTags.append(tagIndices)
            itemDuration.append(duration)
            itemPublished.append(published)
            for t in tagIndices { byTag[t].append(index) }
        }
        let itemWeights = WeightedTable((0..<size.items).map { creatorWeights.weights[itemCreator[$0]] })

        var users: [User] = []
        var events: [EventInput] = []
        var eventCounter = 0
        func emit(_ user: String, _ item: Int, _ type: EventType, _ at: Int64, watch: Int64? = nil) {
            events.append(
                EventInput(
                    id: "demo-\(seed)-\(eventCounter)", user: user, item: "v\(item)", type: type.rawValue,
                    at: Timestamp(milliseconds: at).rfc3339, watchMilliseconds: watch))
            eventCounter += 1
        }
        for u in 0..<size.users {
            let user = "u\(u)"
            var favourites: [Int] = []
            let tagsInUse = byTag.filter { !$0.isEmpty }.count
            let favouriteCount = min(2 + Int(random.next() % 2), tagsInUse)
            while favourites.count < favouriteCount {
                let t = pick(tagWeights, &random)
                if !favourites.contains(t) && !byTag[t].isEmpty { favourites.append(t) }
            }
            users.append(User(id: user, favouriteTags: favourites.map { tags[$0] }))
            let sessions = 1 + Int(random.next() % UInt64(2 * size.sessionsPerUser - 1))
            var followed = Set<Int>()
            for _ in 0..<sessions {
                var at = now.milliseconds - Int64(random.nextUnit() * Double(week)) - Timestamp.hour
                let length = 10 + Int(random.next() % 21)
                for _ in 0..<length {
                    // Half the items come from the user's interests, half from what is popular overall.
                    let item: Int
                    if random.nextUnit() < 0.5 {
                        let pool = byTag[favourites[Int(random.next() % UInt64(favourites.count))]]
                        item = pool[Int(random.next() % UInt64(pool.count))]
                    } else {
                        item = pick(itemWeights, &random)
                    }
                    guard itemPublished[item] <= at else { continue }
                    let match = itemTags[item].contains(where: favourites.contains) ? 1.0 : 0.0
                    let appeal = 0.15 + 0.65 * match + 0.2 * random.nextUnit()
                    emit(user, item, .impression, at)
                    let completion = appeal > 0.55 ? 0.6 + random.nextUnit() * 0.9 : random.nextUnit() * 0.35
                    let watch = Int64(Double(itemDuration[item]) * completion)
                    at += max(1_000, watch)
                    emit(user, item, .view, at, watch: watch)
                    if completion < 0.15 && random.nextUnit() < 0.5 { emit(user, item, .skip, at) }
                    if random.nextUnit() < 0.35 * appeal * match { emit(user, item, .like, at + 500) }
                    if random.nextUnit() < 0.06 * appeal * match { emit(user, item, .share, at + 800) }
                    if random.nextUnit() < 0.04 * appeal * match { emit(user, item, .comment, at + 900) }
                    if match > 0 && random.nextUnit() < 0.03 && followed.insert(itemCreator[item]).inserted {
                        emit(user, item, .follow, at + 1_000)
                    }
                    if match == 0 && random.nextUnit() < 0.01 { emit(user, item, .notInterested, at + 300) }
                    at += 2_000
                }
            }
        }
        return DemoWorld(items: items, events: events, users: users)
    }

    /// The positive engagements as `user,item,timestamp` CSV (Unix seconds): views of at least half
    /// the item, likes, shares, comments and follows. The input of `foryou eval` on generated data.
    public func positiveInteractionsCSV() -> String {
        let durations = Dictionary(uniqueKeysWithValues: items.map { ($0.id!, $0.durationMilliseconds!) })
        var csv = "user,item,timestamp\n"
        for event in events {
            guard let item = event.item, let user = event.user, let at = event.at.flatMap(Timestamp.init(rfc3339:)) else { continue }
            switch event.type {
            case "view" where Double(event.watchMilliseconds ?? 0) >= 0.5 * Double(durations[item] ?? 1): break
            case "like", "share", "comment", "follow": break
            default: continue
            }
            csv += "\(user),\(item),\(at.milliseconds / 1000)\n"
        }
        return csv
    }

    /// Zipf weights 1/k^s for k = 1...count, as a table to draw from.
    static func zipf(count: Int, exponent: Double) -> WeightedTable {
        WeightedTable((1...max(1, count)).map { 1 / power(Double($0), exponent) })
    }

    /// An index drawn with probability proportional to the table's weights.
    static func pick(_ table: WeightedTable, _ random: inout SplitMix64) -> Int {
        table.draw(random.nextUnit())
    }

    /// The duration at probability `p`, interpolated log-linearly between the KuaiRand quantiles.
    static func duration(at p: Double) -> Double {
        for ((p0, d0), (p1, d1)) in zip(durationQuantiles, durationQuantiles.dropFirst()) where p <= p1 {
            let t = p1 > p0 ? (p - p0) / (p1 - p0) : 0
            return exponential(logarithm(d0) + t * (logarithm(d1) - logarithm(d0))).rounded()
        }
        return durationQuantiles.last!.1
    }
}

/// Cumulative weights, for drawing an index with probability proportional to its weight in O(log n).
struct WeightedTable: Sendable {
    let weights: [Double]
    private let cumulative: [Double]

    init(_ weights: [Double]) {
        self.weights = weights
        var running = 0.0
        cumulative = weights.map { running += $0; return running }
    }

    /// The index whose cumulative range holds `unit` (in [0, 1)) times the total.
    func draw(_ unit: Double) -> Int {
        let target = unit * (cumulative.last ?? 0)
        return min(cumulative.partitionPoint { $0 > target }, cumulative.count - 1)
    }
}
