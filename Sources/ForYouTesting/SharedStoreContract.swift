// SPDX-License-Identifier: Apache-2.0
//
// What a `SharedStore` adds to the store contract: several stores opened on one database (as several
// servers would) see each other's writes, hear each other's changes, and keep one audit chain.

import ForYou
import Synchronization

/// The shared store contract checks. Each takes a function that opens one more store on the same
/// fresh, empty database.
public enum SharedStoreContract {
    public typealias Opener = @Sendable () async throws -> any SharedStore

    /// Every check, by name.
    public static let checks: [(name: String, run: @Sendable (Opener) async throws -> Void)] = [
        ("a second store reads what the first wrote", secondStoreReads),
        ("changes are announced to every store", changesAreAnnounced),
        ("items changed after a change number", itemsChangedAfter),
        ("the audit log keeps one chain across stores", auditKeepsOneChain),
        ("concurrent appends from two stores keep positions in commit order", appendsKeepCommitOrder),
    ]

    static func expect(_ condition: Bool, _ message: @autoclosure () -> String) throws {
        if !condition { throw StoreContractViolation(message()) }
    }

    static func secondStoreReads(_ open: Opener) async throws {
        let first = try await open()
        let second = try await open()
        try await first.upsert([StoreContract.item("i1")])
        _ = try await first.append([StoreContract.event("e1"), StoreContract.event("e2")])
        try expect(try await second.append([StoreContract.event("e2"), StoreContract.event("e3")]) == [false, true], "e2 was stored twice")
        let page = try await first.page(after: 0, limit: 10)
        try expect(page.events.map(\.id.rawValue) == ["e1", "e2", "e3"], "log as the first store reads it: \(page.events.map(\.id))")
        try expect(try await second.allItems().map(\.id.rawValue) == ["i1"], "the second store does not see i1")
    }

    static func changesAreAnnounced(_ open: Opener) async throws {
        let writer = try await open()
        let listener = try await open()
        let heard = Heard()
        let listening = Task {
            for await change in listener.changes() { await heard.add(change) }
        }
        defer { listening.cancel() }
        // The listener connects in the background: write until it has heard something, then once more.
        for attempt in 0..<100 where await heard.all.isEmpty {
            try await writer.upsert([StoreContract.item("warm-up-\(attempt)")])
            try await Task.sleep(for: .milliseconds(50))
        }
        _ = try await writer.append([StoreContract.event("e1")])
        try await writer.saveModel([1, 2, 3], version: "m1")
        try await writer.saveAPIKey(APIKeyRecord(id: "k1", name: "ops", role: .admin, secretHash: [0], createdAt: StoreContract.t0))
        try await writer.saveUserControls(UserControls(), of: UserID(trusted: "u1"))
        _ = try await writer.eraseEvents(of: UserID(trusted: "u1"))
        let expected: Set<StoreChange> = [.items, .events, .models, .keys, .controls, .erasure]
        for _ in 0..<100 where !expected.isSubset(of: Set(await heard.all)) { try await Task.sleep(for: .milliseconds(50)) }
        let all = Set(await heard.all)
        try expect(expected.isSubset(of: all), "changes heard: \(all.map(\.rawValue).sorted()), expected \(expected.map(\.rawValue).sorted())")
    }

    static func itemsChangedAfter(_ open: Opener) async throws {
        let store = try await open()
        let start = try await store.items(changedAfter: .max).lastChange
        try await store.upsert([StoreContract.item("i1"), StoreContract.item("i2")])
        let first = try await store.items(changedAfter: start)
        try expect(first.items.map(\.id.rawValue) == ["i1", "i2"], "changed after start: \(first.items.map(\.id))")
        try await store.upsert([StoreContract.item("i1", creator: "c7")])
        let second = try await store.items(changedAfter: first.lastChange)
        try expect(second.items == [StoreContract.item("i1", creator: "c7")], "changed after the first upsert: \(second.items)")
        let none = try await store.items(changedAfter: second.lastChange)
        try expect(none.items.isEmpty && none.lastChange == second.lastChange, "nothing changed, yet: \(none)")
        try expect(try await store.allItems().map(\.id.rawValue) == ["i1", "i2"], "the catalogue order changed")
    }

    static func auditKeepsOneChain(_ open: Opener) async throws {
        let first = try await open()
        let second = try await open()
        let lines = StoreContract.auditChain(3)
        try await first.appendAuditLine(lines[0])
        try await second.appendAuditLine(lines[1])
        // The first store's idea of the head is stale: its next entry would fork the chain.
        do {
            try await first.appendAuditLine(lines[1])
            throw StoreContractViolation("a second entry 2 was appended")
        } catch let error as ForYouError where error.code == .conflict {}
        let latest = try await first.latestAuditLine()
        try expect(latest == lines[1], "latest line: \(latest ?? "none")")
        try await first.appendAuditLine(lines[2])
        let stored = try await second.auditLines()
        try expect(stored == lines && AuditChain.verify(lines: stored).isIntact, "stored chain: \(stored)")
    }

    static func appendsKeepCommitOrder(_ open: Opener) async throws {
        let stores = [try await open(), try await open()]
        try await stores[0].upsert([StoreContract.item("i1")])
        // A follower pages the log while two stores append: it must end up with every event, once.
        let follower = try await open()
        let done = Mutex(false)
        let writing = Task {
            defer { done.withLock { $0 = true } }
            try await withThrowingTaskGroup(of: Void.self) { group in
                for (index, store) in stores.enumerated() {
                    group.addTask {
                        for batch in 0..<20 {
                            _ = try await store.append((0..<25).map { StoreContract.event("s\(index)-b\(batch)-\($0)") })
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        var seen: [String] = []
        var position: Int64 = 0
        // Page while the writers write, then until the log is read to its end after they finished.
        while true {
            let finished = done.withLock { $0 }
            let page = try await follower.page(after: position, limit: 37)
            seen += page.events.map(\.id.rawValue)
            position = page.lastPosition
            if page.events.isEmpty {
                if finished { break }
                try await Task.sleep(for: .milliseconds(2))
            }
        }
        try await writing.value
        try expect(seen.count == 1000 && Set(seen).count == 1000, "the follower read \(seen.count) events, \(Set(seen).count) distinct, of 1000")
    }
}

/// Changes a listener heard, for the checks.
private actor Heard {
    var all: [StoreChange] = []
    func add(_ change: StoreChange) { all.append(change) }
}
