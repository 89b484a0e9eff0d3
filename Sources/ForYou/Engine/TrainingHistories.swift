// SPDX-License-Identifier: Apache-2.0
//
// What training learns from, built one way for training and for unlearning: each user's positive
// items (weight ≥ `SignalWeights.positiveThreshold`) in event time order (log order breaks ties),
// each item once, as indices of the items being modelled. Unlearning rebuilds an erased user's
// history, and the others', exactly as the training that it corrects built them.

import Crypto

/// Training histories accumulated from events in log order.
struct TrainingHistories {
    let signals: Recommender.SignalWeights
    /// The index of each modelled item.
    let index: [ItemID: Int32]
    /// Each modelled item's duration (ms), by index.
    let durations: [Int64]
    /// Events later than this (ms since the epoch) are left out: a model's last training event, when
    /// rebuilding what it was trained on; `nil` for none.
    let through: Int64?
    private(set) var timed: [UserID: [(at: Int64, position: Int, item: Int32)]] = [:]
    /// Positive events taken.
    private(set) var events = 0
    private(set) var digest = SHA256()
    private(set) var firstAt = Int64.max
    private(set) var lastAt = Int64.min

    init(signals: Recommender.SignalWeights, index: [ItemID: Int32], durations: [Int64], through: Int64? = nil) {
        self.signals = signals
        self.index = index
        self.durations = durations
        self.through = through
    }

    /// Takes an event if it is a positive one on a modelled item (and not later than `through`).
    mutating func add(_ event: Event) {
        guard let item = event.item, let index = index[item] else { return }
        if let through, event.at.milliseconds > through { return }
        let weight = signals.weight(
            of: event.type, watchMilliseconds: event.watchMilliseconds, durationMilliseconds: event.itemDurationMilliseconds ?? durations[Int(index)])
        guard weight >= signals.positiveThreshold else { return }
        events += 1
        timed[event.user, default: []].append((event.at.milliseconds, events, index))
        digest.update(data: Array("\(event.user.rawValue)\u{1F}\(item.rawValue)\u{1F}\(event.at.milliseconds)\n".utf8))
        firstAt = min(firstAt, event.at.milliseconds)
        lastAt = max(lastAt, event.at.milliseconds)
    }

    /// How many positive events of `user` were taken.
    func events(of user: UserID) -> Int { timed[user]?.count ?? 0 }

    /// Each user's history: items in time order, each once.
    func histories() -> [UserID: [Int32]] {
        var histories: [UserID: [Int32]] = [:]
        for (user, entries) in timed {
            var seen = Set<Int32>()
            histories[user] = entries.sorted { ($0.at, $0.position) < ($1.at, $1.position) }.map(\.item).filter { seen.insert($0).inserted }
        }
        return histories
    }
}
