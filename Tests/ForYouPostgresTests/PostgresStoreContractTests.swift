// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouPostgres
import ForYouTesting
import Synchronization
import Testing

@Suite(.serialized)
struct PostgresStoreContractTests {
    @Test(arguments: StoreContract.checks.map(\.name))
    func postgresStoreKeepsTheContract(check: String) async throws {
        let store = try await PostgresStore.connect(url: try await TestDatabase.create(), connectTimeout: TestDatabase.timeout)
        defer { store.close() }
        try await StoreContract.checks.first { $0.name == check }!.run(store)
    }

    @Test(arguments: SharedStoreContract.checks.map(\.name))
    func postgresStoreKeepsTheSharedContract(check: String) async throws {
        let url = try await TestDatabase.create()
        let opened = OpenedStores()
        defer { opened.closeAll() }
        try await SharedStoreContract.checks.first { $0.name == check }!.run {
            let store = try await PostgresStore.connect(url: url, connectTimeout: TestDatabase.timeout)
            opened.add(store)
            return store
        }
    }

    @Test func dataSurvivesReconnecting() async throws {
        let url = try await TestDatabase.create()
        do {
            let store = try await PostgresStore.connect(url: url, connectTimeout: TestDatabase.timeout)
            defer { store.close() }
            try await store.upsert([StoreContract.item("i1", tags: ["a", "b c"])])
            _ = try await store.append([StoreContract.event("e1"), StoreContract.event("e2", item: nil, type: .follow)])
        }
        let reopened = try await PostgresStore.connect(url: url, connectTimeout: TestDatabase.timeout)
        defer { reopened.close() }
        #expect(try await reopened.allItems() == [StoreContract.item("i1", tags: ["a", "b c"])])
        let page = try await reopened.page(after: 0, limit: 10)
        #expect(page.events == [StoreContract.event("e1"), StoreContract.event("e2", item: nil, type: .follow)])
        #expect(try await reopened.append([StoreContract.event("e1")]) == [false])
        #expect(try await reopened.appliedMigrations() == PostgresStore.migrations.map(\.name))
    }

    @Test func badURLsAreRefusedNamingTheRule() async throws {
        for (url, rule) in [
            ("mysql://u@h/db", "scheme"), ("postgres://h/db", "user"), ("postgres://u@h/", "database"),
            ("postgres://u@h/db?sslmode=maybe", "sslmode"),
        ] {
            await #expect(throws: ForYouError.self) { _ = try await PostgresStore.connect(url: url) }
            do { _ = try await PostgresStore.connect(url: url) } catch let error as ForYouError {
                #expect(error.code == .invalidArgument && error.message.contains(rule), "\(url): \(error.message)")
            }
        }
    }

    @Test func anUnreachableServerIsUnavailableWithinTheTimeout() async throws {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            _ = try await PostgresStore.connect(url: "postgres://postgres@127.0.0.1:1/none", connectTimeout: .seconds(2))
            Issue.record("connected to nothing")
        } catch let error as ForYouError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("postgres://postgres@127.0.0.1:1/none"))
        }
        #expect(clock.now - start < .seconds(10))
    }
}

/// Stores a test opened, closed at its end.
final class OpenedStores: Sendable {
    private let stores = Mutex<[PostgresStore]>([])
    func add(_ store: PostgresStore) { stores.withLock { $0.append(store) } }
    func closeAll() { stores.withLock { $0.forEach { $0.close() } } }
}
