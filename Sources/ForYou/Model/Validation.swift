// SPDX-License-Identifier: Apache-2.0
//
// Turns client inputs into validated values. Every rule is checked here, once, and every failure names
// the field and the rule, so the HTTP layer only decodes JSON and the demo and importers share the path.

/// The limits ingested data must respect.
public struct ValidationRules: Sendable {
    /// How far in the future of the server's clock an event or publication time may lie. Default: one day.
    public var maximumClockSkewMilliseconds: Int64 = Timestamp.day
    /// The longest `watch_ms` accepted. Default: one day (anything longer is a client bug).
    public var maximumWatchMilliseconds: Int64 = Timestamp.day
    /// The one jurisdiction this deployment serves; records naming another are refused with
    /// `wrong_jurisdiction`. Default: `local`.
    public var jurisdiction = Jurisdiction.local
    public init() {}

    /// Refuses a record whose `jurisdiction` names another one than this deployment's.
    func checkJurisdiction(_ raw: String?, of record: String) throws(ForYouError) {
        guard let raw else { return }
        let named = try Jurisdiction(validating: raw)
        guard named == jurisdiction else {
            throw ForYouError(
                .wrongJurisdiction,
                "`jurisdiction` is \(named) but this deployment serves \(jurisdiction) only; \(record) of other jurisdictions are never stored here")
        }
    }
}

extension ValidationRules {
    /// Validates one event.
    /// - Parameters:
    ///   - now: the server's clock, for the future-skew rule and as the default `at`.
    ///   - catalogue: the catalogued item with an id, or `nil` when the item is unknown. The event keeps
    ///     the item's creator and duration as they were, so replaying the log gives the same weights
    ///     even after the item is re-upserted.
    /// - Throws: a record-level ``ForYouError`` naming the field.
    public func validate(
        _ input: EventInput, now: Timestamp, catalogue: (ItemID) -> Item?
    ) throws(ForYouError) -> Event {
        try validate(input, now: now) { id in catalogue(id).map { ($0.creator, $0.durationMilliseconds) } }
    }

    /// Validates one event against what the catalogue holds of its item: its creator and duration, which
    /// ingestion looks up for a whole batch under the state lock (no copy of the whole item).
    func validate(
        _ input: EventInput, now: Timestamp, creatorAndDuration: (ItemID) -> (creator: CreatorID, durationMilliseconds: Int64)?
    ) throws(ForYouError) -> Event {
        if let unknown = input.unknownField {
            throw ForYouError(.unknownField, "`\(unknown)` is not a field of an event (fields: id, user, item, creator, type, at, watch_ms, jurisdiction, region)")
        }
        if let malformed = input.malformedField {
            throw ForYouError(.invalidValue, "`\(malformed.field)` \(malformed.rule)")
        }
        try checkJurisdiction(input.jurisdiction, of: "users")
        guard let rawID = input.id else { throw ForYouError(.missingField, "`id` is required") }
        let id = try EventID(validating: rawID, field: "id")
        guard let rawUser = input.user else { throw ForYouError(.missingField, "`user` is required") }
        let user = try UserID(validating: rawUser, field: "user")
        guard let rawType = input.type else { throw ForYouError(.missingField, "`type` is required") }
        guard let type = EventType(rawValue: rawType), type != .profileReset else {
            throw ForYouError(.unknownType, "`type` must be one of \(EventType.wireNames)")
        }
        let at: Timestamp
        if let rawAt = input.at {
            guard let parsed = Timestamp(rfc3339: rawAt) else {
                throw ForYouError(.invalidTimestamp, "`at` must be an RFC 3339 date-time such as 2026-11-26T08:30:00Z")
            }
            guard parsed.milliseconds >= 0 else {
                throw ForYouError(.invalidTimestamp, "`at` must not be before 1970-01-01T00:00:00Z")
            }
            guard parsed.milliseconds(since: now) <= maximumClockSkewMilliseconds else {
                throw ForYouError(.timestampInFuture, "`at` must not be more than one day in the future")
            }
            at = parsed
        } else {
            at = now
        }
        var item: ItemID?
        var creator: CreatorID?
        var duration: Int64?
        if input.creator != nil && type != .follow {
            throw ForYouError(.invalidValue, "`creator` is only allowed on follow events")
        }
        if let rawItem = input.item {
            let itemID = try ItemID(validating: rawItem, field: "item")
            guard let catalogued = creatorAndDuration(itemID) else {
                throw ForYouError(.unknownItem, "`item` names an item that was never upserted (PUT /v1/items first)")
            }
            if let rawCreator = input.creator, rawCreator != catalogued.creator.rawValue {
                throw ForYouError(.invalidValue, "`creator` must be the item's creator when both are given; send one of them")
            }
            item = itemID
            creator = catalogued.creator
            duration = catalogued.durationMilliseconds
        } else if type == .follow {
            guard let rawCreator = input.creator else {
                throw ForYouError(.missingField, "`item` or `creator` is required for a follow")
            }
            creator = try CreatorID(validating: rawCreator, field: "creator")
        } else {
            throw ForYouError(.missingField, "`item` is required")
        }
        var watch: Int64?
        if let rawWatch = input.watchMilliseconds {
            guard type == .view || type == .skip else {
                throw ForYouError(.invalidValue, "`watch_ms` is only allowed on view and skip events")
            }
            guard rawWatch >= 0 else { throw ForYouError(.invalidValue, "`watch_ms` must be >= 0") }
            guard rawWatch <= maximumWatchMilliseconds else {
                throw ForYouError(.invalidValue, "`watch_ms` must be at most \(maximumWatchMilliseconds) (one day)")
            }
            watch = rawWatch
        } else if type == .view {
            throw ForYouError(.missingField, "`watch_ms` is required for a view")
        }
        let region = try input.region.map { raw throws(ForYouError) in try RegionID(validating: raw, field: "region") }
        return Event(
            id: id, user: user, item: item, creator: creator, type: type, at: at, watchMilliseconds: watch,
            itemDurationMilliseconds: duration, region: region)
    }

