// SPDX-License-Identifier: Apache-2.0
//
// Filters applied inside an index search (hnswlib's `BaseFilterFunctor`): a rejected node is still
// walked through, so the graph stays connected, but never enters the results. Searching this way
// returns k results even when most nodes are rejected, where filtering k results afterwards would
// return fewer. Searches are generic over the filter so the common filters compile to a bit test.

/// Decides which ids a search may return.
public protocol VectorFilter {
    /// Whether `id` may be returned.
    func allows(_ id: Int32) -> Bool
}

/// Every id may be returned.
public struct AllowingAll: VectorFilter, Sendable {
    public init() {}
    @inline(__always) public func allows(_ id: Int32) -> Bool { true }
}

/// Only the ids for which a predicate holds may be returned (for example "only items in language X").
public struct AllowingIf: VectorFilter {
    public let predicate: (Int32) -> Bool
    public init(_ predicate: @escaping (Int32) -> Bool) { self.predicate = predicate }
    @inline(__always) public func allows(_ id: Int32) -> Bool { predicate(id) }
}

/// A set of non-negative Int32 ids as a bitset: one bit per id up to the largest inserted.
///
/// As a filter, an `IDSet` allows exactly its members; ``excluded`` allows everything else (for example
/// "exclude the items this user has seen").
public struct IDSet: VectorFilter, Sendable, Hashable {
    private var words: [UInt64] = []

    public init() {}

    /// A set holding `ids`.
    /// - Precondition: every id is >= 0.
    public init(_ ids: some Sequence<Int32>) {
        for id in ids { insert(id) }
    }

    /// Whether `id` is a member.
    @inline(__always)
    public func contains(_ id: Int32) -> Bool {
        let word = Int(id) >> 6
        return id >= 0 && word < words.count && words[word] & (1 << UInt64(id & 63)) != 0
    }

    /// Adds `id`.
    /// - Precondition: `id` >= 0.
    public mutating func insert(_ id: Int32) {
        precondition(id >= 0, "IDSet holds non-negative ids only")
        let word = Int(id) >> 6
        if word >= words.count { words.append(contentsOf: repeatElement(0, count: word + 1 - words.count)) }
        words[word] |= 1 << UInt64(id & 63)
    }

    /// Removes `id` if present.
    public mutating func remove(_ id: Int32) {
        let word = Int(id) >> 6
        guard id >= 0, word < words.count else { return }
        words[word] &= ~(1 << UInt64(id & 63))
    }

    /// The members below `limit`, ascending. - Complexity: O(largest id / 64 + members).
    public func members(below limit: Int) -> [Int32] {
        var result: [Int32] = []
        for (word, bits) in words.enumerated() where bits != 0 {
            var remaining = bits
            while remaining != 0 {
                let id = word * 64 + remaining.trailingZeroBitCount
                if id < limit { result.append(Int32(id)) }
                remaining &= remaining - 1
            }
        }
        return result
    }

    /// The number of members. - Complexity: O(largest id / 64).
    public var count: Int { words.reduce(0) { $0 + $1.nonzeroBitCount } }

    @inline(__always) public func allows(_ id: Int32) -> Bool { contains(id) }

    /// A filter that allows every id except this set's members.
    public var excluded: ExcludingIDs { ExcludingIDs(self) }
}

/// Allows every id except the members of a set.
public struct ExcludingIDs: VectorFilter, Sendable {
    public let ids: IDSet
    public init(_ ids: IDSet) { self.ids = ids }
    @inline(__always) public func allows(_ id: Int32) -> Bool { !ids.contains(id) }
}
