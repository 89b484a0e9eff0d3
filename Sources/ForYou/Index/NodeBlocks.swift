// SPDX-License-Identifier: Apache-2.0
//
// Each node's vector and level-0 link list in one block (hnswlib's layout), so the search, which scores
// a node and later expands it, finds both in neighbouring cache lines instead of in two arrays:
//
//   block = [vector: stride Float][links: 1 + 2M Int32][padding to a multiple of 64 bytes]
//
// Blocks start on 64-byte boundaries, so a vector of 16k floats spans exactly k cache lines. Within
// each block the vector's bytes are bound to Float and the list's to Int32, so both are read through
// typed pointers as Swift's memory model allows. Growing moves every block to new memory (doubling,
// as `RawBuffer`); the owner (one `HNSWStorage`) frees it exactly once.

struct NodeBlocks {
    /// Floats in a (padded) vector.
    let stride: Int
    /// Int32 in a level-0 list: the count, then up to 2M ids.
    let linkStride: Int
    /// Bytes from one block to the next.
    let blockBytes: Int
    private(set) var base: UnsafeMutableRawPointer
    private(set) var count: Int
    private(set) var capacity: Int

    static let alignment = 64

    init(stride: Int, linkStride: Int, capacity: Int = 0) {
        self.stride = stride
        self.linkStride = linkStride
        let bytes = stride * MemoryLayout<Float>.stride + linkStride * MemoryLayout<Int32>.stride
        blockBytes = (bytes + Self.alignment - 1) / Self.alignment * Self.alignment
        self.capacity = max(1, capacity)
        base = .allocate(byteCount: self.capacity * blockBytes, alignment: Self.alignment)
        count = 0
    }

    /// A copy with its own memory and the same capacity.
    func copy() -> NodeBlocks {
        var copy = NodeBlocks(stride: stride, linkStride: linkStride, capacity: capacity)
        copy.adopt(from: self)
        return copy
    }

    func deallocate() { base.deallocate() }

    /// The vector of block `index`.
    @inline(__always)
    func vector(_ index: Int) -> UnsafeMutablePointer<Float> {
        (base + index * blockBytes).assumingMemoryBound(to: Float.self)
    }

    /// The level-0 list of block `index`: element 0 is the count, then the ids.
    @inline(__always)
    func links(_ index: Int) -> UnsafeMutablePointer<Int32> {
        (base + index * blockBytes + stride * MemoryLayout<Float>.stride).assumingMemoryBound(to: Int32.self)
    }

    /// Appends `n` blocks with zero vectors and empty lists.
    mutating func append(count n: Int) {
        reserve(count + n)
        for index in count..<(count + n) { initialize(index, vector: nil, links: nil) }
        count += n
    }

    private mutating func reserve(_ minimum: Int) {
        guard minimum > capacity else { return }
        var grown = NodeBlocks(stride: stride, linkStride: linkStride, capacity: max(minimum, capacity * 2))
        grown.adopt(from: self)
        deallocate()
        self = grown
    }

    /// Copies every block of `other` (same shape) into this, empty, memory.
    private mutating func adopt(from other: NodeBlocks) {
        for index in 0..<other.count { initialize(index, vector: other.vector(index), links: other.links(index)) }
        count = other.count
    }

    /// Binds block `index`'s two parts to their types and fills them from `vector` and `links` (zeros
    /// when nil).
    private func initialize(_ index: Int, vector: UnsafePointer<Float>?, links: UnsafePointer<Int32>?) {
        let block = base + index * blockBytes
        if let vector {
            block.initializeMemory(as: Float.self, from: vector, count: stride)
        } else {
            block.initializeMemory(as: Float.self, repeating: 0, count: stride)
        }
        let list = block + stride * MemoryLayout<Float>.stride
        if let links {
            list.initializeMemory(as: Int32.self, from: links, count: linkStride)
        } else {
            list.initializeMemory(as: Int32.self, repeating: 0, count: linkStride)
        }
    }
}
