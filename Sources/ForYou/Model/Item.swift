// SPDX-License-Identifier: Apache-2.0

/// A piece of content that can appear in a feed: a short video, an article, a track.
public struct Item: Hashable, Sendable {
    /// The item's public identifier.
    public var id: ItemID
    /// The account that published it.
    public var creator: CreatorID
    /// Topic tags, at most ``Item/maximumTags``, each a valid identifier; order is kept.
    public var tags: [String]
    /// Playing time in milliseconds (1 ms ... 24 h); the denominator of a view's completion.
    public var durationMilliseconds: Int64
    /// A language tag such as `en` or `pt-BR`; empty when unknown.
    public var language: String
    /// When the item was published.
    public var publishedAt: Timestamp

    /// The most tags an item may carry.
    public static let maximumTags = 32
    /// The longest duration accepted: one day.
    public static let maximumDurationMilliseconds: Int64 = Timestamp.day

    public init(
        id: ItemID, creator: CreatorID, tags: [String], durationMilliseconds: Int64, language: String,
        publishedAt: Timestamp
    ) {
        self.id = id
        self.creator = creator
        self.tags = tags
        self.durationMilliseconds = durationMilliseconds
        self.language = language
        self.publishedAt = publishedAt
    }
}

/// An item as a client sent it, before validation. Every field may be missing or malformed.
public struct ItemInput: Sendable {
    public var id: String?
    public var creator: String?
    public var tags: [String]?
    public var durationMilliseconds: Int64?
    public var language: String?
    /// RFC 3339 text.
    public var publishedAt: String?
    /// Where the item is published; when present it must be the deployment's jurisdiction.
    public var jurisdiction: String?
    /// A field whose JSON value had the wrong type, with the rule it broke; set by decoders.
    public var malformedField: (field: String, rule: String)?
    /// A field the API does not know; set by decoders.
    public var unknownField: String?

    public init(
        id: String? = nil, creator: String? = nil, tags: [String]? = nil, durationMilliseconds: Int64? = nil,
        language: String? = nil, publishedAt: String? = nil, jurisdiction: String? = nil,
        malformedField: (field: String, rule: String)? = nil
    ) {
        self.jurisdiction = jurisdiction
        self.id = id
        self.creator = creator
        self.tags = tags
        self.durationMilliseconds = durationMilliseconds
        self.language = language
        self.publishedAt = publishedAt
        self.malformedField = malformedField
    }
}
