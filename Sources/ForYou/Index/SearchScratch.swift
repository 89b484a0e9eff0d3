// SPDX-License-Identifier: Apache-2.0
//
// Per-search working memory, reused across searches so the search loop never allocates (hnswlib's
// `VisitedList` + `VisitedListPool`):
//   - a visited set as one UInt16 tag per node and a generation counter: "visited" means "tag equals the
//     current generation", so clearing it is one increment (and a memset every 65,535 searches);
//   - two binary heaps of packed keys (see `HNSWKey`), one for candidates and one for results;
//   - the padded query.
// A `ScratchPool` hands each concurrent search its own scratch.

/// A distance and a node packed in one UInt64 that orders by distance, then by node: the heaps compare
/// plain integers. Distances are finite (inputs are validated), so the order-preserving bit trick holds.
enum HNSWKey {
    @inline(__always)
    static func make(_ distance: Float, _ id: Int32) -> UInt64 {
        let bits = distance.bitPattern
        let ordered = bits & 0x8000_0000 != 0 ? ~bits : bits | 0x8000_0000
        return UInt64(ordered) << 32 | UInt64(UInt32(bitPattern: id))
    }
    @inline(__always)
    static func id(_ key: UInt64) -> Int32 { Int32(bitPattern: UInt32(truncatingIfNeeded: key)) }
    @inline(__always)
    static func distance(_ key: UInt64) -> Float {
        let ordered = UInt32(truncatingIfNeeded: key >> 32)
        return Float(bitPattern: ordered & 0x8000_0000 != 0 ? ordered & 0x7FFF_FFFF : ~ordered)
    }
}

/// A binary min-heap of UInt64 in memory it owns (freed by the owning scratch).
struct KeyHeap {
    private(set) var storage = RawBuffer<UInt64>(capacity: 256)
    private(set) var count = 0

    var isEmpty: Bool { count == 0 }
    var minimum: UInt64 { storage[0] }

    mutating func removeAll() { count = 0 }

    @inline(__always)
    mutating func push(_ key: UInt64) {
        if count == storage.count { storage.append(repeating: 0, count: max(16, storage.count)) }
        let base = storage.base
        var child = count
        count += 1
        while child > 0 {
            let parent = (child - 1) >> 1
            let parentKey = base[parent]
            guard key < parentKey else { break }
            base[child] = parentKey
            child = parent
        }
        base[child] = key
    }

    @inline(__always)
    @discardableResult
    mutating func popMinimum() -> UInt64 {
        let top = storage[0]
        count -= 1
        if count > 0 { siftDown(storage[count]) }
        return top
    }

    /// Replaces the minimum with `key` (one sift instead of a pop and a push).
    @inline(__always)
    mutating func replaceMinimum(_ key: UInt64) { siftDown(key) }

    @inline(__always)
    private func siftDown(_ key: UInt64) {
        let base = storage.base
        var parent = 0
        while true {
            var child = 2 * parent + 1
            guard child < count else { break }
            if child + 1 < count && base[child + 1] < base[child] { child += 1 }
            guard base[child] < key else { break }
            base[parent] = base[child]
            parent = child
        }
        base[parent] = key
    }

    func deallocate() { storage.deallocate() }
}

/// The working memory of one search at a time.
final class SearchScratch: @unchecked Sendable {
    private(set) var visited = RawBuffer<UInt16>()
    private var generation: UInt16 = 0
    var candidates = KeyHeap()
    /// Results as complemented keys, so the min-heap's root is the farthest result.
    var results = KeyHeap()
    private(set) var query = RawBuffer<Float>()
    /// Construction-time lists (allocated once, then reused).
    var sorted: [(distance: Float, id: Int32)] = []
    var selected: [Int32] = []
    var pool: [(distance: Float, id: Int32)] = []
    var kept: [Int32] = []
    /// A sink for the loads that warm the cache (see `searchLayer`), so they are not optimised away.
    var touched: UInt32 = 0
    /// The unvisited neighbours of one node and their distances (a list holds at most 2M ≤ 512).
    let batchIDs = UnsafeMutablePointer<Int32>.allocate(capacity: 512)
    let batchDistances = UnsafeMutablePointer<Float>.allocate(capacity: 512)

    deinit {
        visited.deallocate()
        candidates.deallocate()
        results.deallocate()
        query.deallocate()
        batchIDs.deallocate()
        batchDistances.deallocate()
    }

    /// Starts a search over `nodes` node slots: clears the visited set and the heaps.
    func begin(nodes: Int) {
        if visited.count < nodes { visited.append(repeating: 0, count: max(nodes - visited.count, visited.count / 2)) }
        generation &+= 1
        if generation == 0 {
            visited.base.update(repeating: 0, count: visited.count)
            generation = 1
        }
        candidates.removeAll()
        results.removeAll()
    }

    /// The tag that marks a node visited in the current search.
    var currentGeneration: UInt16 { generation }

    /// Copies `vector` into the query buffer, padded with zeros to `stride` floats.
    func loadQuery(_ vector: UnsafeBufferPointer<Float>, stride: Int) -> UnsafePointer<Float> {
        if query.count < stride { query.append(repeating: 0, count: stride - query.count) }
        query.base.update(from: vector.baseAddress!, count: vector.count)
        (query.base + vector.count).update(repeating: 0, count: stride - vector.count)
        return UnsafePointer(query.base)
    }

    /// Marks `id` visited; returns whether it was already.
    @inline(__always)
    func checkAndMark(_ id: Int32) -> Bool {
        let slot = visited.base + Int(id)
        if slot.pointee == generation { return true }
        slot.pointee = generation
        return false
    }
}

/// Scratches for concurrent searches: each search takes one and gives it back.
final class ScratchPool: Sendable {
    private let free = StateLock<[SearchScratch]>([])

    func withScratch<Result>(_ body: (SearchScratch) throws -> Result) rethrows -> Result {
        let scratch = free.withLock { $0.popLast() } ?? SearchScratch()
        defer { free.withLock { if $0.count < 64 { $0.append(scratch) } } }
        return try body(scratch)
    }
}
