// SPDX-License-Identifier: Apache-2.0
//
// Request and response bodies of the governance routes (JSON, snake_case): stored models, API keys,
// user controls, profile, reset and export, and the audit log.

import ForYou
import Hummingbird

/// A tag or creator with its learned weight (relative: compare weights with each other).
struct NamedWeight: Codable, Sendable {
    var name: String
    var weight: Float
}

/// `POST /v1/keys` body.
struct KeyRequest: Codable, Sendable {
    var name: String
    var role: String
    /// The key's own requests per second (0: unlimited); absent: the server's.
    var rateLimit: Double?
    /// The key's own largest request body; absent: the server's.
    var maxBodyBytes: Int?
    enum CodingKeys: String, CodingKey { case name, role, rateLimit = "rate_limit", maxBodyBytes = "max_body_bytes" }
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
    /// The key's own limits, when it has them.
    var rateLimit: Double?
    var maxBodyBytes: Int?
    enum CodingKeys: String, CodingKey {
        case id, name, role, key, createdAt = "created_at", revokedAt = "revoked_at", rateLimit = "rate_limit", maxBodyBytes = "max_body_bytes"
    }

    init(_ record: APIKeyRecord, key: String? = nil) {
        id = record.id
        name = record.name
        role = record.role.rawValue
        createdAt = record.createdAt.rfc3339
        revokedAt = record.revokedAt?.rfc3339
        self.key = key
        rateLimit = record.limits.requestsPerSecond
        maxBodyBytes = record.limits.maximumBodyBytes
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
    var user: String
    var tags: [NamedWeight]
    var creators: [NamedWeight]
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
        tags = profile.tagAffinities.prefix(limit).map { NamedWeight(name: $0.tag, weight: $0.weight) }
        creators = profile.creatorAffinities.prefix(limit).map { NamedWeight(name: $0.creator.rawValue, weight: $0.weight) }
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
        var region: String?
        enum CodingKeys: String, CodingKey { case id, type, item, creator, at, region, watchMs = "watch_ms" }
    }
    struct Served: Codable, Sendable {
        var item: String
        var at: String
    }
    var user: String
    var exportedAt: String
    var events: [ExportedEvent]
    var served: [Served]
    var controls: ControlsBody
    var tagAffinities: [NamedWeight]
    var creatorAffinities: [NamedWeight]
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
                watchMs: $0.watchMilliseconds, region: $0.region?.rawValue)
        }
        served = export.served.map { Served(item: $0.item.rawValue, at: $0.at.rfc3339) }
        controls = ControlsBody(export.controls)
        tagAffinities = export.tagAffinities.map { NamedWeight(name: $0.tag, weight: $0.weight) }
        creatorAffinities = export.creatorAffinities.map { NamedWeight(name: $0.creator.rawValue, weight: $0.weight) }
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

extension ControlsBody: ResponseEncodable {}
extension ResetResponse: ResponseEncodable {}
extension ProfileResponse: ResponseEncodable {}
extension ExportResponse: ResponseEncodable {}
extension AuditResponse: ResponseEncodable {}
extension TransparencyReport: ResponseEncodable {}
extension ModelListResponse: ResponseEncodable {}
extension KeyResponse: ResponseEncodable {}
extension KeyListResponse: ResponseEncodable {}
