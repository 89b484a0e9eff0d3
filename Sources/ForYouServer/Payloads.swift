// SPDX-License-Identifier: Apache-2.0
//
// Request and response bodies of the HTTP API (JSON, snake_case).
//
// Request records decode leniently: a field of the wrong JSON type, or a field the API does not know,
// does not fail the whole batch; it marks that record, so the engine can reject just that event and
// name the field. The batch size is checked before any record is decoded, so a 4 MiB body of empty
// objects cannot turn into a million records in memory.

import ForYou
import Hummingbird

/// Any JSON object key.
private struct AnyKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

/// Reads one JSON object field by field, remembering the first malformed and the first unknown field.
private struct LenientObject {
    let container: KeyedDecodingContainer<AnyKey>
    var malformed: (field: String, rule: String)?
    let unknown: String?

    init?(_ decoder: any Decoder, known: Set<String>) {
        guard let container = try? decoder.container(keyedBy: AnyKey.self) else { return nil }
        self.container = container
        unknown = container.allKeys.map(\.stringValue).filter { !known.contains($0) }.sorted().first
    }

    mutating func field<Value: Decodable>(_ key: String, _ rule: String) -> Value? {
        do {
            return try container.decodeIfPresent(Value.self, forKey: AnyKey(stringValue: key))
        } catch {
            if malformed == nil { malformed = (key, rule) }
            return nil
        }
    }
}

/// The per-batch record limit, passed to decoders through `userInfo`.
extension CodingUserInfoKey {
    static let batchLimit = CodingUserInfoKey(rawValue: "foryou.batchLimit")!
}

/// Decodes the array under `key`, refusing it before decoding any element when it is longer than the limit.
private func limitedArray<Element: Decodable>(_ decoder: any Decoder, key: String) throws -> [Element] {
    let container = try decoder.container(keyedBy: AnyKey.self)
    var list = try container.nestedUnkeyedContainer(forKey: AnyKey(stringValue: key))
    if let limit = decoder.userInfo[.batchLimit] as? Int, let count = list.count, count > limit {
        throw ForYouError(.invalidArgument, "`\(key)` must hold at most \(limit) records, got \(count)")
    }
    var elements: [Element] = []
    elements.reserveCapacity(list.count ?? 0)
    while !list.isAtEnd { elements.append(try list.decode(Element.self)) }
    return elements
}

/// `POST /v1/events` body.
struct EventBatchRequest: Decodable {
    var events: [LenientEvent]
    init(from decoder: any Decoder) throws { events = try limitedArray(decoder, key: "events") }
}

struct LenientEvent: Decodable {
    var input: EventInput
    static let fields: Set<String> = ["id", "user", "item", "creator", "type", "at", "watch_ms", "jurisdiction"]

    init(from decoder: any Decoder) throws {
        guard var object = LenientObject(decoder, known: Self.fields) else {
            input = EventInput(malformedField: ("event", "must be a JSON object"))
            return
        }
        let text = "must be a string"
        input = EventInput(
            id: object.field("id", text), user: object.field("user", text), item: object.field("item", text),
            creator: object.field("creator", text), type: object.field("type", text),
            at: object.field("at", "must be an RFC 3339 string"),
            watchMilliseconds: object.field("watch_ms", "must be an integer number of milliseconds"),
            jurisdiction: object.field("jurisdiction", text))
        input.malformedField = object.malformed
        input.unknownField = object.unknown
    }
}

/// `POST /v1/events` answer.
struct EventBatchResponse: Codable, Sendable {
    struct Rejection: Codable, Sendable {
        var index: Int
        var id: String?
        var code: String
        var message: String
    }
    var accepted: Int
    var duplicates: Int
    var rejected: [Rejection]
}

/// `PUT /v1/items` body.
struct ItemBatchRequest: Decodable {
    var items: [LenientItem]
    init(from decoder: any Decoder) throws { items = try limitedArray(decoder, key: "items") }
}

