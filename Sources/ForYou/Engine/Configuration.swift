// SPDX-License-Identifier: Apache-2.0

extension Recommender {
    /// How the engine weighs signals and assembles feeds. Every field has a documented default.
    public struct Configuration: Sendable {
        /// How much each kind of engagement says about what a user wants.
        public var signals = SignalWeights()
        /// How the feed mixes its candidate sources.
        public var feed = FeedConfiguration()
        /// Limits on ingested data.
        public var validation = ValidationRules()
        /// Seed for every random choice (exploration picks); same seed and input give the same feed.
        public var seed: UInt64 = 0x5EED
        /// The most events accepted in one batch. Default: 1000.
        public var maximumEventBatch = 1000
        /// The most items accepted in one upsert. Default: 1000.
        public var maximumItemBatch = 1000
        /// The one jurisdiction this deployment serves (see ``ValidationRules/jurisdiction``). Default: `local`.
        public var jurisdiction: Jurisdiction {
            get { validation.jurisdiction }
            set { validation.jurisdiction = newValue }
        }
        /// Raw Ed25519 public keys (32 bytes) of the licensors whose algorithm packages may be installed.
        /// Default: none (only locally trained models serve).
        public var licensorKeys: [[UInt8]] = []
        /// One feed in this many is written to the audit log with its items and reasons. Default: 100.
        public var auditFeedSampleEvery = 100
        /// Items' statistics per region and hour cover this many hours of event time (totals cover
        /// everything); memory grows with the events of the window. Default: 48.
        public var itemStatisticsRetentionHours = 48
        /// Training adds the learned re-ranking stage (``BlendModel/reRanker``: SLIT, DLAE, RP3beta and
        /// the blend's own two models, re-ranked by weights and trees learned on held-out positions) on
        /// catalogues up to this many items; beyond, it chooses the two-part blend's weight as before (the
        /// stage scores every item per held-out target, so its training cost grows with items × targets).
        /// 0 turns the stage off. Default: 100,000.
        public var learnedReRankingMaximumItems = 100_000
        /// When an erasure unlearns a user, each ALS item vector the user contributed to is refitted
        /// against at most this many of its other engagers (standing for all of them; see
        /// Recommender+Unlearning.swift). Default: 1,000.
        public var unlearningEngagersPerItem = 1_000

        public init() {}

        /// Checks the values whose range matters for correctness, naming the key and its rule.
        public func validate() throws(ForYouError) {
            func check(_ ok: Bool, _ message: String) throws(ForYouError) {
                if !ok { throw ForYouError(.invalidArgument, message) }
            }
            try check(feed.explorationShare >= 0 && feed.explorationShare <= 0.5, "feed.exploration_share must be in 0...0.5")
            try check(feed.noRepeatWindowMilliseconds >= 0, "feed.no_repeat_window_ms must be >= 0")
            try check(feed.trendingHalfLifeMilliseconds > 0, "feed.trending_half_life_ms must be > 0")
            try check(feed.freshWindowMilliseconds > 0, "feed.fresh_window_ms must be > 0")
            try check(feed.recentPositives >= 1 && feed.recentPositives <= 200, "feed.recent_positives must be in 1...200")
            try check(feed.tagRepeatPenalty > 0 && feed.tagRepeatPenalty <= 1, "feed.tag_repeat_penalty must be in (0, 1]")
            try check(feed.indexedRetrievalMinimumItems >= 0, "feed.indexed_retrieval_minimum_items must be >= 0")
            try check(feed.userVectorExpiryMilliseconds > 0, "feed.user_vector_expiry_ms must be > 0")
            try check(feed.freshEngagersPerItem >= 1, "feed.fresh_engagers_per_item must be >= 1")
            try check(
                feed.userProfileExpiryMilliseconds.map { $0 >= feed.noRepeatWindowMilliseconds } ?? true,
                "feed.user_profile_expiry_ms must be at least feed.no_repeat_window_ms")
            try check(feed.freshVectorLimit >= 0, "feed.fresh_vector_limit must be >= 0")
            try check((0...60_000).contains(feed.freshRefitIntervalMilliseconds), "feed.fresh_refit_interval_ms must be in 0...60000")
            try check(signals.positiveThreshold > 0, "signals.positive_threshold must be > 0")
            try check((1...10_000).contains(maximumEventBatch), "maximum_event_batch must be in 1...10000")
            try check((1...10_000).contains(maximumItemBatch), "maximum_item_batch must be in 1...10000")
            try check(auditFeedSampleEvery >= 1, "audit_feed_sample_every must be >= 1")
            try check((1...720).contains(itemStatisticsRetentionHours), "item_statistics_retention_hours must be in 1...720")
            try check(learnedReRankingMaximumItems >= 0, "learned_reranking_maximum_items must be >= 0")
            try check((1...100_000).contains(unlearningEngagersPerItem), "unlearning_engagers_per_item must be in 1...100000")
            try check(licensorKeys.allSatisfy { $0.count == 32 }, "licensor_keys must be raw Ed25519 public keys of 32 bytes")
        }
    }

