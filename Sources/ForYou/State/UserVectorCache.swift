// SPDX-License-Identifier: Apache-2.0
//
// Each user's ALS vector for the serving model, folded in from their latest positive items. A vector
// is valid for one model and one history: an accepted positive event changes the history, so the next
// feed folds the vector in again (O(steps · k²), well under a millisecond) and the event counts at once;
// a feed with an unchanged history reuses it. Like Monolith's expirable embeddings, a vector unused
// for `expiry` is dropped, so the cache holds the users active lately, not every user ever seen; it is
// swept when it has doubled since the last sweep (amortised O(1) per insert).

struct UserVectorCache {
    struct Entry {
        var modelVersion: String
        var history: [Int32]
        var vector: [Float]
        var lastUsed: Int64
    }

    private(set) var entries: [UserID: Entry] = [:]
    /// Bumped by every removal: a vector folded in from a history read before a removal (an erasure
    /// or reset racing a feed) is not stored.
    private(set) var generation = 0
    private var sweepAtCount = 1_024
    /// How many vectors were folded in, and how many expired.
    private(set) var foldIns = 0
    private(set) var expired = 0

    /// The cached vector when it was folded in for this model and history; marks it used.
    mutating func vector(for user: UserID, modelVersion: String, history: [Int32], now: Int64) -> [Float]? {
        guard var entry = entries[user], entry.modelVersion == modelVersion, entry.history == history else { return nil }
        entry.lastUsed = now
        entries[user] = entry
        return entry.vector
    }

    /// Stores a freshly folded-in vector, unless a removal happened since `generation` was read
    /// (before the history was); sweeps expired ones when the cache has doubled.
    mutating func store(
        _ vector: [Float], for user: UserID, modelVersion: String, history: [Int32], now: Int64, expiry: Int64, readAt generation: Int
    ) {
        guard generation == self.generation else { return }
        entries[user] = Entry(modelVersion: modelVersion, history: history, vector: vector, lastUsed: now)
        foldIns += 1
        if entries.count >= sweepAtCount {
            sweep(now: now, expiry: expiry)
            sweepAtCount = max(1_024, 2 * entries.count)
        }
    }

    /// Drops every vector unused for `expiry` or more.
    mutating func sweep(now: Int64, expiry: Int64) {
        let before = entries.count
        entries = entries.filter { now - $0.value.lastUsed < expiry }
        expired += before - entries.count
    }

    /// Forgets one user (erasure) or everyone (a rebuilt state).
    mutating func remove(_ user: UserID) {
        entries[user] = nil
        generation &+= 1
    }

    mutating func removeAll() {
        entries = [:]
        generation &+= 1
    }
}