struct LenientItem: Decodable {
    var input: ItemInput
    static let fields: Set<String> = ["id", "creator", "tags", "duration_ms", "language", "published_at", "jurisdiction"]

    init(from decoder: any Decoder) throws {
        guard var object = LenientObject(decoder, known: Self.fields) else {
            input = ItemInput(malformedField: ("item", "must be a JSON object"))
            return
        }
        let text = "must be a string"
        input = ItemInput(
            id: object.field("id", text), creator: object.field("creator", text), tags: object.field("tags", "must be an array of strings"),
            durationMilliseconds: object.field("duration_ms", "must be an integer number of milliseconds"),
            language: object.field("language", text), publishedAt: object.field("published_at", "must be an RFC 3339 string"),
            jurisdiction: object.field("jurisdiction", text))
        input.malformedField = object.malformed
        input.unknownField = object.unknown
    }
}

/// `PUT /v1/items` answer.
struct ItemBatchResponse: Codable, Sendable {
    var upserted: Int
}

/// `GET /v1/users/{user}/feed` answer.
struct FeedResponse: Codable, Sendable {
    struct Entry: Codable, Sendable {
        var item: String
        var score: Float
        var reason: String
        /// The candidate source, a stable snake_case name.
        var source: String
        /// The strongest signals of the score.
        var signals: [Signal]
        /// The item's metadata, for clients that render cards.
        var creator: String?
        var tags: [String]?
        var durationMs: Int64?
        enum CodingKeys: String, CodingKey { case item, score, reason, source, signals, creator, tags, durationMs = "duration_ms" }
    }
    struct Signal: Codable, Sendable {
        var name: String
        var value: Float
    }
    var user: String
    var modelVersion: String
    var personalized: Bool
    var items: [Entry]
    enum CodingKeys: String, CodingKey { case user, modelVersion = "model_version", personalized, items }

    init(_ feed: Feed, items catalogued: [Item?] = []) {
        user = feed.user.rawValue
        modelVersion = feed.modelVersion
        personalized = feed.personalized
        items = feed.entries.enumerated().map { index, entry in
            let item = index < catalogued.count ? catalogued[index] : nil
            return Entry(
                item: entry.item.rawValue, score: entry.score, reason: entry.reason.sentence, source: entry.reason.source,
                signals: entry.signals.map { Signal(name: $0.name, value: $0.value) }, creator: item?.creator.rawValue, tags: item?.tags,
                durationMs: item?.durationMilliseconds)
        }
    }
}

/// `DELETE /v1/users/{user}` answer.
struct ErasureResponse: Codable, Sendable {
    var user: String
    var erased: Bool
    var eventsDeleted: Int
    enum CodingKeys: String, CodingKey { case user, erased, eventsDeleted = "events_deleted" }
}

/// `POST /v1/models/train` and `GET /v1/models/current` answer.
struct ModelResponse: Codable, Sendable {
    var modelVersion: String
    var trainedAt: String
    var users: Int
    var events: Int
    var items: Int
    var transitionsWeight: Float
    var description: String
    var provenance: Provenance?
    var license: License?
    var packageID: String?
    var hyperparameters: BlendHyperparameters
    enum CodingKeys: String, CodingKey {
        case modelVersion = "model_version", trainedAt = "trained_at", users, events, items
        case transitionsWeight = "transitions_weight", description, provenance, license, hyperparameters
        case packageID = "package_id"
    }
    init(_ info: Recommender.ModelInfo) {
        provenance = info.provenance
        license = info.license
        packageID = info.packageID
        hyperparameters = info.hyperparameters
        modelVersion = info.version
        trainedAt = info.trainedAt.rfc3339
        users = info.users
        events = info.events
        items = info.items
        transitionsWeight = info.transitionsWeight
        description = info.description
    }
}

/// `POST /v1/keys` body.
struct KeyRequest: Codable, Sendable {
    var name: String
    var role: String
}

