// SPDX-License-Identifier: Apache-2.0

/// Keeps the `k` highest-scoring elements seen so far, in O(log k) per insertion, without sorting
/// everything (implicit's `select.h`). Ties are broken by the smaller element, so results are
/// deterministic whatever the insertion order.
struct TopK {
    private(set) var capacity: Int
    /// A min-heap on (score, -element): the root is the weakest kept element.
    private var heap: [(element: Int32, score: Float)] = []

    init(_ capacity: Int) {
        self.capacity = max(0, capacity)
        heap.reserveCapacity(self.capacity)
    }

    private static func weaker(_ a: (element: Int32, score: Float), _ b: (element: Int32, score: Float)) -> Bool {
        a.score < b.score || (a.score == b.score && a.element > b.element)
    }

    /// Whether k elements are kept: a new one must then beat ``weakestScore``.
    var isFull: Bool { heap.count >= capacity }
    /// The score of the weakest kept element (−∞ when none is kept).
    var weakestScore: Float { heap.first?.score ?? -.infinity }

    /// Whether ``insert(_:score:)`` would keep the element: a check that costs no more than a comparison,
    /// for callers whose other conditions cost more.
    @inline(__always)
    func admits(_ element: Int32, score: Float) -> Bool {
        capacity > 0 && (heap.count < capacity || Self.weaker(heap[0], (element, score)))
    }

    /// Offers an element; kept if it beats the weakest of the current top k.
    mutating func insert(_ element: Int32, score: Float) {
        guard capacity > 0 else { return }
        let entry = (element: element, score: score)
        if heap.count < capacity {
            heap.append(entry)
            var child = heap.count - 1
            while child > 0 {
                let parent = (child - 1) / 2
                guard Self.weaker(heap[child], heap[parent]) else { break }
                heap.swapAt(child, parent)
                child = parent
            }
        } else if Self.weaker(heap[0], entry) {
            heap[0] = entry
            var parent = 0
            while true {
                let left = 2 * parent + 1
                let right = left + 1
                var weakest = parent
                if left < heap.count && Self.weaker(heap[left], heap[weakest]) { weakest = left }
                if right < heap.count && Self.weaker(heap[right], heap[weakest]) { weakest = right }
                if weakest == parent { break }
                heap.swapAt(parent, weakest)
                parent = weakest
            }
        }
    }

    /// The kept elements, best first.
    func sorted() -> [(element: Int32, score: Float)] {
        heap.sorted { Self.weaker($1, $0) }
    }
}
