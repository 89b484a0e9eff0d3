// SPDX-License-Identifier: Apache-2.0
//
// The memory of an `HNSWIndex`: flat arrays indexed by node id (= item index), in hnswlib's layout.
//
//   nodes       one block per slot (`NodeBlocks`): the vector, padded with zeros to a multiple of 16
//               floats so the dot kernel runs whole SIMD16 lanes with no tail, then the level-0 list
//               (1 + 2M Int32: the neighbour count, then up to 2M neighbour ids).
//   levels      the top level of each node; -1 marks a free slot (never inserted, or removed and
//               repaired), which no link points to.
//   upperOffset where a node's upper-level lists start in `upper` (levels 1...top, each 1 + M Int32).
//   augment     for `.normAugmented` construction, sqrt(maxNorm² − ‖x‖²) per node; zeros otherwise.
//   deleted     one bit per node: tombstones, walked through but never returned.
//
// Invariants: every id in a link list is a slot whose level is at least that list's level; a list's
// count is at most its capacity; `entryPoint` is -1 exactly when no node is linked, else a node whose
// level is `maxLevel`. The storage is mutated only through a uniquely referenced `HNSWIndex`
// (copy-on-write), so a snapshot that readers hold never changes.

final class HNSWStorage: @unchecked Sendable {
    let dimension: Int
    let stride: Int
    let m: Int
    let linkStride0: Int
    let linkStride: Int

    var nodes: NodeBlocks
    var levels: RawBuffer<Int8>
    var upperOffset: RawBuffer<Int>
    var upper: RawBuffer<Int32>
    var augment: RawBuffer<Float>
    var squaredNorms: RawBuffer<Float>
    var deleted: RawBuffer<UInt64>

    var entryPoint: Int32 = -1
    var maxLevel = -1
    var liveCount = 0
    var deletedCount = 0
    var maxSquaredNorm: Float = 0

    init(dimension: Int, m: Int) {
        self.dimension = dimension
        stride = (dimension + 15) / 16 * 16
        self.m = m
        linkStride0 = 1 + 2 * m
        linkStride = 1 + m
        nodes = NodeBlocks(stride: stride, linkStride: linkStride0)
        levels = RawBuffer()
        upperOffset = RawBuffer()
        upper = RawBuffer()
        augment = RawBuffer()
        squaredNorms = RawBuffer()
        deleted = RawBuffer()
    }

    private init(copying other: HNSWStorage) {
        dimension = other.dimension
        stride = other.stride
        m = other.m
        linkStride0 = other.linkStride0
        linkStride = other.linkStride
        nodes = other.nodes.copy()
        levels = other.levels.copy()
        upperOffset = other.upperOffset.copy()
        upper = other.upper.copy()
        augment = other.augment.copy()
        squaredNorms = other.squaredNorms.copy()
        deleted = other.deleted.copy()
        entryPoint = other.entryPoint
        maxLevel = other.maxLevel
        liveCount = other.liveCount
        deletedCount = other.deletedCount
        maxSquaredNorm = other.maxSquaredNorm
    }

    func copy() -> HNSWStorage { HNSWStorage(copying: self) }

    deinit {
        nodes.deallocate()
        levels.deallocate()
        upperOffset.deallocate()
        upper.deallocate()
        augment.deallocate()
        squaredNorms.deallocate()
        deleted.deallocate()
    }

    // MARK: - Slots

    /// Node slots: one more than the largest id ever inserted.
    var slotCount: Int { levels.count }

    /// Adds free slots up to and including `id`.
    func ensureSlot(_ id: Int32) {
        let needed = Int(id) + 1 - slotCount
        guard needed > 0 else { return }
        nodes.append(count: needed)
        levels.append(repeating: -1, count: needed)
        upperOffset.append(repeating: 0, count: needed)
        augment.append(repeating: 0, count: needed)
        squaredNorms.append(repeating: 0, count: needed)
        let words = (slotCount + 63) / 64
        if words > deleted.count { deleted.append(repeating: 0, count: words - deleted.count) }
    }

    @inline(__always)
    func isLinked(_ id: Int32) -> Bool { id >= 0 && Int(id) < slotCount && levels[Int(id)] >= 0 }

