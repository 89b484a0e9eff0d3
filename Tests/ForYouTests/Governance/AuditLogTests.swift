// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct AuditLogTests {
    /// An engine that has written a few audit entries of different kinds.
    func auditedEngine() async throws -> (Recommender, [String]) {
        var configuration = Recommender.Configuration()
        configuration.auditFeedSampleEvery = 2
        let fixture = try await FeedFixture(configuration: configuration)
        try await fixture.like("alice", "c0-v1", id: "a1")
        for _ in 0..<4 { _ = try await fixture.engine.feed(for: "alice", count: 5) }
        try await fixture.engine.setControls(of: "alice", to: UserControls(topics: ["cats": .less]))
        _ = try await fixture.engine.createAPIKey(name: "ops", role: .overseer)
        _ = try await fixture.engine.erase(user: "alice")
        let (lines, verification) = try await fixture.engine.auditLog()
        #expect(verification.isIntact)
        return (fixture.engine, lines)
    }

    @Test func entriesChainAndNameUsersOnlyByPseudonym() async throws {
        let (_, lines) = try await auditedEngine()
        let entries = lines.compactMap { AuditChain.parse($0)?.entry }
        #expect(entries.count == lines.count)
        #expect(entries.map(\.sequence) == Array(1...entries.count))
        let kinds = Set(entries.map(\.kind))
        #expect(kinds.isSuperset(of: ["engine.opened", "feed.sample", "user.controls_changed", "key.created", "user.erased"]))
        // Feed samples carry the items with their reasons and signals.
        let sample = try #require(entries.first { $0.kind == "feed.sample" })
        #expect(sample.details["items"]?.contains("[") == true && sample.details["model_version"] == Recommender.modelVersion)
        // One pseudonym for alice across her entries; her id appears nowhere.
        let subjects = Set(entries.compactMap(\.subject))
        #expect(subjects.count == 1 && subjects.first?.hasPrefix("p-") == true)
        #expect(!lines.contains { $0.contains("alice") })
    }

    @Test func verificationFindsAChangedRemovedOrReorderedEntry() async throws {
        let (_, lines) = try await auditedEngine()
        #expect(lines.count >= 6)
        // Flip one byte anywhere in an entry: every position of the third line is caught.
        let third = Array(lines[2].utf8)
        for position in stride(from: 0, to: third.count, by: 7) {
            var bytes = third
            bytes[position] ^= 0x01
            var changed = lines
            changed[2] = String(decoding: bytes, as: UTF8.self)
            let verification = AuditChain.verify(lines: changed)
            #expect(!verification.isIntact && verification.intactEntries == 2, "a flipped byte at \(position) went unnoticed")
        }
        var removed = lines
        removed.remove(at: 3)
        #expect(AuditChain.verify(lines: removed).problem?.hasPrefix("line 4:") == true)
        var reordered = lines
        reordered.swapAt(1, 2)
        #expect(AuditChain.verify(lines: reordered).problem?.hasPrefix("line 2:") == true)
        // Removing entries from the end leaves a valid, shorter chain: only a head written down earlier shows it.
        let truncated = AuditChain.verify(lines: Array(lines.dropLast()))
        #expect(truncated.isIntact && truncated.headHash != AuditChain.verify(lines: lines).headHash)
    }

    @Test func aStartWithOtherRankingParametersIsAuditedAsAConfigurationChange() async throws {
        let store = MemoryStore()
        _ = try await Recommender.open(store: store, clock: ManualClock())
        _ = try await Recommender.open(store: store, clock: ManualClock())
        var changed = Recommender.Configuration()
        changed.feed.explorationShare = 0.2
        let engine = try await Recommender.open(store: store, configuration: changed, clock: ManualClock())
        let entries = try await engine.auditLog().lines.compactMap { AuditChain.parse($0)?.entry }
        let changes = entries.filter { $0.kind == "configuration.changed" }
        #expect(entries.filter { $0.kind == "engine.opened" }.count == 3)
        #expect(changes.count == 1 && changes.first?.details["to"] == engine.transparencyReport().parametersDigest)
    }

    @Test func theChainContinuesAcrossRestarts() async throws {
        let store = MemoryStore()
        let clock = ManualClock()
        let engine = try await Recommender.open(store: store, clock: clock)
        _ = try await engine.createAPIKey(name: "a", role: .serve)
        let reopened = try await Recommender.open(store: store, clock: clock)
        _ = try await reopened.createAPIKey(name: "b", role: .serve)
        let (lines, verification) = try await reopened.auditLog()
        #expect(verification.isIntact && lines.count == 4)
    }
}
