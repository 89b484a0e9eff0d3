// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

struct LambdaMARTTests {
    /// A query's LambdaRank derivatives against the formula written out pair by pair.
    @Test func lambdasAreTheNaivePairwiseFormula() {
        let scores: [Float] = [0.3, 1.2, -0.5, 0.9, 0.1]
        let relevant = [false, false, true, false, true]
        var g = [Double](repeating: 0, count: 5)
        var h = [Double](repeating: 0, count: 5)
        LambdaMART.lambdas(of: 0..<5, offset: 0, relevant, scores, sigma: 1, &g, &h)
        // Ranks by score: 1 (1.2), 3 (0.9), 0 (0.3), 4 (0.1), 2 (−0.5).
        let rank = [2, 0, 4, 1, 3]
        let ideal = 1 + 1 / (logarithm(3) / logarithm(2))
        var eg = [Double](repeating: 0, count: 5)
        var eh = [Double](repeating: 0, count: 5)
        for i in 0..<5 where relevant[i] {
            for j in 0..<5 where !relevant[j] {
                let delta = abs(1 / (logarithm(Double(rank[i] + 2)) / logarithm(2)) - 1 / (logarithm(Double(rank[j] + 2)) / logarithm(2))) / ideal
                let rho = 1 / (1 + exponential(Double(scores[i] - scores[j])))
                eg[i] -= rho * delta
                eg[j] += rho * delta
                eh[i] += rho * (1 - rho) * delta
                eh[j] += rho * (1 - rho) * delta
            }
        }
        for k in 0..<5 {
            #expect(abs(g[k] - eg[k]) < 1e-12)
            #expect(abs(h[k] - eh[k]) < 1e-12)
        }
    }

    /// Queries whose relevant row is the one where a feature the base score ignores is highest, and in a
    /// non-linear way (x in a middle band): the forest must learn it; the base scores rank at random.
    static func examples(queries: Int, seed: UInt64) -> RankingExamples {
        var random = SplitMix64(seed: seed)
        var examples = RankingExamples(featureCount: 2)
        for _ in 0..<queries {
            let rows = 20
            let target = Int(random.next() % UInt64(rows))
            var features: [Float] = []
            for row in 0..<rows {
                let x = row == target ? Float(0.45 + 0.1 * random.nextUnit()) : Float(random.nextUnit() < 0.5 ? 0.3 * random.nextUnit() : 0.7 + 0.3 * random.nextUnit())
                features += [x, Float(random.nextUnit())]
            }
            examples.append(rows: features, relevant: (0..<rows).map { $0 == target }, initial: (0..<rows).map { _ in Float(random.nextUnit()) * 0.01 })
        }
        return examples
    }

    @Test func learnsARelevanceTheBaseScoresMiss() async {
        var configuration = LambdaMART.Configuration()
        configuration.maximumTrees = 30
        configuration.minimumRowsPerLeaf = 20
        let training = Self.examples(queries: 300, seed: 1)
        let heldOut = Self.examples(queries: 100, seed: 2)
        let result = await LambdaMART.train(training, heldOut: heldOut, configuration: configuration)
        #expect(result.forest.treeCount > 0)
        #expect(result.heldOutNDCGAt10[0] < 0.4)
        #expect(result.heldOutNDCGAt10[result.forest.treeCount] > 0.9)
    }

    @Test func theSameExamplesGiveTheSameForestWhateverTheThreads() async {
        var one = LambdaMART.Configuration()
        one.maximumTrees = 10
        one.minimumRowsPerLeaf = 20
        one.threads = 1
        var three = one
        three.threads = 3
        let training = Self.examples(queries: 200, seed: 3)
        let heldOut = Self.examples(queries: 50, seed: 4)
        let a = await LambdaMART.train(training, heldOut: heldOut, configuration: one)
        let b = await LambdaMART.train(training, heldOut: heldOut, configuration: three)
        #expect(a.forest == b.forest)
    }

    @Test func theForestRoundTripsAndRefusesDamage() async throws {
        var configuration = LambdaMART.Configuration()
        configuration.maximumTrees = 5
        configuration.minimumRowsPerLeaf = 20
        let forest = await LambdaMART.train(Self.examples(queries: 100, seed: 5), heldOut: Self.examples(queries: 30, seed: 6), configuration: configuration).forest
        var writer = BinaryWriter()
        forest.encode(into: &writer)
        var reader = BinaryReader(writer.bytes)
        #expect(try RegressionForest(from: &reader) == forest)
        // A child pointing back at its parent would loop for ever: refused.
        var damaged = forest
        damaged.corruptFirstInnerNode()
        var bad = BinaryWriter()
        damaged.encode(into: &bad)
        var badReader = BinaryReader(bad.bytes)
        #expect(throws: ForYouError.self) { try RegressionForest(from: &badReader) }
    }

    @Test func coordinateAscentFindsTheBlendThatRanksBest() {
        // The relevant row maximises 0.3 a + 0.7 b; a alone and b alone each rank it first only sometimes.
        var random = SplitMix64(seed: 8)
        var examples = RankingExamples(featureCount: 2)
        for _ in 0..<300 {
            let rows = (0..<15).map { _ in (Float(random.nextUnit()), Float(random.nextUnit())) }
            let best = rows.indices.max { 0.3 * rows[$0].0 + 0.7 * rows[$0].1 < 0.3 * rows[$1].0 + 0.7 * rows[$1].1 }!
            examples.append(rows: rows.flatMap { [$0.0, $0.1] }, relevant: rows.indices.map { $0 == best }, initial: [Float](repeating: 0, count: 15))
        }
        let (weights, ndcg) = CoordinateAscent.fit(examples, columns: [0, 1])
        #expect(ndcg > 0.97)
        #expect(abs(weights[0] / weights[1] - 0.3 / 0.7) < 0.15)
        let alone = examples.ndcgAt10(CoordinateAscent.scores(examples, columns: [1], weights: [1]))
        #expect(alone < ndcg)
    }

    @Test func significanceNeedsMoreThanNoise() {
        let baseline = (0..<200).map { Double($0 % 7) / 7 }
        #expect(RankingExamples.significantlyBetter(baseline.map { $0 + 0.05 }, than: baseline))
        #expect(!RankingExamples.significantlyBetter(baseline.enumerated().map { $0.element + ($0.offset % 2 == 0 ? 0.05 : -0.05) }, than: baseline))
    }
}

extension RegressionForest {
    /// Points the first inner node's left child at itself (for the refusal test).
    mutating func corruptFirstInnerNode() {
        guard let index = nodes.firstIndex(where: { $0.feature >= 0 }) else { return }
        var damaged = nodes
        damaged[index].left = Int32(index)
        self = RegressionForest(featureCount: featureCount, nodes: damaged, roots: roots)
    }
}