    @inline(__always)
    func isDeleted(_ id: Int32) -> Bool { deleted[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 }

    func setDeleted(_ id: Int32, _ value: Bool) {
        let bit: UInt64 = 1 << UInt64(id & 63)
        deleted[Int(id) >> 6] = value ? deleted[Int(id) >> 6] | bit : deleted[Int(id) >> 6] & ~bit
    }

    // MARK: - Access

    @inline(__always)
    func vector(_ id: Int32) -> UnsafeMutablePointer<Float> { nodes.vector(Int(id)) }

    /// The link list of `id` at `level`: element 0 is the count, then the neighbour ids.
    @inline(__always)
    func links(_ id: Int32, level: Int) -> UnsafeMutablePointer<Int32> { view.links(id, level: level) }

    /// The most neighbours a node keeps at `level` (2M at level 0, as the paper recommends, M above).
    @inline(__always)
    func capacity(level: Int) -> Int { level == 0 ? 2 * m : m }

    /// Plain pointers to the arrays, valid until the next growth (`ensureSlot`, an upper-level append).
    var view: GraphView {
        GraphView(
            nodes: nodes.base, blockBytes: nodes.blockBytes, upper: upper.base, upperOffset: upperOffset.base, augment: augment.base,
            deleted: deleted.base, stride: stride, linkStride: linkStride, m: m, slotCount: slotCount, checksDeleted: deletedCount > 0)
    }
}

/// The storage's arrays as plain pointers, for the loops of search, insertion and repair: reading a
/// class's stored properties costs a dynamic exclusivity check per access, these cost nothing.
struct GraphView {
    /// The first node block (see `NodeBlocks`): a vector of `stride` floats, then the level-0 list.
    let nodes: UnsafeMutableRawPointer
    let blockBytes: Int
    let upper: UnsafeMutablePointer<Int32>
    let upperOffset: UnsafeMutablePointer<Int>
    let augment: UnsafeMutablePointer<Float>
    let deleted: UnsafeMutablePointer<UInt64>
    let stride: Int
    let linkStride: Int
    let m: Int
    let slotCount: Int
    /// Whether any tombstone exists (else `isDeleted` need not be asked).
    let checksDeleted: Bool

    @inline(__always)
    func vector(_ id: Int32) -> UnsafeMutablePointer<Float> {
        (nodes + Int(id) * blockBytes).assumingMemoryBound(to: Float.self)
    }

    /// The level-0 list of `id`, right after its vector in its block.
    @inline(__always)
    func links0(_ id: Int32) -> UnsafeMutablePointer<Int32> {
        (nodes + Int(id) * blockBytes + stride * MemoryLayout<Float>.stride).assumingMemoryBound(to: Int32.self)
    }

    @inline(__always)
    func links(_ id: Int32, level: Int) -> UnsafeMutablePointer<Int32> {
        level == 0 ? links0(id) : upper + upperOffset[Int(id)] + (level - 1) * linkStride
    }

    @inline(__always)
    func capacity(level: Int) -> Int { level == 0 ? 2 * m : m }

    @inline(__always)
    func isDeleted(_ id: Int32) -> Bool { deleted[Int(id) >> 6] & (1 << UInt64(id & 63)) != 0 }

    /// The construction distance between two stored nodes: minus their (augmented) inner product.
    @inline(__always)
    func distance(_ a: Int32, _ b: Int32) -> Float {
        -(HNSWDot.dot(vector(a), vector(b), stride) + augment[Int(a)] * augment[Int(b)])
    }

    /// Minus the inner product of a (padded) query and node `id`, plus the augmented coordinate's
    /// product while building a `.normAugmented` graph (a search passes 0).
    @inline(__always)
    func distance(_ query: UnsafePointer<Float>, queryAugment: Float, to id: Int32) -> Float {
        let product = HNSWDot.dot(query, vector(id), stride)
        return queryAugment == 0 ? -product : -(product + queryAugment * augment[Int(id)])
    }
}

/// The inner-product kernel of the index.
///
/// Vectors are padded to a multiple of 16 floats, so this runs SIMD16 lanes with no scalar tail, which
/// `Kernels.dot` (SIMD8, any length) cannot assume; it reduces by halves (SWIFT-NOTES.md).
///
/// Debug builds use four scalar accumulators instead: unoptimised code generation spills every SIMD16
/// operation to the stack, which made a dot product about 200× slower than in release (2 µs for 64
/// floats) and the index tests take minutes; the scalar loop is 12× faster there. Both kernels compute
/// the same sum, in a different order; approximate and exact search share whichever is compiled, so
/// their scores stay bit-identical in either build.
enum HNSWDot {
    @_optimize(speed)
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ stride: Int) -> Float {
        #if DEBUG
        var (s0, s1, s2, s3): (Float, Float, Float, Float) = (0, 0, 0, 0)
        var i = 0
        while i < stride {
            s0 += a[i] * b[i]
            s1 += a[i + 1] * b[i + 1]
            s2 += a[i + 2] * b[i + 2]
            s3 += a[i + 3] * b[i + 3]
            i += 4
        }
        return (s0 + s1) + (s2 + s3)
        #else
        var sum = SIMD16<Float>()
        var i = 0
        while i < stride {
            sum += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD16<Float>.self)
            i += 16
        }
        let eight = sum.lowHalf + sum.highHalf
        let four = eight.lowHalf + eight.highHalf
        let two = four.lowHalf + four.highHalf
        return two[0] + two[1]
        #endif
    }
}
