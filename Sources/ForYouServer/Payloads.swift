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
    static let fields: Set<String> = ["id", "user", "item", "creator", "type", "at", "watch_ms", "jurisdiction", "region"]

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
            jurisdiction: object.field("jurisdiction", text), region: object.field("region", text))
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
    /// What the erasure did to the serving model.
    struct Model: Codable, Sendable {
        var outcome: String
        var modelVersionBefore: String?
        var modelVersion: String?
        var refittedItems: Int
        var unlearnedUsersSinceTraining: Int
        var subtracted: [String]
        var refitted: [String]
        var kept: [String]
        enum CodingKeys: String, CodingKey {
            case outcome, subtracted, refitted, kept
            case modelVersionBefore = "model_version_before", modelVersion = "model_version", refittedItems = "refitted_items"
            case unlearnedUsersSinceTraining = "unlearned_users_since_training"
        }
        init(_ model: ModelUnlearning) {
            outcome = model.outcome.rawValue
            modelVersionBefore = model.versionBefore
            modelVersion = model.version
            refittedItems = model.refittedItems
            unlearnedUsersSinceTraining = model.unlearnedUsersSinceTraining
            subtracted = model.subtracted
            refitted = model.refitted
            kept = model.kept
        }
    }
    var user: String
    var erased: Bool
    var eventsDeleted: Int
    var model: Model
    enum CodingKeys: String, CodingKey { case user, erased, eventsDeleted = "events_deleted", model }
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

/// `GET /healthz` answer.
struct HealthResponse: Codable, Sendable {
    var status: String
    var modelVersion: String
    var items: Int
    var users: Int
    enum CodingKeys: String, CodingKey { case status, modelVersion = "model_version", items, users }
}

extension EventBatchResponse: ResponseEncodable {}
extension ItemBatchResponse: ResponseEncodable {}
extension ErasureResponse: ResponseEncodable {}
extension HealthResponse: ResponseEncodable {}
extension ItemStatisticsResponse: ResponseEncodable {}

/// `GET /v1/items/{item}/statistics` answer.
struct ItemStatisticsResponse: Codable, Sendable {
    struct Counts: Codable, Sendable {
        var views: Int
        var likes: Int
        var shares: Int
        var meanCompletion: Double?
        enum CodingKeys: String, CodingKey { case views, likes, shares, meanCompletion = "mean_completion" }
        init(_ counts: ItemStatisticsReport.Counts) {
            views = counts.views
            likes = counts.likes
            shares = counts.shares
            meanCompletion = counts.meanCompletion
        }
    }
    struct Bucket: Codable, Sendable {
        var hour: String
        var region: String?
        var views: Int
        var likes: Int
        var shares: Int
        var meanCompletion: Double?
        enum CodingKeys: String, CodingKey { case hour, region, views, likes, shares, meanCompletion = "mean_completion" }
    }
    var item: String
    var hours: Int
    var total: Counts
    var window: Counts
    var buckets: [Bucket]

    init(_ report: ItemStatisticsReport) {
        item = report.item.rawValue
        hours = report.hours
        total = Counts(report.total)
        window = Counts(report.window)
        buckets = report.buckets.map {
            Bucket(
                hour: $0.hour.rfc3339, region: $0.region?.rawValue, views: $0.counts.views, likes: $0.counts.likes, shares: $0.counts.shares,
                meanCompletion: $0.counts.meanCompletion)
        }
    }
}
extension ModelResponse: ResponseEncodable {}