    /// Validates one item.
    /// - Throws: a record-level ``ForYouError`` naming the field.
    public func validate(_ input: ItemInput, now: Timestamp) throws(ForYouError) -> Item {
        if let unknown = input.unknownField {
            throw ForYouError(.unknownField, "`\(unknown)` is not a field of an item (fields: id, creator, tags, duration_ms, language, published_at, jurisdiction)")
        }
        if let malformed = input.malformedField {
            throw ForYouError(.invalidValue, "`\(malformed.field)` \(malformed.rule)")
        }
        try checkJurisdiction(input.jurisdiction, of: "items")
        guard let rawID = input.id else { throw ForYouError(.missingField, "`id` is required") }
        let id = try ItemID(validating: rawID, field: "id")
        guard let rawCreator = input.creator else { throw ForYouError(.missingField, "`creator` is required") }
        let creator = try CreatorID(validating: rawCreator, field: "creator")
        let tags = input.tags ?? []
        guard tags.count <= Item.maximumTags else {
            throw ForYouError(.invalidValue, "`tags` must hold at most \(Item.maximumTags) tags, got \(tags.count)")
        }
        for tag in tags {
            guard tag.utf8.count <= 64 else { throw ForYouError(.invalidValue, "`tags` entries must be at most 64 bytes") }
            try IdentifierRules.validate(tag, field: "tags")
        }
        guard let duration = input.durationMilliseconds else {
            throw ForYouError(.missingField, "`duration_ms` is required")
        }
        guard duration > 0, duration <= Item.maximumDurationMilliseconds else {
            throw ForYouError(.invalidValue, "`duration_ms` must be in 1...\(Item.maximumDurationMilliseconds) (one day)")
        }
        let language = input.language ?? ""
        let languageIsTag = language.utf8.allSatisfy { $0 == 45 || (48...57).contains($0) || (65...90).contains($0) || (97...122).contains($0) }
        guard language.utf8.count <= 35, languageIsTag else {
            throw ForYouError(.invalidValue, "`language` must be a language tag such as en or pt-BR (letters, digits, '-', at most 35 bytes)")
        }
        let publishedAt: Timestamp
        if let rawPublished = input.publishedAt {
            guard let parsed = Timestamp(rfc3339: rawPublished), parsed.milliseconds >= 0 else {
                throw ForYouError(.invalidTimestamp, "`published_at` must be an RFC 3339 date-time after 1970, such as 2026-11-26T08:30:00Z")
            }
            guard parsed.milliseconds(since: now) <= maximumClockSkewMilliseconds else {
                throw ForYouError(.timestampInFuture, "`published_at` must not be more than one day in the future")
            }
            publishedAt = parsed
        } else {
            publishedAt = now
        }
        return Item(
            id: id, creator: creator, tags: tags, durationMilliseconds: duration, language: language,
            publishedAt: publishedAt)
    }
}
