// SPDX-License-Identifier: Apache-2.0
//
// Aggregate engagement over all users: co-visitation between items, a time-decayed trending score,
// total popularity and how often each item was served (exposure).
//
// Co-visitation: when a user engages positively with item j, every item i among their latest positive
// items gains weight min(w_i, w_j) · exp(-|t_j - t_i| / gap) with j, and j with i; items engaged with
// close together in time are more related. Trending uses forward decay (Cormode et al., ICDE 2009):
// an event at time t adds w · exp((t - landmark) / τ), so comparing stored values compares decayed
// scores at any common "now" without touching every item as time passes; values are rescaled when the
// exponent grows large. Every contribution is a function of one user's own event sequence, so erasing a
// user subtracts exactly what they added (see `EngineState.erase`).



struct EngagementState {
    /// Item index → (co-visited item → weight). Indexed by position rather than hashed: a positive
    /// event bumps up to 2 × `recentPositives` pairs, each a random row of a large catalogue.
    private var coVisitationRows: [CoVisitationRow] = []
    /// Forward-decayed positive engagement per item, relative to `landmark`.
    private(set) var trending: [Double] = []
    /// Total positive weight per item, never decayed.
    private(set) var popularity: [Float] = []
    /// How many feeds each item was served in.
    private(set) var exposure: [Int32] = []
    /// The landmark of forward decay, ms since epoch; set by the first positive event.
    private(set) var landmark: Int64?
    /// The largest trending value, for normalising.
    private(set) var maximumTrending: Double = 0

    let trendingTau: Double
    /// Time scale over which two engagements stop being related, ms. One day.
    static let coVisitationGap: Double = Double(Timestamp.day)

    init(trendingHalfLifeMilliseconds: Int64) {
        trendingTau = Double(trendingHalfLifeMilliseconds) / 0.693_147_180_559_945_3
    }

    /// Grows the per-item arrays to hold `count` items.
    mutating func reserve(items count: Int) {
        if trending.count < count {
            let extra = count - trending.count
            trending.append(contentsOf: repeatElement(0, count: extra))
            popularity.append(contentsOf: repeatElement(0, count: extra))
            exposure.append(contentsOf: repeatElement(0, count: extra))
            coVisitationRows.append(contentsOf: repeatElement(CoVisitationRow(), count: extra))
        }
    }

    /// The items co-visited with `item`, with their weights (empty when none).
    func coVisitation(of item: Int32) -> CoVisitationRow {
        Int(item) < coVisitationRows.count ? coVisitationRows[Int(item)] : CoVisitationRow()
    }

    /// Reads what ``add(item:weight:at:recent:sign:)`` reads first of an item (see CacheWarming.swift).
    func warmth(of item: Int32) -> UInt64 {
        let i = Int(item)
        return warmth(ofRow: item) &+ trending[i].bitPattern &+ UInt64(popularity[i].bitPattern)
    }

    /// Reads where an item's co-visitation row is (see CacheWarming.swift).
    func warmth(ofRow item: Int32) -> UInt64 { UInt64(coVisitationRows[Int(item)].count) }

    /// Adds (sign +1) or removes (sign -1) one positive engagement and its co-visitations.
    mutating func add(item: Int32, weight: Float, at: Int64, recent: [UserState.RecentPositive], sign: Float) {
        let i = Int(item)
        popularity[i] = max(0, popularity[i] + sign * weight)
        let base = landmark ?? at
        if landmark == nil { landmark = at }
        var exponent = Double(at - base) / trendingTau
        if exponent > 300 {
            rescale(to: at)
            exponent = 0
        }
        let contribution = Double(weight) * exponential(exponent)
        trending[i] = max(0, trending[i] + Double(sign) * contribution)
        if sign > 0 { maximumTrending = max(maximumTrending, trending[i]) }
        // Read the slot of every pair first (CacheWarming.swift): these loads do not depend on each other, so the processor
        // overlaps their cache misses (rows of a large catalogue are rarely cached), and the updates
        // below then find them cached instead of waiting for each miss in turn.
        var touched: UInt64 = 0
        for other in recent where other.item != item {
            touched &+= coVisitationRows[Int(other.item)].firstSlot(for: item) &+ coVisitationRows[Int(item)].firstSlot(for: other.item)
        }
        CacheWarming.keep(touched)
        for other in recent where other.item != item {
            let gap = Double(abs(at - other.at)) / Self.coVisitationGap
            let pair = sign * min(weight, other.weight) * Float(exponential(-gap))
            bump(other.item, item, by: pair)
            bump(item, other.item, by: pair)
        }
    }

    private mutating func bump(_ a: Int32, _ b: Int32, by amount: Float) {
        // Mutated in place through the subscript: copying a row out and back would copy it each time.
        if amount > 0 {
            coVisitationRows[Int(a)].add(amount, to: b)
            return
        }
        let value = (coVisitationRows[Int(a)][b] ?? 0) + amount
        coVisitationRows[Int(a)].set(value > 1e-6 ? value : nil, for: b)
    }

    /// Moves the landmark forward to `time`, scaling every value so the ordering is unchanged.
    private mutating func rescale(to time: Int64) {
        guard let old = landmark else { return }
        let factor = exponential(-Double(time - old) / trendingTau)
        for i in trending.indices { trending[i] *= factor }
        maximumTrending *= factor
        landmark = time
    }

    /// Trending value of an item relative to the current maximum, in 0...1.
    func normalizedTrending(_ item: Int32) -> Float {
        maximumTrending > 0 ? Float(trending[Int(item)] / maximumTrending) : 0
    }

    mutating func recordExposure(_ item: Int32) { exposure[Int(item)] &+= 1 }

    mutating func recomputeMaximumTrending() { maximumTrending = trending.max() ?? 0 }
}
