// SPDX-License-Identifier: Apache-2.0
//
// The transparency report (EU Digital Services Act, Art. 27): the main parameters of the ranking in plain
// language with their current values, generated from the live configuration and the serving model, so
// it can never drift from what the engine does.

import Crypto
import Synchronization

/// One ranking parameter, explained.
public struct RankingParameter: Sendable, Equatable, Codable {
    public var name: String
    public var value: String
    public var explanation: String
}

/// The report served at `GET /v1/transparency`.
public struct TransparencyReport: Sendable, Equatable, Codable {
    public var jurisdiction: String
    /// Which model or rule set ranks feeds now, and where it came from.
    public var modelVersion: String
    public var modelOrigin: String
    public var summary: String
    public var parameters: [RankingParameter]
    public var nonProfiledOption: String
    public var userControls: [String]
    /// SHA-256 (hex) of the parameters, so an overseer can tell when they change.
    public var parametersDigest: String

    enum CodingKeys: String, CodingKey {
        case jurisdiction, summary, parameters
        case modelVersion = "model_version"
        case modelOrigin = "model_origin"
        case nonProfiledOption = "non_profiled_option"
        case userControls = "user_controls"
        case parametersDigest = "parameters_digest"
    }
}

extension Recommender {
    /// The transparency report of the live configuration and model.
    public func transparencyReport() -> TransparencyReport {
        let c = configuration
        let s = c.signals
        let f = c.feed
        func p(_ name: String, _ value: some CustomStringConvertible, _ explanation: String) -> RankingParameter {
            RankingParameter(name: name, value: value.description, explanation: explanation)
        }
        var parameters = [
            p("signal.view", "\(s.viewBase) + \(s.viewCompletion) × completion", "A view counts more the larger the share of the item watched (up to 1.5 for replays)."),
            p("signal.short_view", s.shortView, "A view below \(Int(s.shortViewCompletion * 100))% completion counts as a swipe-away and pushes similar items down."),
            p("signal.like", s.like, "Weight of a like."),
            p("signal.share", s.share, "Weight of a share."),
            p("signal.comment", s.comment, "Weight of a comment."),
            p("signal.follow", s.follow, "Weight of following a creator; new items of followed creators become candidates."),
            p("signal.skip", s.skip, "Weight of a skip."),
            p("signal.not_interested", s.notInterested, "Removes the item and its creator from the user's feeds at once."),
            p("source.co_visitation", f.coVisitationWeight, "Items often watched by people who watched what you recently enjoyed."),
            p("source.followed_creator", f.followedCreatorWeight, "New items (up to two weeks old) from creators you follow."),
            p("source.favourite_tag", f.tagWeight, "Popular items in the three topics you engage with most, and topics you asked for more of."),
            p("source.trending", f.trendingWeight, "Items gaining engagement now (half-life \(f.trendingHalfLifeMilliseconds / Timestamp.hour) h)."),
            p("source.learned_model", f.learnedWeight, "The trained model's ranking from your recent positive items, once a model is trained."),
            p("ranking.affinity", f.affinityWeight, "Your learned affinity to an item's topics and creator (recent events count most)."),
            p(
                "ranking.topic_preference",
                "more ×\(EngineState.topicMultipliers[.more]!), less ×\(EngineState.topicMultipliers[.less]!)",
                "The score of an item in a topic you asked to see more or less of is multiplied by this."),
            p("diversity.tag_repeat_penalty", f.tagRepeatPenalty, "Each earlier item of the same topic in a feed multiplies the score by this."),
            p("diversity.creator_spacing", "never two in a row", "Two consecutive items never come from the same creator."),
            p("exploration.share", f.explorationShare, "Share of each feed given to fresh items (published within \(f.freshWindowMilliseconds / Timestamp.hour) h) with the least exposure."),
            p("no_repeat_window_days", f.noRepeatWindowMilliseconds / Timestamp.day, "An item served or acted on is not shown again within this many days."),
            p(
                "retrieval.index_minimum_items", f.indexedRetrievalMinimumItems,
                "From this many items on, the trained model's picks come from an approximate index of its item factors (searched with your folded-in taste vector) instead of scoring every item."),
            p(
                "retrieval.user_vector_expiry_hours", f.userVectorExpiryMilliseconds / Timestamp.hour,
                "Your taste vector for the index is dropped after this many hours without a feed, and folded in again from your recent items when needed."),
            p(
                "retention.user_profile_expiry_days", f.userProfileExpiryMilliseconds.map { "\($0 / Timestamp.day)" } ?? "never",
                "What the engine learned about you (recent items, topics, creators) is forgotten after this many days without an event (a view, a like, ...); follows and 'not interested' marks stay."),
            p(
                "retrieval.fresh_engagers_per_item", f.freshEngagersPerItem,
                "An item newer than the trained model is placed among the items liked by the latest this many users who engaged with it, until the next training."),
            p(
                "retrieval.fresh_vector_limit", f.freshVectorLimit,
                "At most this many items newer than the trained model are placed by who engaged with them; the others by their creator or topics."),
        ]
        let serving = learned.withLock { $0 }
        if let serving {
            parameters.append(
                p("model.transitions_weight", serving.learned.model.transitionsWeight, "Share of 'what people watch next' versus long-term taste in the trained model."))
            if let stage = serving.learned.model.reRanker {
                parameters.append(
                    p(
                        "model.reranking_blend", LearnedBlend.describe(stage.linearWeights),
                        "The trained model ranks the best unseen items of several models (what people watch next, a sequence regression, an autoencoder of items watched together, long-term taste, a popularity-corrected random walk) by this blend of their normalised scores, learned from held-out recent activity of the deployment's own users."))
                parameters.append(
                    p(
                        "model.reranking_trees", stage.forest.treeCount,
                        "Boosted decision trees added to that blend over its best \(stage.configuration.reRankDepth) items (0: the blend alone), kept only when they ranked held-out users' next items clearly better."))
            }
            if serving.licensedPackageID == nil {
                let unlearned = serving.manifest?.provenance.unlearnedUsers ?? 0
                parameters.append(
                    p(
                        "model.unlearned_users", unlearned,
                        "Users erased since the model was trained whose contributions were removed from it (their counts subtracted, the models solved in closed form refitted without them, their items' taste vectors refitted). Weights shared by everyone and keyed by no user (the blend, the trees) are refitted at the next scheduled training, which replaces every such approximation."))
            }
        }
        let digestInput = parameters.map { "\($0.name)=\($0.value)" }.joined(separator: "\n")
        return TransparencyReport(
            jurisdiction: c.jurisdiction.rawValue, modelVersion: serving?.version ?? Self.modelVersion,
            modelOrigin: serving.map { $0.licensedPackageID != nil ? "licensed package" : "trained locally" } ?? "rules",
            summary: "Feeds are ranked from candidate sources (co-visitation, followed creators, favourite topics, trending, popular, and the trained model once one exists), each weighted as listed, plus your learned affinity; then diversified and given a share of fresh items.",
            parameters: parameters,
            nonProfiledOption: "GET /v1/users/{user}/feed?personalized=false (or the user's `personalized: false` control) gives the same global order to everyone (trending, then popular, then newest), minus only items, creators and keywords the user excluded explicitly. It reads no history, affinity, follow or model.",
            userControls: [
                "not_interested on an item removes it and its creator", "topics: more or less of a tag", "keyword_filters: hide items whose tags or creator contain a keyword",
                "reset: forget the learned profile, keep the account", "personalized: false for the non-profiled feed", "export and erasure of all data",
            ],
            parametersDigest: SHA256.hexDigest(Array(digestInput.utf8)))
    }
}
