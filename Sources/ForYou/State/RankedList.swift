// SPDX-License-Identifier: Apache-2.0
//
// The `depth` best items by a key that only grows, kept sorted as keys grow, so a feed never has to
// look at the whole catalogue. Items tie-break by the smaller index, so the list kept up event by event
// equals the list rebuilt from scratch. Invariant: every item outside the list ranks below every item
// in it (when it is full). A key that only grows keeps that true: the item that grew moves up or
// enters, and the item it pushes out ranked below everything left. A key that shrinks (an erasure)
// breaks it, so the owner rebuilds instead.

struct RankedList {
    /// Best first.
    private(set) var items: [Int32] = []
    /// Each member's key, beside it: placing an item compares it with members' keys read here, not
    /// from the owner's per-item values, where each read is a likely cache miss at a million items.
    /// Current as long as the owner raises every list an item is in whenever its key grows, and
    /// rebuilds otherwise (see the invariant above).
    private var keys: [Double] = []
    let depth: Int

    init(depth: Int) { self.depth = depth }

    /// Whether `a` (with key `ka`) ranks above `b` (with key `kb`).
    @inline(__always)
    private static func ranks(_ a: Int32, _ ka: Double, above b: Int32, _ kb: Double) -> Bool {
        ka > kb || (ka == kb && a < b)
    }

    /// Whether `a` ranks above `b`.
    @inline(__always)
    private static func ranks(_ a: Int32, above b: Int32, _ key: (Int32) -> Double) -> Bool {
        ranks(a, key(a), above: b, key(b))
    }

    /// Rebuilds the list from every candidate. - Complexity: O(n log depth).
    mutating func rebuild(from candidates: some Sequence<Int32>, key: (Int32) -> Double) {
        // A bounded min-heap on rank: the root is the weakest kept item.
        var heap: [Int32] = []
        heap.reserveCapacity(depth)
        func weaker(_ a: Int32, _ b: Int32) -> Bool { Self.ranks(b, above: a, key) }
        for item in candidates {
            if heap.count < depth {
                heap.append(item)
                var child = heap.count - 1
                while child > 0, weaker(heap[child], heap[(child - 1) / 2]) {
                    heap.swapAt(child, (child - 1) / 2)
                    child = (child - 1) / 2
                }
            } else if depth > 0, weaker(heap[0], item) {
                heap[0] = item
                var parent = 0
                while true {
                    let left = 2 * parent + 1
                    var weakest = parent
                    if left < heap.count && weaker(heap[left], heap[weakest]) { weakest = left }
                    if left + 1 < heap.count && weaker(heap[left + 1], heap[weakest]) { weakest = left + 1 }
                    if weakest == parent { break }
                    heap.swapAt(parent, weakest)
                    parent = weakest
                }
            }
        }
        items = heap.sorted { Self.ranks($0, above: $1, key) }
        keys = items.map(key)
    }

    /// Moves `item` to its place after its key grew to `key`, entering the list if it now ranks high enough.
    /// - Complexity: O(log depth) when the item stays out; O(depth) at worst otherwise.
    mutating func raise(_ item: Int32, to key: Double) {
        // Every member ranks at least as high as the last, so an item ranking below it is no member.
        if items.count >= depth {
            guard let last = items.last, last == item || Self.ranks(item, key, above: last, keys[items.count - 1]) else { return }
        }
        // A member's stored key is its old one, lower or equal: it ranks below `item` and so sits at or
        // after `target`, usually close by.
        let target = insertionPoint(of: item, key: key)
        if let position = items[target...].firstIndex(of: item) {
            items[target...position].rotateRightByOne()
            keys[target...position].rotateRightByOne()
            keys[target] = key
            return
        }
        if items.count >= depth {
            items.removeLast()
            keys.removeLast()
        }
        items.insert(item, at: target)
        keys.insert(key, at: target)
    }

    /// Appends new items whose key is the lowest possible (0), while the list has room: they rank below
    /// everything already in it, in index order.
    mutating func appendLowest(_ newItems: some Sequence<Int32>) {
        for item in newItems where items.count < depth {
            items.append(item)
            keys.append(0)
        }
    }

    /// The first position whose item ranks below `item` with `key`.
    private func insertionPoint(of item: Int32, key: Double) -> Int {
        var low = 0
        var high = items.count
        while low < high {
            let middle = (low + high) / 2
            if Self.ranks(items[middle], keys[middle], above: item, key) { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension MutableCollection where Self: BidirectionalCollection {
    /// Moves the last element to the front, shifting the others back by one.
    fileprivate mutating func rotateRightByOne() {
        guard let lastIndex = indices.last else { return }
        let moved = self[lastIndex]
        var index = lastIndex
        while index != startIndex {
            let previous = self.index(before: index)
            self[index] = self[previous]
            index = previous
        }
        self[startIndex] = moved
    }
}
