// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

@Suite struct NodeBlocksTests {
    /// Fills block `index` with values that name it, so a moved or overlapping block shows.
    func fill(_ blocks: NodeBlocks, _ index: Int) {
        for position in 0..<blocks.stride { blocks.vector(index)[position] = Float(index * 1000 + position) }
        for position in 0..<blocks.linkStride { blocks.links(index)[position] = Int32(-(index * 1000 + position)) }
    }

    func holds(_ blocks: NodeBlocks, _ index: Int) -> Bool {
        (0..<blocks.stride).allSatisfy { blocks.vector(index)[$0] == Float(index * 1000 + $0) }
            && (0..<blocks.linkStride).allSatisfy { blocks.links(index)[$0] == Int32(-(index * 1000 + $0)) }
    }

    @Test func blocksAreCacheLineAlignedAndTheirPartsDoNotOverlap() {
        var blocks = NodeBlocks(stride: 64, linkStride: 33)
        defer { blocks.deallocate() }
        blocks.append(count: 3)
        // 64 floats + 33 Int32 = 388 bytes, rounded up to 448 (7 lines of 64 bytes).
        #expect(blocks.blockBytes == 448)
        for index in 0..<3 {
            #expect(Int(bitPattern: blocks.vector(index)) % 64 == 0)
            #expect(UnsafeRawPointer(blocks.links(index)) == UnsafeRawPointer(blocks.vector(index) + 64))
            fill(blocks, index)
        }
        #expect((0..<3).allSatisfy { holds(blocks, $0) })
    }

    @Test func newBlocksAreZeroAndGrowingKeepsEveryBlock() {
        var blocks = NodeBlocks(stride: 16, linkStride: 9)
        defer { blocks.deallocate() }
        for round in 0..<10 {
            let first = blocks.count
            blocks.append(count: round + 1)
            for index in first..<blocks.count {
                #expect((0..<16).allSatisfy { blocks.vector(index)[$0] == 0 })
                #expect((0..<9).allSatisfy { blocks.links(index)[$0] == 0 })
                fill(blocks, index)
            }
        }
        #expect(blocks.count == 55)
        #expect((0..<55).allSatisfy { holds(blocks, $0) })
    }

    @Test func aCopyOwnsItsMemory() {
        var blocks = NodeBlocks(stride: 16, linkStride: 9)
        blocks.append(count: 4)
        for index in 0..<4 { fill(blocks, index) }
        let copy = blocks.copy()
        blocks.vector(2)[0] = -1
        blocks.links(3)[0] = 7
        blocks.deallocate()
        #expect(copy.count == 4)
        #expect((0..<4).allSatisfy { holds(copy, $0) })
        copy.deallocate()
    }
}
