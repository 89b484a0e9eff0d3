// SPDX-License-Identifier: Apache-2.0
//
// An index that changes while it is searched, by publishing snapshots: searches run on the current
// immutable `HNSWIndex` value, taken under a lock held only to copy one reference. Writers are
// serialised by a second lock; each write copies the current value, mutates the copy (the first
// mutation duplicates the shared storage, one memcpy per array) and publishes it. So readers never
// wait for an insert, and a search sees either all of a batch or none of it.
//
// The price is one copy of the index per write call: batch inserts (the engine inserts the items of
// an ingest batch together).

/// A shared, changing ``HNSWIndex``: searches never wait for inserts, removals or repairs.
public final class LiveHNSWIndex: Sendable {
    private let current: StateLock<HNSWIndex>
    private let writer = StateLock<Void>(())

    /// Starts from `index`.
    public init(_ index: HNSWIndex) { current = StateLock(index) }

    /// The index as of now: an immutable value that later writes do not change.
    public var snapshot: HNSWIndex { current.withLock { $0 } }

    /// Searches the current snapshot; see ``HNSWIndex/search(_:count:ef:filter:)``.
    public func search<Filter: VectorFilter>(_ query: [Float], count: Int, ef: Int? = nil, filter: Filter) throws -> [HNSWIndex.Neighbor] {
        try snapshot.search(query, count: count, ef: ef, filter: filter)
    }

    /// Searches the current snapshot; see ``HNSWIndex/search(_:count:ef:)``.
    public func search(_ query: [Float], count: Int, ef: Int? = nil) throws -> [HNSWIndex.Neighbor] {
        try snapshot.search(query, count: count, ef: ef)
    }

    /// Inserts a batch and publishes it at once; on a throw, nothing of the batch is published.
    /// - Complexity: one copy of the index plus the inserts.
    public func insert(_ batch: [(id: Int32, vector: [Float])]) throws {
        try update { index in
            for entry in batch { try index.insert(entry.vector, id: entry.id) }
        }
    }

    /// Removes ids (tombstones) and publishes the result at once.
    public func remove(_ ids: [Int32]) throws {
        try update { index in
            for id in ids { try index.remove(id) }
        }
    }

    /// Repairs around removed ids; see ``HNSWIndex/repair()``.
    public func repair() {
        update { $0.repair() }
    }

    /// Applies `change` to a copy of the current index and publishes the copy if `change` returns.
    public func update(_ change: (inout HNSWIndex) throws -> Void) rethrows {
        try writer.withLock { _ in
            var copy = snapshot
            try change(&copy)
            current.withLock { $0 = copy }
        }
    }
}
