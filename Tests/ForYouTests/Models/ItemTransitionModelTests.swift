// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

struct ItemTransitionModelTests {
    /// The model's maths written the slow, obvious way: a dense matrix.
    func naiveScores(_ sequences: [[Int32]], history: [Int32], itemCount n: Int, _ c: ItemTransitionModel.Configuration) -> [Float] {
        var matrix = [[Float]](repeating: [Float](repeating: 0, count: n), count: n)
        var popularity = [Float](repeating: 0, count: n)
        for s in sequences {
            for item in s { popularity[Int(item)] += 1 }
            for i in s.indices {
                for gap in 1...c.window where i + gap < s.count {
                    matrix[Int(s[i])][Int(s[i + gap])] += power(Double(c.stepDecay), Double(gap - 1)).float
                }
            }
        }
        for row in 0..<n {
            let total = matrix[row].reduce(0, +)
            for column in 0..<n { matrix[row][column] /= total + 1 }
        }
        var scores = [Float](repeating: 0, count: n)
        for (k, item) in history.suffix(c.historyLength).reversed().enumerated() {
            let weight = power(Double(c.historyDecay), Double(k)).float
            for column in 0..<n { scores[column] += weight * matrix[Int(item)][column] }
        }
        let maximum = scores.max()!
        return scores.enumerated().map { (maximum > 0 ? $0.element / maximum : 0) + 1e-6 * popularity[$0.offset] }
    }

    @Test func matchesTheNaiveMathsOnRandomSequences() async {
        var random = SplitMix64(seed: 3)
        let n = 12
        let sequences: [[Int32]] = (0..<30).map { _ in (0..<(2 + Int(random.next() % 9))).map { _ in Int32(random.next() % UInt64(n)) } }
        for configuration in [ItemTransitionModel.Configuration(), .init(window: 2, stepDecay: 0.3, historyLength: 3, historyDecay: 0.9)] {
            var model = ItemTransitionModel(configuration: configuration)
            await model.fit(sequences: sequences, itemCount: n)
            for history in sequences.prefix(10) {
                var scores = [Float](repeating: 0, count: n)
                model.score(history: history, into: &scores)
                let expected = naiveScores(sequences, history: history, itemCount: n, configuration)
                for (a, b) in zip(scores, expected) { #expect(abs(a - b) < 1e-5) }
            }
        }
    }

    @Test func recommendsWhatComesNext() async {
        // Everyone watches 0 → 1 → 2 → 3; a popular item 9 is watched by all but follows nothing in particular.
        let sequences: [[Int32]] = (0..<20).map { user in user % 2 == 0 ? [9, 0, 1, 2, 3] : [0, 1, 2, 3, 9] }
        var model = ItemTransitionModel()
        await model.fit(sequences: sequences, itemCount: 10)
        #expect(model.recommend(history: [0], count: 1, itemCount: 10).first?.item == 1)
        #expect(model.recommend(history: [5, 0, 1], count: 1, itemCount: 10).first?.item == 2)
        // Seen items are never recommended, and asking for more than exist gives what there is.
        let all = model.recommend(history: [0, 1, 2], count: 50, itemCount: 10)
        #expect(all.count == 7)
        #expect(!all.contains { [0, 1, 2].contains($0.item) })
    }

    /// Quality floor: on users who follow one of a few hidden item chains, the transition model must
    /// rank the next item far better than popularity does.
    @Test func beatsPopularityByFarOnSequentialData() async {
        var random = SplitMix64(seed: 21)
        let n = 200
        var interactions: [Interaction] = []
        for user in 0..<300 {
            let chain = Int(random.next() % 10) * 20
            let start = Int(random.next() % 5)
            for step in 0..<(6 + Int(random.next() % 10)) {
                interactions.append(Interaction(user: "u\(user)", item: "\(chain + (start + step) % 20)", timestamp: Int64(step)))
            }
        }
        let split = LeaveLastOutSplit(interactions)
        let transitions = await OfflineEvaluation.test(ItemTransitionModel(), on: split)
        let popular = await OfflineEvaluation.test(PopularityModel(), on: split)
        let blend = await OfflineEvaluation.test(await OfflineEvaluation.selectDefaultModel(on: split), on: split)
        #expect(n == 200)
        #expect(transitions.test.ndcgAt10 >= 0.9)
        #expect(transitions.test.ndcgAt10 >= 5 * popular.test.ndcgAt10)
        #expect(blend.test.ndcgAt10 >= 0.9)
    }

    @Test func rankingDoesNotDependOnThreads() async {
        var random = SplitMix64(seed: 5)
        let sequences: [[Int32]] = (0..<50).map { _ in (0..<8).map { _ in Int32(random.next() % 40) } }
        var model = ItemTransitionModel()
        await model.fit(sequences: sequences, itemCount: 40)
        let one = await OfflineEvaluation.rank(model, histories: sequences, itemCount: 40, threads: 1)
        let three = await OfflineEvaluation.rank(model, histories: sequences, itemCount: 40, threads: 3)
        #expect(one == three)
    }
}

extension Double {
    fileprivate var float: Float { Float(self) }
}
