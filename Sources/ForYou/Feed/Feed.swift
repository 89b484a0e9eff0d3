// SPDX-License-Identifier: Apache-2.0

/// Why an item is in a feed: the candidate source that put it there, with the signal behind it.
public enum FeedReason: Hashable, Sendable {
    /// Co-watched with an item the user engaged with recently.
    case coVisitation(because: ItemID)
    /// New from a creator the user follows.
    case followedCreator(CreatorID)
    /// Popular in a tag the user engages with.
    case favouriteTag(String)
    /// Trending across all users.
    case trending
    /// A fresh item getting its first audience (exploration).
    case exploration
    /// Popular overall; used when the other sources run dry.
    case popular
    /// Ranked high by the trained model from what the user watched, the latest being this item.
    case learned(after: ItemID)

    /// A stable snake_case name of the candidate source.
    public var source: String {
        switch self {
        case .coVisitation: "co_visitation"
        case .followedCreator: "followed_creator"
        case .favouriteTag: "favourite_tag"
        case .trending: "trending"
        case .exploration: "exploration"
        case .popular: "popular"
        case .learned: "learned_model"
        }
    }

    /// A short human sentence, shown as "why this item".
    public var sentence: String {
        switch self {
        case .coVisitation(let item): "because you watched \(item)"
        case .followedCreator(let creator): "new from \(creator), a creator you follow"
        case .favouriteTag(let tag): "because you like #\(tag)"
        case .trending: "popular in the last few hours"
        case .exploration: "new, and finding its first audience"
        case .popular: "popular on this platform"
        case .learned(let item): "the trained model's pick after you watched \(item)"
        }
    }
}

/// One weighted signal behind a feed item.
public struct FeedSignal: Hashable, Sendable {
    /// A stable name: `co_visitation`, `followed_creator`, `favourite_tag`, `trending`, `popular`,
    /// `learned_model`, `affinity`, `exploration`, or a topic preference `topic_more` / `topic_less`.
    public var name: String
    /// Its weighted contribution to the score (for a topic preference, the multiplier).
    public var value: Float
}

/// One item of a feed.
public struct FeedEntry: Hashable, Sendable {
    public var item: ItemID
    /// The ranking score; higher ranked first, comparable within one feed only.
    public var score: Float
    /// The candidate source that put the item there, with the signal behind it.
    public var reason: FeedReason
    /// The strongest signals of its score, strongest first.
    public var signals: [FeedSignal] = []
}

/// A ranked feed for one user.
public struct Feed: Hashable, Sendable {
    public var user: UserID
    /// Which model, algorithm package or rule set built this feed.
    public var modelVersion: String
    /// `false` for the feed not based on profiling.
    public var personalized = true
    public var entries: [FeedEntry]
}
