// SPDX-License-Identifier: Apache-2.0
//
// A growable, manually managed array of plain values, for the index's hot arrays. Swift arrays inside a
// class pay an exclusivity check and a bounds check on every access and hand out pointers only inside
// closures; the search loop wants plain pointers that stay valid for a whole query. The owner (one
// `HNSWStorage`) frees every buffer in its `deinit`; nothing else holds them.

/// Contiguous storage for `count` elements, growing by doubling. Not reference counted: the owner
/// calls ``deallocate()`` exactly once.
struct RawBuffer<Element: BitwiseCopyable> {
    private(set) var base: UnsafeMutablePointer<Element>
    private(set) var count: Int
    private(set) var capacity: Int

    init(capacity: Int = 0) {
        self.capacity = max(1, capacity)
        base = .allocate(capacity: self.capacity)
        count = 0
    }

    /// A copy with its own memory and the same capacity.
    func copy() -> RawBuffer {
        var copy = RawBuffer(capacity: capacity)
        copy.base.update(from: base, count: count)
        copy.count = count
        return copy
    }

    func deallocate() { base.deallocate() }

    subscript(index: Int) -> Element {
        @inline(__always) get { base[index] }
        @inline(__always) nonmutating set { base[index] = newValue }
    }

    /// Makes room for `minimum` elements, moving the contents if needed (invalidates `base`).
    mutating func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        let newCapacity = max(minimum, capacity * 2)
        let newBase = UnsafeMutablePointer<Element>.allocate(capacity: newCapacity)
        newBase.update(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    /// Appends `n` copies of `value`; returns the index of the first.
    @discardableResult
    mutating func append(repeating value: Element, count n: Int) -> Int {
        let start = count
        reserve(count + n)
        (base + start).initialize(repeating: value, count: n)
        count += n
        return start
    }

    /// Appends the elements of `source`.
    mutating func append(contentsOf source: UnsafeBufferPointer<Element>) {
        reserve(count + source.count)
        if let address = source.baseAddress { (base + count).initialize(from: address, count: source.count) }
        count += source.count
    }

    var buffer: UnsafeBufferPointer<Element> { UnsafeBufferPointer(start: base, count: count) }
}
