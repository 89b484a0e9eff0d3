// SPDX-License-Identifier: Apache-2.0

import Synchronization

/// A store that keeps everything in memory; for tests and throwaway runs. Nothing survives the process.
public final class MemoryStore: ForYouStore {
    private struct State {
        var items: [Item] = []
        var itemPositions: [ItemID: Int] = [:]
        var events: [(position: Int64, event: Event)] = []
        var eventIDs: Set<EventID> = []
        var nextPosition: Int64 = 1
        var served: [ServedRecord] = []
        var model: [UInt8]?
    }
    private let state = Mutex(State())

    public init() {}

    public func upsert(_ items: [Item]) async throws {
        state.withLock { s in
            for item in items {
                if let position = s.itemPositions[item.id] {
                    s.items[position] = item
                } else {
                    s.itemPositions[item.id] = s.items.count
                    s.items.append(item)
                }
            }
        }
    }

    public func allItems() async throws -> [Item] {
        state.withLock { $0.items }
    }

    public func append(_ events: [Event]) async throws -> [Bool] {
        state.withLock { s in
            events.map { event in
                guard s.eventIDs.insert(event.id).inserted else { return false }
                s.events.append((s.nextPosition, event))
                s.nextPosition += 1
                return true
            }
        }
    }

    public func page(after position: Int64, limit: Int) async throws -> EventLogPage {
        state.withLock { s in
            let start = s.events.partitionPoint { $0.position > position }
            let slice = s.events[start..<min(s.events.count, start + limit)]
            return EventLogPage(events: slice.map(\.event), lastPosition: slice.last?.position ?? position)
        }
    }

    public func events(of user: UserID) async throws -> [Event] {
        state.withLock { $0.events.lazy.map(\.event).filter { $0.user == user } }
    }

    public func count() async throws -> Int { state.withLock { $0.events.count } }

    public func eraseEvents(of user: UserID) async throws -> Int {
        state.withLock { s in
            let before = s.events.count
            for entry in s.events where entry.event.user == user { s.eventIDs.remove(entry.event.id) }
            s.events.removeAll { $0.event.user == user }
            return before - s.events.count
        }
    }

    public func record(_ records: [ServedRecord]) async throws {
        state.withLock { $0.served.append(contentsOf: records) }
    }

    public func served(since: Timestamp) async throws -> [ServedRecord] {
        state.withLock { $0.served.filter { $0.at >= since } }
    }

    public func eraseServed(of user: UserID) async throws -> Int {
        state.withLock { s in
            let before = s.served.count
            s.served.removeAll { $0.user == user }
            return before - s.served.count
        }
    }

    public func pruneServed(before: Timestamp) async throws -> Int {
        state.withLock { s in
            let count = s.served.count
            s.served.removeAll { $0.at < before }
            return count - s.served.count
        }
    }

    public func saveModel(_ bytes: [UInt8], version: String) async throws {
        state.withLock { $0.model = bytes }
    }

    public func latestModel() async throws -> [UInt8]? { state.withLock { $0.model } }

    public func deleteModels() async throws { state.withLock { $0.model = nil } }

    public func compact() async throws {}
}

extension Array {
    /// The index of the first element for which `belongsInSecondPartition` is true, in a partitioned array.
    /// - Complexity: O(log n).
    func partitionPoint(_ belongsInSecondPartition: (Element) -> Bool) -> Int {
        var low = 0
        var high = count
        while low < high {
            let mid = (low + high) / 2
            if belongsInSecondPartition(self[mid]) { high = mid } else { low = mid + 1 }
        }
        return low
    }
}
