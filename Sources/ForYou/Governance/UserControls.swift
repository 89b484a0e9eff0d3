// SPDX-License-Identifier: Apache-2.0

/// What a user chose explicitly about their feed. Unlike the learned profile, these are the user's own
/// settings: they survive "reset my feed" and apply to the non-profiled feed too (exclusions only).
public struct UserControls: Sendable, Equatable, Codable {
    /// More or less of a topic.
    public enum TopicPreference: String, Sendable, Codable, CaseIterable {
        case more
        case less
    }

    /// `false` makes every feed of this user the non-profiled one, as `?personalized=false` does.
    public var personalized = true
    /// Tag → more or less of it.
    public var topics: [String: TopicPreference] = [:]
    /// Items whose tags or creator contain any of these (case-insensitive) never appear.
    public var keywordFilters: [String] = []
    /// When the user last reset their feed: the learned profile forgets every event before it.
    public var resetAt: Timestamp?

    /// The most topics and keyword filters a user may set.
    public static let maximumEntries = 100

    public init(personalized: Bool = true, topics: [String: TopicPreference] = [:], keywordFilters: [String] = [], resetAt: Timestamp? = nil) {
        self.personalized = personalized
        self.topics = topics
        self.keywordFilters = keywordFilters
        self.resetAt = resetAt
    }

    enum CodingKeys: String, CodingKey {
        case personalized, topics
        case keywordFilters = "keyword_filters"
        case resetAt = "reset_at_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        personalized = try container.decodeIfPresent(Bool.self, forKey: .personalized) ?? true
        topics = try container.decodeIfPresent([String: TopicPreference].self, forKey: .topics) ?? [:]
        keywordFilters = try container.decodeIfPresent([String].self, forKey: .keywordFilters) ?? []
        resetAt = try container.decodeIfPresent(Int64.self, forKey: .resetAt).map(Timestamp.init(milliseconds:))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(personalized, forKey: .personalized)
        try container.encode(topics, forKey: .topics)
        try container.encode(keywordFilters, forKey: .keywordFilters)
        try container.encodeIfPresent(resetAt?.milliseconds, forKey: .resetAt)
    }

    /// Checks the user-supplied parts, naming the field and the rule.
    public func validate() throws(ForYouError) {
        guard topics.count <= Self.maximumEntries else {
            throw ForYouError(.invalidValue, "`topics` must hold at most \(Self.maximumEntries) tags, got \(topics.count)")
        }
        for tag in topics.keys {
            guard tag.utf8.count <= 64 else { throw ForYouError(.invalidValue, "`topics` keys must be tags of at most 64 bytes") }
            try IdentifierRules.validate(tag, field: "topics")
        }
        guard keywordFilters.count <= Self.maximumEntries else {
            throw ForYouError(.invalidValue, "`keyword_filters` must hold at most \(Self.maximumEntries) keywords, got \(keywordFilters.count)")
        }
        for keyword in keywordFilters {
            guard (1...64).contains(keyword.utf8.count) else {
                throw ForYouError(.invalidValue, "`keyword_filters` entries must be 1...64 bytes")
            }
            try IdentifierRules.validate(keyword, field: "keyword_filters")
        }
    }

    /// The keyword filters, lowercased for matching.
    var loweredKeywords: [String] { keywordFilters.map { $0.lowercased() } }
}
