// SPDX-License-Identifier: Apache-2.0
//
// Request and response bodies of the HTTP API (JSON, snake_case).
//
// Request records decode leniently: a field of the wrong JSON type does not fail the whole batch, it
// marks that record malformed, so the engine can reject just that event and name the field.

import ForYou
import Hummingbird

/// Decodes one optional field; a wrong type is remembered as the record's first malformed field.
private func lenient<Key: CodingKey, Value: Decodable>(
    _ container: KeyedDecodingContainer<Key>, _ key: Key, rule: String, malformed: inout (field: String, rule: String)?
) -> Value? {
    do {
        return try container.decodeIfPresent(Value.self, forKey: key)
    } catch {
        if malformed == nil { malformed = (key.stringValue, rule) }
        return nil
    }
}

/// `POST /v1/events` body.
struct EventBatchRequest: Decodable {
    var events: [LenientEvent]
}

struct LenientEvent: Decodable {
    var input: EventInput
    private enum Keys: String, CodingKey { case id, user, item, creator, type, at, watchMs = "watch_ms" }

    init(from decoder: any Decoder) throws {
        guard let c = try? decoder.container(keyedBy: Keys.self) else {
            input = EventInput(malformedField: ("event", "must be a JSON object"))
            return
        }
        var malformed: (field: String, rule: String)?
        let text = "must be a string"
        input = EventInput(
            id: lenient(c, .id, rule: text, malformed: &malformed), user: lenient(c, .user, rule: text, malformed: &malformed),
            item: lenient(c, .item, rule: text, malformed: &malformed), creator: lenient(c, .creator, rule: text, malformed: &malformed),
            type: lenient(c, .type, rule: text, malformed: &malformed),
            at: lenient(c, .at, rule: "must be an RFC 3339 string", malformed: &malformed),
            watchMilliseconds: lenient(c, .watchMs, rule: "must be an integer number of milliseconds", malformed: &malformed))
        input.malformedField = malformed
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
}

struct LenientItem: Decodable {
    var input: ItemInput
    private enum Keys: String, CodingKey { case id, creator, tags, durationMs = "duration_ms", language, publishedAt = "published_at" }

    init(from decoder: any Decoder) throws {
        guard let c = try? decoder.container(keyedBy: Keys.self) else {
            input = ItemInput(malformedField: ("item", "must be a JSON object"))
            return
        }
        var malformed: (field: String, rule: String)?
        let text = "must be a string"
        input = ItemInput(
            id: lenient(c, .id, rule: text, malformed: &malformed), creator: lenient(c, .creator, rule: text, malformed: &malformed),
            tags: lenient(c, .tags, rule: "must be an array of strings", malformed: &malformed),
            durationMilliseconds: lenient(c, .durationMs, rule: "must be an integer number of milliseconds", malformed: &malformed),
            language: lenient(c, .language, rule: text, malformed: &malformed),
            publishedAt: lenient(c, .publishedAt, rule: "must be an RFC 3339 string", malformed: &malformed))
        input.malformedField = malformed
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
    }
    var user: String
    var modelVersion: String
    var items: [Entry]
    enum CodingKeys: String, CodingKey { case user, modelVersion = "model_version", items }
}

/// `DELETE /v1/users/{user}` answer.
struct ErasureResponse: Codable, Sendable {
    var user: String
    var erased: Bool
    var eventsDeleted: Int
    enum CodingKeys: String, CodingKey { case user, erased, eventsDeleted = "events_deleted" }
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
extension FeedResponse: ResponseEncodable {}
extension ErasureResponse: ResponseEncodable {}
extension HealthResponse: ResponseEncodable {}
