// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouSQLite
import ForYouTesting
import Testing

struct SQLiteStoreContractTests {
    @Test(arguments: StoreContract.checks.map(\.name))
    func sqliteStoreKeepsTheContract(check: String) async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let run = StoreContract.checks.first { $0.name == check }!.run
        try await run(try SQLiteStore(directory: directory.path))
    }

    @Test func dataSurvivesReopeningTheFolder() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do {
            let store = try SQLiteStore(directory: directory.path)
            try await store.upsert([StoreContract.item("i1", tags: ["a", "b c"])])
            _ = try await store.append([StoreContract.event("e1"), StoreContract.event("e2", item: nil, type: .follow)])
        }
        let reopened = try SQLiteStore(directory: directory.path)
        #expect(try await reopened.allItems() == [StoreContract.item("i1", tags: ["a", "b c"])])
        let page = try await reopened.page(after: 0, limit: 10)
        #expect(page.events == [StoreContract.event("e1"), StoreContract.event("e2", item: nil, type: .follow)])
        #expect(try await reopened.append([StoreContract.event("e1")]) == [false])
    }
}
