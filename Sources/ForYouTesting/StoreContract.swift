// SPDX-License-Identifier: Apache-2.0
//
// The behaviour every `ForYouStore` must have, written once. Each check takes a fresh, empty store and
// throws `StoreContractViolation` on the first difference; test suites run every check against every
// backend (memory, SQLite), and a third-party backend can run them too.

import ForYou

/// A store broke the contract.
public struct StoreContractViolation: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

/// The store contract checks.
public enum StoreContract {
    /// Every check, by name.
    public static let checks: [(name: String, run: @Sendable (any ForYouStore) async throws -> Void)] = [
        ("items upsert replaces by id and keeps first-upsert order", itemsUpsertReplacesByID),
        ("append reports duplicates, within and across batches", appendReportsDuplicates),
        ("pages replay in append order", pagesReplayInAppendOrder),
        ("events of a user, and erasing them", eventsOfUserAndErasure),
        ("an erased event's id is new again; others stay duplicates", erasedIDsAreNewAgain),
        ("served history since a time, and erasing it", servedHistory),
        ("pruning served history keeps what is recent", pruningServedHistory),
        ("compaction keeps everything not erased", compactionKeepsData),
        ("saved models come back newest first", savedModelsComeBackNewestFirst),
        ("settings and user controls survive", settingsAndControls),
        ("pseudonym keys are stable until erased", pseudonymKeys),
        ("API key records are saved and replaced by id", apiKeyRecords),
        ("audit lines come back in append order", auditLines),
        ("served history of one user", servedOfUser),
    ]

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw StoreContractViolation(message()) }
    }

    static let t0 = Timestamp(rfc3339: "2026-11-20T10:00:00Z")!

    /// An item with defaults for tests.
    public static func item(_ id: String, creator: String = "c1", tags: [String] = ["a"]) -> Item {
        Item(
            id: ItemID(trusted: id), creator: CreatorID(trusted: creator), tags: tags, durationMilliseconds: 30_000, language: "en",
            publishedAt: t0)
    }

    /// An event with defaults for tests; likes carry a region, other events none, so a replay checks both.
    public static func event(_ id: String, user: String = "u1", item: String? = "i1", type: EventType = .view, at: Int64 = 0) -> Event {
        Event(
            id: EventID(trusted: id), user: UserID(trusted: user), item: item.map(ItemID.init(trusted:)),
            creator: CreatorID(trusted: item == nil ? "c9" : "c1"), type: type, at: t0.advanced(byMilliseconds: at),
            watchMilliseconds: type == .view ? 12_000 : nil, itemDurationMilliseconds: item == nil ? nil : 30_000,
            region: type == .like ? RegionID(trusted: "FR-IDF") : nil)
    }

    static func itemsUpsertReplacesByID(_ store: any ForYouStore) async throws {
        try await store.upsert([item("i1", tags: ["a", "b"]), item("i2", tags: [])])
        try await store.upsert([item("i1", creator: "c2", tags: ["z"]), item("i0")])
        let all = try await store.allItems()
        try expect(all.map(\.id.rawValue) == ["i1", "i2", "i0"], "items not in first-upsert order: \(all.map(\.id))")
        let items = all.sorted { $0.id < $1.id }.filter { $0.id.rawValue != "i0" }
        try expect(items.count == 2, "expected 2 items, got \(items.count)")
        try expect(items[0] == item("i1", creator: "c2", tags: ["z"]), "i1 was not replaced: \(items[0])")
        try expect(items[1] == item("i2", tags: []), "i2 changed on the way through the store: \(items[1])")
    }

    static func appendReportsDuplicates(_ store: any ForYouStore) async throws {
        let first = try await store.append([event("e1"), event("e2"), event("e1")])
        try expect(first == [true, true, false], "first batch: \(first)")
        let second = try await store.append([event("e2"), event("e3")])
        try expect(second == [false, true], "second batch: \(second)")
        let count = try await store.count()
        try expect(count == 3, "expected 3 stored events, got \(count)")
    }

    static func pagesReplayInAppendOrder(_ store: any ForYouStore) async throws {
        let events = (0..<25).map { event("e\($0)", user: "u\($0 % 3)", type: $0 % 2 == 0 ? .view : .like, at: Int64(1000 - $0)) }
        + [event("f", item: nil, type: .follow)]
        _ = try await store.append(events)
        var replayed: [Event] = []
        var position: Int64 = 0
        while true {
            let page = try await store.page(after: position, limit: 7)
            if page.events.isEmpty { break }
            try expect(page.events.count <= 7, "page larger than its limit")
            replayed += page.events
            position = page.lastPosition
        }
        try expect(replayed == events, "replay differs from what was appended")
    }

    static func eventsOfUserAndErasure(_ store: any ForYouStore) async throws {
        _ = try await store.append([event("a", user: "u1"), event("b", user: "u2"), event("c", user: "u1", type: .like)])
        let mine = try await store.events(of: UserID(trusted: "u1"))
        try expect(mine.map(\.id.rawValue) == ["a", "c"], "events of u1: \(mine.map(\.id))")
        let erased = try await store.eraseEvents(of: UserID(trusted: "u1"))
        try expect(erased == 2, "erased \(erased) events, expected 2")
        let left = try await store.events(of: UserID(trusted: "u1"))
        try expect(left.isEmpty, "u1 still has events")
        let count = try await store.count()
        try expect(count == 1, "expected 1 event left, got \(count)")
    }

    static func erasedIDsAreNewAgain(_ store: any ForYouStore) async throws {
        _ = try await store.append([event("a", user: "u1"), event("b", user: "u2"), event("c", user: "u1")])
        _ = try await store.eraseEvents(of: UserID(trusted: "u1"))
        let again = try await store.append([event("a", user: "u3"), event("b", user: "u3"), event("c", user: "u3"), event("a", user: "u3")])
        try expect(again == [true, false, true, false], "after erasing u1, appending a, b, c, a gave \(again)")
        let page = try await store.page(after: 0, limit: 10)
        try expect(page.events.map(\.id.rawValue) == ["b", "a", "c"], "log after the erasure: \(page.events.map(\.id))")
    }

    static func servedHistory(_ store: any ForYouStore) async throws {
        let u1 = UserID(trusted: "u1")
        let u2 = UserID(trusted: "u2")
        let records = [
            ServedRecord(user: u1, item: ItemID(trusted: "i1"), at: t0),
            ServedRecord(user: u2, item: ItemID(trusted: "i2"), at: t0.advanced(byMilliseconds: 10)),
            ServedRecord(user: u1, item: ItemID(trusted: "i3"), at: t0.advanced(byMilliseconds: 20)),
        ]
        try await store.record(records)
        let since = try await store.served(since: t0.advanced(byMilliseconds: 5))
        try expect(since == Array(records.dropFirst()), "served since: \(since)")
        let erased = try await store.eraseServed(of: u1)
        try expect(erased == 2, "erased \(erased) served records, expected 2")
        let left = try await store.served(since: t0)
        try expect(left == [records[1]], "served left: \(left)")
    }

    static func pruningServedHistory(_ store: any ForYouStore) async throws {
        let u1 = UserID(trusted: "u1")
        let records = (0..<5).map { ServedRecord(user: u1, item: ItemID(trusted: "i\($0)"), at: t0.advanced(byMilliseconds: Int64($0) * 10)) }
        try await store.record(records)
        let pruned = try await store.pruneServed(before: t0.advanced(byMilliseconds: 20))
        try expect(pruned == 2, "pruned \(pruned) records, expected 2")
        let left = try await store.served(since: Timestamp(milliseconds: 0))
        try expect(left == Array(records.dropFirst(2)), "served left after pruning: \(left)")
    }

    static func savedModelsComeBackNewestFirst(_ store: any ForYouStore) async throws {
        let none = try await store.savedModels()
        try expect(none.isEmpty, "an empty store returned a model")
        for version in 0..<5 { try await store.saveModel([UInt8(version), 1, 2, 3], version: "m\(version)") }
        let saved = try await store.savedModels()
        try expect(saved.first == [4, 1, 2, 3] && saved.count >= 1, "newest model: \(saved.first ?? [])")
        try expect(saved == saved.sorted { $0[0] > $1[0] }, "models are not newest first: \(saved)")
        try await store.saveModel([9], version: "m2")  // the same version again replaces it and becomes the newest
        let replaced = try await store.savedModels()
        try expect(replaced.first == [9], "re-saved model: \(replaced.first ?? [])")
        try expect(!replaced.contains([2, 1, 2, 3]), "the replaced version is still kept")
        try await store.deleteModels()
        let deleted = try await store.savedModels()
        try expect(deleted.isEmpty, "a model is left after deleteModels")
    }

    static func settingsAndControls(_ store: any ForYouStore) async throws {
        let missing = try await store.setting("jurisdiction")
        try expect(missing == nil, "an unset setting has a value")
        try await store.setSetting("jurisdiction", to: "eu")
        try await store.setSetting("jurisdiction", to: "us")
        let value = try await store.setting("jurisdiction")
        try expect(value == "us", "setting: \(value ?? "nil")")
        let controls = UserControls(
            personalized: false, topics: ["cats": .more, "news": .less], keywordFilters: ["spoiler"], resetAt: Timestamp(milliseconds: 42))
        try await store.saveUserControls(controls, of: UserID(trusted: "u1"))
        try await store.saveUserControls(UserControls(), of: UserID(trusted: "u2"))
        let all = try await store.allUserControls()
        try expect(all == [UserID(trusted: "u1"): controls, UserID(trusted: "u2"): UserControls()], "controls: \(all)")
    }

    static func pseudonymKeys(_ store: any ForYouStore) async throws {
        let u1 = UserID(trusted: "u1")
        try await store.saveUserControls(UserControls(personalized: false), of: u1)
        let first = try await store.pseudonymKey(of: u1)
        let again = try await store.pseudonymKey(of: u1)
        let other = try await store.pseudonymKey(of: UserID(trusted: "u2"))
        try expect(first.count == 32 && first == again, "a user's pseudonym key changed between calls")
        try expect(first != other, "two users share a pseudonym key")
        try await store.eraseGovernanceData(of: u1)
        let after = try await store.pseudonymKey(of: u1)
        try expect(after != first, "the pseudonym key survived erasure")
        let controls = try await store.allUserControls()
        try expect(controls[u1] == nil, "controls survived erasure")
    }

    static func apiKeyRecords(_ store: any ForYouStore) async throws {
        var key = APIKeyRecord(id: "abc", name: "app", role: .serve, secretHash: [1, 2, 3], createdAt: Timestamp(milliseconds: 5))
        try await store.saveAPIKey(key)
        let limited = APIKeyRecord(
            id: "def", name: "pipeline", role: .ingest, secretHash: [4], createdAt: Timestamp(milliseconds: 6),
            limits: APIKeyLimits(requestsPerSecond: 2.5, maximumBodyBytes: 65_536))
        try await store.saveAPIKey(limited)
        key.revokedAt = Timestamp(milliseconds: 9)
        try await store.saveAPIKey(key)
        let keys = try await store.apiKeys()
        try expect(keys.count == 2 && keys[0] == key && keys[1] == limited, "keys: \(keys)")
    }

    static func auditLines(_ store: any ForYouStore) async throws {
        let none = try await store.auditLines()
        try expect(none.isEmpty, "a new store has audit lines")
        let written = auditChain(3)
        for line in written { try await store.appendAuditLine(line) }
        let lines = try await store.auditLines()
        try expect(lines == written, "audit lines: \(lines)")
    }

    /// `count` chained audit lines, from the first entry of a log.
    public static func auditChain(_ count: Int, from start: (sequence: Int, hash: String) = (1, AuditChain.genesis)) -> [String] {
        var head = start
        return (0..<count).map { _ in
            let entry = AuditEntry(sequence: head.sequence, at: t0.rfc3339, kind: "test.entry", actor: "system", previous: head.hash)
            let (line, hash) = AuditChain.line(for: entry)
            head = (head.sequence + 1, hash)
            return line
        }
    }

    static func servedOfUser(_ store: any ForYouStore) async throws {
        let u1 = UserID(trusted: "u1")
        let records = [
            ServedRecord(user: u1, item: ItemID(trusted: "i1"), at: t0),
            ServedRecord(user: UserID(trusted: "u2"), item: ItemID(trusted: "i2"), at: t0),
            ServedRecord(user: u1, item: ItemID(trusted: "i3"), at: t0.advanced(byMilliseconds: 1)),
        ]
        try await store.record(records)
        let served = try await store.served(of: u1)
        try expect(served == [records[0], records[2]], "served of u1: \(served)")
    }

    static func compactionKeepsData(_ store: any ForYouStore) async throws {
        try await store.upsert([item("i1")])
        _ = try await store.append([event("a"), event("b", user: "u2")])
        _ = try await store.eraseEvents(of: UserID(trusted: "u2"))
        try await store.compact()
        let count = try await store.count()
        let items = try await store.allItems()
        try expect(count == 1 && items.count == 1, "compaction lost data: \(count) events, \(items.count) items")
    }
}