/// A key record (never the key itself, except once in the answer to its creation).
struct KeyResponse: Codable, Sendable {
    var id: String
    var name: String
    var role: String
    var createdAt: String
    var revokedAt: String?
    /// The key text: present only in the answer to `POST /v1/keys`; it is never shown again.
    var key: String?
    enum CodingKeys: String, CodingKey { case id, name, role, key, createdAt = "created_at", revokedAt = "revoked_at" }

    init(_ record: APIKeyRecord, key: String? = nil) {
        id = record.id
        name = record.name
        role = record.role.rawValue
        createdAt = record.createdAt.rfc3339
        revokedAt = record.revokedAt?.rfc3339
        self.key = key
    }
}

/// `GET /v1/keys` answer.
struct KeyListResponse: Codable, Sendable {
    var keys: [KeyResponse]
}

/// `GET /v1/models` answer: the stored models, newest first.
struct ModelListResponse: Codable, Sendable {
    struct Model: Codable, Sendable {
        var modelVersion: String
        var trainedAt: String?
        var packageID: String?
        var state: String
        var refusal: String?
        var provenance: Provenance?
        var license: License?
        enum CodingKeys: String, CodingKey {
            case state, refusal, provenance, license
            case modelVersion = "model_version", trainedAt = "trained_at", packageID = "package_id"
        }
    }
    var models: [Model]

    init(_ models: [Recommender.StoredModel]) {
        self.models = models.map {
            Model(
                modelVersion: $0.version, trainedAt: $0.trainedAt?.rfc3339, packageID: $0.packageID, state: $0.state, refusal: $0.refusal,
                provenance: $0.provenance, license: $0.license)
        }
    }
}

/// `GET /healthz` answer.
struct HealthResponse: Codable, Sendable {
    var status: String
    var modelVersion: String
    var items: Int
    var users: Int
    enum CodingKeys: String, CodingKey { case status, modelVersion = "model_version", items, users }
}

/// `PUT /v1/users/{user}/controls` body and `GET` answer.
struct ControlsBody: Codable, Sendable {
    var personalized: Bool?
    var topics: [String: String]?
    var keywordFilters: [String]?
    /// When the user last reset their feed (answers only).
    var resetAt: String?
    enum CodingKeys: String, CodingKey { case personalized, topics, keywordFilters = "keyword_filters", resetAt = "reset_at" }

    init(_ controls: UserControls) {
        personalized = controls.personalized
        topics = controls.topics.mapValues(\.rawValue)
        keywordFilters = controls.keywordFilters
        resetAt = controls.resetAt?.rfc3339
    }

    func controls() throws -> UserControls {
        var topicPreferences: [String: UserControls.TopicPreference] = [:]
        for (tag, raw) in topics ?? [:] {
            guard let preference = UserControls.TopicPreference(rawValue: raw) else {
                throw ForYouError(.invalidValue, "`topics.\(tag)` must be \"more\" or \"less\"")
            }
            topicPreferences[tag] = preference
        }
        return UserControls(personalized: personalized ?? true, topics: topicPreferences, keywordFilters: keywordFilters ?? [])
    }
}

/// `GET /v1/users/{user}/profile` answer: what the engine believes about the user now.
struct ProfileResponse: Codable, Sendable {
    struct Weight: Codable, Sendable {
        var name: String
        var weight: Float
    }
    var user: String
    var tags: [Weight]
    var creators: [Weight]
    var followedCreators: [String]
    var notInterestedItems: [String]
    var notInterestedCreators: [String]
    var recentPositives: Int
    var controls: ControlsBody
    enum CodingKeys: String, CodingKey {
        case user, tags, creators, controls
        case followedCreators = "followed_creators", notInterestedItems = "not_interested_items"
        case notInterestedCreators = "not_interested_creators", recentPositives = "recent_positives"
    }

    init(user: String, _ profile: Recommender.UserProfile, limit: Int = 10) {
        self.user = user
        tags = profile.tagAffinities.prefix(limit).map { Weight(name: $0.tag, weight: $0.weight) }
        creators = profile.creatorAffinities.prefix(limit).map { Weight(name: $0.creator.rawValue, weight: $0.weight) }
        followedCreators = profile.followedCreators.map(\.rawValue)
        notInterestedItems = profile.notInterestedItems.map(\.rawValue)
        notInterestedCreators = profile.notInterestedCreators.map(\.rawValue)
        recentPositives = profile.recentPositives
        controls = ControlsBody(profile.controls)
    }
}

