// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouSQLite
import ForYouTesting
import Foundation
import Testing

struct SQLiteStoreDurabilityTests {
    /// Power loss: an acknowledged event must be on disk, not in a cache. In WAL mode with
    /// synchronous=FULL, SQLite fsyncs the WAL on every commit before `append` returns, so what this
    /// test pins is the configuration that gives that guarantee. (The kill -9 test of the real server,
    /// which checks every acknowledged event afterwards, is in foryouTests.)
    @Test func eventLogRunsInWALWithSynchronousFull() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let store = try SQLiteStore(directory: directory.path)
        let settings = try await store.durabilitySettings()
        #expect(settings.journalMode == "wal")
        #expect(settings.synchronous == 2)  // FULL
    }

    @Test func aSecondOpenOfTheSameFolderIsRefused() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        let first = try SQLiteStore(directory: directory.path)
        do {
            _ = try SQLiteStore(directory: directory.path)
            Issue.record("the second open succeeded")
        } catch let error as ForYouError {
            #expect(error.code == .conflict)
            #expect(error.message.contains("in use by another foryou process"))
        }
        _ = first
    }

    @Test func theLockIsReleasedWhenTheStoreGoesAway() async throws {
        let directory = try TemporaryDirectory()
        defer { directory.remove() }
        do { _ = try SQLiteStore(directory: directory.path) }
        _ = try SQLiteStore(directory: directory.path)
    }

    @Test func anUnwritableFolderIsAClearError() {
        do {
            _ = try SQLiteStore(directory: "/proc/foryou-cannot-exist")
            Issue.record("opened a store under /proc")
        } catch let error as ForYouError {
            #expect(error.code == .unavailable)
            #expect(error.message.contains("/proc/foryou-cannot-exist"))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }
}
