// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

@Suite struct CoVisitationRowTests {
    /// Random adds, sets and removals (clustered item indices, so probe runs are long and wrap) agree
    /// with a Dictionary after every step.
    @Test func agreesWithADictionaryThroughAddsSetsAndRemovals() {
        var random = SplitMix64(seed: 3)
        var row = CoVisitationRow()
        var expected: [Int32: Float] = [:]
        for step in 0..<20_000 {
            let item = Int32(random.next() % 300) * (step % 2 == 0 ? 1 : 64)
            switch random.next() % 4 {
            case 0, 1:
                let amount = Float(random.next() % 100) / 10
                row.add(amount, to: item)
                expected[item, default: 0] += amount
            case 2:
                row.set(nil, for: item)
                expected[item] = nil
            default:
                let weight = Float(random.next() % 100)
                row.set(weight, for: item)
                expected[item] = weight
            }
            #expect(row.count == expected.count)
            #expect(row[item] == expected[item])
            if step % 1_000 == 0 {
                let all = Dictionary(uniqueKeysWithValues: row.map { ($0.key, $0.value) })
                #expect(all == expected)
            }
        }
        for item in Array(expected.keys) { row.set(nil, for: item) }
        #expect(row.isEmpty)
        #expect(Array(row).isEmpty)
    }

    @Test func theLargestItemIndexIsStored() {
        var row = CoVisitationRow()
        row.add(1.5, to: Int32.max - 1)
        row.add(2, to: 0)
        #expect(row[Int32.max - 1] == 1.5)
        #expect(row[0] == 2)
        #expect(row[5] == nil)
    }
}