    /// The weights of each engagement signal. Positive values pull similar items into the feed,
    /// negative values push them out.
    public struct SignalWeights: Sendable {
        /// A view's base weight before completion is added. Default: 0.3.
        public var viewBase: Float = 0.3
        /// Added per unit of completion (`watch_ms / duration_ms`, capped at 1.5 for replays). Default: 1.0.
        public var viewCompletion: Float = 1.0
        /// A view below this completion counts as a quick swipe-away. Default: 0.2.
        public var shortViewCompletion: Float = 0.2
        /// The weight of a quick swipe-away view. Default: -0.3.
        public var shortView: Float = -0.3
        /// A like: deliberate and rarer than a completed view (0.3 + 1.0), so it counts about three times
        /// as much. Default: 4.0 (at 2.0, one like among five completed views barely moved the next feed).
        public var like: Float = 4.0
        public var share: Float = 3.0
        public var comment: Float = 1.5
        public var follow: Float = 3.0
        public var skip: Float = -1.0
        /// `not_interested` also removes the item and its creator from the user's feeds. Default: -4.0.
        public var notInterested: Float = -4.0
        /// Events at or above this weight count as positive engagement (co-visitation, trending). Default: 0.5.
        public var positiveThreshold: Float = 0.5

        public init() {}

        /// The weight of one event on an item of the given duration.
        public func weight(of type: EventType, watchMilliseconds: Int64?, durationMilliseconds: Int64) -> Float {
            switch type {
            case .impression, .profileReset: return 0
            case .view:
                let completion = Float(watchMilliseconds ?? 0) / Float(max(durationMilliseconds, 1))
                if completion < shortViewCompletion { return shortView }
                return viewBase + viewCompletion * min(completion, 1.5)
            case .like: return like
            case .share: return share
            case .comment: return comment
            case .follow: return follow
            case .skip: return skip
            case .notInterested: return notInterested
            }
        }
    }

    /// How a feed is assembled from its candidate sources.
    public struct FeedConfiguration: Sendable {
        /// An item served or watched within this window is never shown again. Default: 30 days.
        public var noRepeatWindowMilliseconds: Int64 = 30 * Timestamp.day
        /// How many of a user's latest positive items seed co-visitation candidates. Default: 20.
        public var recentPositives = 20
        /// Half-life of the trending score. Default: 6 hours.
        public var trendingHalfLifeMilliseconds: Int64 = 6 * Timestamp.hour
        /// Items published within this window count as fresh, for exploration. Default: 48 hours.
        public var freshWindowMilliseconds: Int64 = 48 * Timestamp.hour
        /// Share of each feed given to fresh items with little exposure. Default: 0.1.
        public var explorationShare: Double = 0.1
        /// Weight of the trained model's top items, once a model is trained. Default: 1.0.
        public var learnedWeight: Float = 1.0
        /// Weight of co-visitation ("people who watched X also watched Y"). Default: 1.0.
        public var coVisitationWeight: Float = 1.0
        /// Weight of new items from followed creators. Default: 0.8.
        public var followedCreatorWeight: Float = 0.8
        /// Weight of popular items in the user's favourite tags. Default: 0.6.
        public var tagWeight: Float = 0.6
        /// Weight of globally trending items. Default: 0.3.
        public var trendingWeight: Float = 0.3
        /// Weight of the user's learned tag and creator affinity, applied to every candidate. Default: 1.5
        /// (at 0.5, liking one item among five watched to the end hardly moved the next feed toward its
        /// topic: co-visitation from the other four outweighed it).
        public var affinityWeight: Float = 1.5
        /// Each earlier item in the same feed sharing the first tag multiplies the score by this. Default: 0.8.
        public var tagRepeatPenalty: Float = 0.8
        /// A trained model over at least this many items finds each user's best items in an HNSW index
        /// of its item factors, from the user's folded-in vector, instead of scoring every item.
        /// Default: 20,000 (below it, scoring every item costs under a millisecond and is exact).
        public var indexedRetrievalMinimumItems = 20_000
        /// The index's parameters (M, efConstruction, efSearch). Default: ``HNSWIndex/Configuration``'s.
        public var index = HNSWIndex.Configuration()
        /// A user's folded-in vector unused for this long is dropped (rebuilt on their next feed).
        /// Default: 24 hours.
        public var userVectorExpiryMilliseconds: Int64 = 24 * Timestamp.hour
        /// What was learned about a user idle this long (no event, no feed) is dropped: recent items,
        /// affinities, what they saw; follows and not-interested marks stay. `nil`: never. At least the
        /// no-repeat window. Default: 90 days.
        public var userProfileExpiryMilliseconds: Int64? = 90 * Timestamp.day
        /// An item the indexed model does not know earns a collaborative vector from the latest this many
        /// users who engaged with it positively. Default: 200.
        public var freshEngagersPerItem = 200
        /// The background refit of such items' vectors waits this long between passes (the first starts
        /// at once), so its cost does not grow with the event rate. Default: 250 ms.
        public var freshRefitIntervalMilliseconds: Int64 = 250
        /// At most this many such items hold a collaborative vector (the most recently refitted); each
        /// feed scores all of them exactly, so this bounds its cost (O(n · k)). Default: 10,000.
        public var freshVectorLimit = 10_000

        public init() {}
    }
}
