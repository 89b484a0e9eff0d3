// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouSQLite
import ForYouTesting
import Foundation
import Testing

struct SQLiteErasureTests {
    /// Erasure that really erases: after `Recommender.erase` (which compacts the store), no file in the
    /// data folder holds the user's id, in any table, index, journal or free page, nor the model file
    /// trained on their distinctive history: the model is unlearned, stored anew and keeps serving.
    @Test func noFileOfTheDataFolderHoldsAnErasedUsersID() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let victim = "erase-me-7f3a9c"
        let clock = ManualClock()
        let world = DemoWorld.generate(seed: 1, size: .small, now: clock.now())
        var pseudonym = ""
        do {
            var configuration = Recommender.Configuration()
            configuration.auditFeedSampleEvery = 1  // every feed is audited, the victim's included
            configuration.learnedReRankingMaximumItems = 0  // the two-part blend: its ALS finds engagers in memory
            let store = try SQLiteStore(directory: directory.path)
            let engine = try await Recommender.open(store: store, configuration: configuration, clock: clock)
            _ = try await engine.upsertItems(world.items)
            for batch in [0, 1000] { _ = try await engine.ingest(Array(world.events[batch..<batch + 1000])) }
            let mine = (0..<50).map {
                $0 % 2 == 0
                    ? EventInput(id: "ev-\($0)", user: victim, item: "v\($0)", type: "like")
                    : EventInput(id: "ev-\($0)", user: victim, item: "v\($0)", type: "view", watchMilliseconds: 5_000)
            }
            #expect(try await engine.ingest(mine).accepted == 50)
            _ = try await engine.feed(for: victim, count: 20)
            try await engine.setControls(of: victim, to: UserControls(topics: ["cats": .more], keywordFilters: ["spoiler"]))
            try await engine.resetProfile(of: victim)
            _ = try await engine.export(user: victim)
            pseudonym = try await engine.pseudonym(of: victim)
            for batch in [2000, 3000] { _ = try await engine.ingest(Array(world.events[batch..<batch + 1000])) }
            #expect(try directory.files().contains { $0.bytes.range(of: Data(victim.utf8)) != nil })
            let trained = try await engine.train()
            let trainedFile = Data(try #require(try await store.savedModels().first))
            // SQLite keeps a large value in pages of its own: the file is looked for as windows of 256
            // bytes spread over it, most of which sit whole within one page.
            let spread = stride(from: 0, to: trainedFile.count - 256, by: max(256, trainedFile.count / 64)).map { trainedFile[$0..<($0 + 256)] }
            let stored = try directory.files()
            #expect(spread.filter { window in stored.contains { $0.bytes.range(of: window) != nil } }.count >= spread.count / 2)

            let erasure = try await engine.eraseUser(victim)
            #expect(erasure.events == 51)  // 50 events and the reset
            #expect(erasure.model.outcome == .unlearned && erasure.model.versionBefore == trained.version)
            #expect(engine.currentModel?.version == erasure.model.version && erasure.model.version != trained.version)
            // Of the old model file, the windows the new one does not share.
            let newFile = Data(try #require(try await store.savedModels().first))
            let windows = spread.filter { newFile.range(of: $0) == nil }
            #expect(windows.count >= 10, "the unlearned model differs from the trained one throughout")
            for file in try directory.files() {
                #expect(file.bytes.range(of: Data(victim.utf8)) == nil, "\(file.name) still holds the user's id")
                #expect(windows.allSatisfy { file.bytes.range(of: $0) == nil }, "\(file.name) still holds the model trained with the user")
            }
            // The audit log keeps the victim's entries, under a pseudonym that nothing links to them any more.
            let (lines, verification) = try await engine.auditLog()
            #expect(verification.isIntact)
            #expect(lines.filter { $0.contains(pseudonym) }.count >= 5)
            #expect(try await engine.pseudonym(of: victim) != pseudonym)
            let feed = try await engine.feed(for: "u1", count: 5)
            #expect(feed.entries.count == 5 && feed.modelVersion == erasure.model.version)
        }
        // Nothing else was lost: everyone else's events are still there after reopening.
        let reopened = try SQLiteStore(directory: directory.path)
        #expect(try await reopened.count() == 4_000)
    }
}

struct SQLiteAuditLogTests {
    /// A crash mid-append leaves a torn last line; reopening cuts it off and the chain continues intact.
    @Test func aTornLastAuditLineIsDroppedWhenTheStoreOpens() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let clock = ManualClock()
        do {
            let engine = try await Recommender.open(store: try SQLiteStore(directory: directory.path), clock: clock)
            _ = try await engine.createAPIKey(name: "a", role: .serve)
        }
        let path = directory.path + "/audit.jsonl"
        let intact = try #require(FileManager.default.contents(atPath: path))
        var torn = intact
        torn.append(Data(#"{"entry":{"sequence":3,"at":"#.utf8))
        try torn.write(to: URL(fileURLWithPath: path))
        let engine = try await Recommender.open(store: try SQLiteStore(directory: directory.path), clock: clock)
        let (lines, verification) = try await engine.auditLog()
        #expect(verification.isIntact, "\(verification.problem ?? "")")
        #expect(lines.count == 3)  // two from the first run, one for this start
    }
}