/// `POST /v1/users/{user}/reset` answer.
struct ResetResponse: Codable, Sendable {
    var user: String
    var reset: Bool
}

/// `GET /v1/users/{user}/export` answer: everything held about the user.
struct ExportResponse: Codable, Sendable {
    struct ExportedEvent: Codable, Sendable {
        var id: String
        var type: String
        var item: String?
        var creator: String?
        var at: String
        var watchMs: Int64?
        enum CodingKeys: String, CodingKey { case id, type, item, creator, at, watchMs = "watch_ms" }
    }
    struct Served: Codable, Sendable {
        var item: String
        var at: String
    }
    struct Weight: Codable, Sendable {
        var name: String
        var weight: Float
    }
    var user: String
    var exportedAt: String
    var events: [ExportedEvent]
    var served: [Served]
    var controls: ControlsBody
    var tagAffinities: [Weight]
    var creatorAffinities: [Weight]
    var followedCreators: [String]
    var notInterestedItems: [String]
    var notInterestedCreators: [String]
    var auditPseudonym: String
    enum CodingKeys: String, CodingKey {
        case user, events, served, controls
        case exportedAt = "exported_at", tagAffinities = "tag_affinities", creatorAffinities = "creator_affinities"
        case followedCreators = "followed_creators", notInterestedItems = "not_interested_items"
        case notInterestedCreators = "not_interested_creators", auditPseudonym = "audit_pseudonym"
    }

    init(_ export: Recommender.UserExport) {
        user = export.user.rawValue
        exportedAt = export.exportedAt.rfc3339
        events = export.events.map {
            ExportedEvent(
                id: $0.id.rawValue, type: $0.type.rawValue, item: $0.item?.rawValue, creator: $0.creator?.rawValue, at: $0.at.rfc3339,
                watchMs: $0.watchMilliseconds)
        }
        served = export.served.map { Served(item: $0.item.rawValue, at: $0.at.rfc3339) }
        controls = ControlsBody(export.controls)
        tagAffinities = export.tagAffinities.map { Weight(name: $0.tag, weight: $0.weight) }
        creatorAffinities = export.creatorAffinities.map { Weight(name: $0.creator.rawValue, weight: $0.weight) }
        followedCreators = export.followedCreators.map(\.rawValue)
        notInterestedItems = export.notInterestedItems.map(\.rawValue)
        notInterestedCreators = export.notInterestedCreators.map(\.rawValue)
        auditPseudonym = export.pseudonym
    }
}

/// `GET /v1/audit` answer: the chain's state and the latest entries.
struct AuditResponse: Codable, Sendable {
    struct Line: Codable, Sendable {
        var entry: AuditEntry
        var hash: String
    }
    var intact: Bool
    var entries: Int
    var headHash: String
    var problem: String?
    var latest: [Line]
    enum CodingKeys: String, CodingKey { case intact, entries, headHash = "head_hash", problem, latest }
}

extension EventBatchResponse: ResponseEncodable {}
extension ControlsBody: ResponseEncodable {}
extension ResetResponse: ResponseEncodable {}
extension ProfileResponse: ResponseEncodable {}
extension ExportResponse: ResponseEncodable {}
extension AuditResponse: ResponseEncodable {}
extension TransparencyReport: ResponseEncodable {}
extension ItemBatchResponse: ResponseEncodable {}
extension FeedResponse: ResponseEncodable {}
extension ErasureResponse: ResponseEncodable {}
extension HealthResponse: ResponseEncodable {}
extension ModelResponse: ResponseEncodable {}
extension ModelListResponse: ResponseEncodable {}
extension KeyResponse: ResponseEncodable {}
extension KeyListResponse: ResponseEncodable {}
