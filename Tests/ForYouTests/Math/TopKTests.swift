// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

struct TopKTests {
    /// The oracle: sort everything, best first, ties by the smaller element.
    func oracle(_ scores: [Float], _ k: Int) -> [Int32] {
        Array(scores.enumerated().sorted { $0.element > $1.element || ($0.element == $1.element && $0.offset < $1.offset) }
            .prefix(k).map { Int32($0.offset) })
    }

    @Test func matchesSortingForEveryKOnSmallInputs() {
        var random = SplitMix64(seed: 7)
        for n in 0...12 {
            for _ in 0..<20 {
                // Few distinct values, so ties are common.
                let scores = (0..<n).map { _ in Float(random.next() % 5) }
                for k in 0...(n + 1) {
                    var top = TopK(k)
                    for (index, score) in scores.enumerated().reversed() { top.insert(Int32(index), score: score) }
                    #expect(top.sorted().map(\.element) == oracle(scores, k), "n=\(n) k=\(k) scores=\(scores)")
                }
            }
        }
    }

    @Test func matchesSortingOnLargeRandomInputs() {
        var random = SplitMix64(seed: 11)
        let scores = (0..<10_000).map { _ in Float(random.nextUnit()) }
        var top = TopK(100)
        for (index, score) in scores.enumerated() { top.insert(Int32(index), score: score) }
        #expect(top.sorted().map(\.element) == oracle(scores, 100))
    }
}
