// SPDX-License-Identifier: Apache-2.0

/// What a user did with an item.
public enum EventType: String, Sendable, CaseIterable, Hashable {
    /// The item was shown; marks it seen, carries no preference.
    case impression
    /// The item was watched for `watch_ms`; completion (`watch_ms / duration_ms`) sets its weight.
    case view
    case like
    case share
    case comment
    /// The user followed the item's creator (or the `creator` the event names).
    case follow
    /// The user swiped past quickly: a negative signal.
    case skip
    /// The user asked for no more of this item and its creator: both leave the feed at once.
    case notInterested = "not_interested"
    /// Written by the engine when the user resets their feed (never accepted from clients): the learned
    /// profile forgets everything before it. Kept in the log, so a replay resets at the same point.
    case profileReset = "profile_reset"

    /// The types clients may send.
    public static var clientTypes: [EventType] { allCases.filter { $0 != .profileReset } }

    /// The documented wire names, in declaration order.
    public static var wireNames: String { clientTypes.map(\.rawValue).joined(separator: ", ") }
}

/// One validated engagement event, as stored in the event log.
public struct Event: Hashable, Sendable {
    /// The client's id; the event log stores each id once.
    public var id: EventID
    public var user: UserID
    /// The item acted on; `nil` only for a `follow` that names a creator directly.
    public var item: ItemID?
    /// The item's creator when the event happened, or the creator followed by a `follow` that names
    /// no item.
    public var creator: CreatorID?
    public var type: EventType
    /// When it happened (client time, at most one day in the future of the server's clock).
    public var at: Timestamp
    /// Milliseconds watched; present for `view` events, optional for `skip`.
    public var watchMilliseconds: Int64?
    /// The item's duration when the event happened: the denominator of a view's completion.
    public var itemDurationMilliseconds: Int64?
    /// Where within the jurisdiction it happened, when the client said; items' statistics are kept per region.
    public var region: RegionID?

    public init(
        id: EventID, user: UserID, item: ItemID?, creator: CreatorID? = nil, type: EventType, at: Timestamp,
        watchMilliseconds: Int64? = nil, itemDurationMilliseconds: Int64? = nil, region: RegionID? = nil
    ) {
        self.region = region
        self.id = id
        self.user = user
        self.item = item
        self.creator = creator
        self.type = type
        self.at = at
        self.watchMilliseconds = watchMilliseconds
        self.itemDurationMilliseconds = itemDurationMilliseconds
    }
}

/// An event as a client sent it, before validation. Every field may be missing or malformed.
public struct EventInput: Sendable {
    public var id: String?
    public var user: String?
    public var item: String?
    public var creator: String?
    public var type: String?
    /// RFC 3339 text; the server's clock is used when absent.
    public var at: String?
    public var watchMilliseconds: Int64?
    /// The user's home jurisdiction; when present it must be the deployment's.
    public var jurisdiction: String?
    /// Where within the jurisdiction the event happened (optional).
    public var region: String?
    /// A field whose JSON value had the wrong type, with the rule it broke; set by decoders.
    public var malformedField: (field: String, rule: String)?
    /// A field the API does not know; set by decoders.
    public var unknownField: String?

    public init(
        id: String? = nil, user: String? = nil, item: String? = nil, creator: String? = nil, type: String? = nil,
        at: String? = nil, watchMilliseconds: Int64? = nil, jurisdiction: String? = nil, region: String? = nil,
        malformedField: (field: String, rule: String)? = nil
    ) {
        self.jurisdiction = jurisdiction
        self.region = region
        self.id = id
        self.user = user
        self.item = item
        self.creator = creator
        self.type = type
        self.at = at
        self.watchMilliseconds = watchMilliseconds
        self.malformedField = malformedField
    }
}
