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
        var models: [(version: String, bytes: [UInt8])] = []
        var settings: [String: String] = [:]
        var controls: [UserID: UserControls] = [:]
        var pseudonymKeys: [UserID: [UInt8]] = [:]
        var keys: [APIKeyRecord] = []
        var audit: [String] = []
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
        state.withLock { s in
            s.models.removeAll { $0.version == version }
            s.models.insert((version, bytes), at: 0)
            if s.models.count > 3 { s.models.removeLast() }
        }
    }

    public func savedModels() async throws -> [[UInt8]] { state.withLock { $0.models.map(\.bytes) } }

    public func deleteModels() async throws { state.withLock { $0.models = [] } }

    public func served(of user: UserID) async throws -> [ServedRecord] {
        state.withLock { $0.served.filter { $0.user == user } }
    }

    public func setting(_ key: String) async throws -> String? { state.withLock { $0.settings[key] } }

    public func setSetting(_ key: String, to value: String) async throws { state.withLock { $0.settings[key] = value } }

    public func allUserControls() async throws -> [UserID: UserControls] { state.withLock { $0.controls } }

    public func saveUserControls(_ controls: UserControls, of user: UserID) async throws {
        state.withLock { $0.controls[user] = controls }
    }

    public func pseudonymKey(of user: UserID) async throws -> [UInt8] {
        state.withLock { s in
            if let key = s.pseudonymKeys[user] { return key }
            let key = Pseudonym.newKey()
            s.pseudonymKeys[user] = key
            return key
        }
    }

    public func eraseGovernanceData(of user: UserID) async throws {
        state.withLock { s in
            s.controls[user] = nil
            s.pseudonymKeys[user] = nil
        }
    }

    public func apiKeys() async throws -> [APIKeyRecord] { state.withLock { $0.keys } }

    public func saveAPIKey(_ key: APIKeyRecord) async throws {
        state.withLock { s in
            if let index = s.keys.firstIndex(where: { $0.id == key.id }) { s.keys[index] = key } else { s.keys.append(key) }
        }
    }

    public func appendAuditLine(_ line: String) async throws { state.withLock { $0.audit.append(line) } }

    public func auditLines() async throws -> [String] { state.withLock { $0.audit } }

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
