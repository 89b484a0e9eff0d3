// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

struct RP3BetaModelTests {
    /// W_ij = Σ_{u ∈ U_i ∩ U_j} (1/|U_i|)^α (1/|I_u|)^α / |U_j|^β, computed the slow way.
    @Test func weightsAreTheNaiveRandomWalk() async {
        let histories: [[Int32]] = [[0, 1, 2], [0, 1], [1, 3], [2, 3, 0], [4, 1], [0, 1, 2, 3, 4]]
        var configuration = RP3BetaModel.Configuration()
        configuration.alpha = 0.8
        configuration.beta = 0.3
        var model = RP3BetaModel(configuration: configuration)
        await model.fit(sequences: histories, itemCount: 5)
        func users(_ item: Int) -> [Int] { histories.indices.filter { histories[$0].contains(Int32(item)) } }
        for i in 0..<5 {
            for j in 0..<5 where j != i {
                var expected = 0.0
                for u in users(i) where histories[u].contains(Int32(j)) {
                    expected += power(1 / Double(users(i).count), 0.8) * power(1 / Double(histories[u].count), 0.8)
                }
                expected /= power(Double(users(j).count), 0.3)
                let found = model.neighbours[i].first { $0.item == Int32(j) }?.weight ?? 0
                #expect(abs(Double(found) - expected) < 1e-5, "W[\(i), \(j)]")
            }
        }
    }

    @Test func ranksTheMissingSquareOfTheCheckerboardFirst() async {
        var model = RP3BetaModel()
        await model.fit(sequences: checkerboard(40), itemCount: 40)
        for (user, history) in checkerboard(40).enumerated() {
            #expect(model.recommend(history: history, count: 1, itemCount: 40).first?.item == Int32(user))
        }
    }

    @Test func theResultDoesNotDependOnThreads() async {
        var random = SplitMix64(seed: 9)
        let histories: [[Int32]] = (0..<60).map { _ in (0..<6).map { _ in Int32(random.next() % 30) } }
        var one = RP3BetaModel.Configuration()
        one.threads = 1
        var three = RP3BetaModel.Configuration()
        three.threads = 3
        var a = RP3BetaModel(configuration: one)
        var b = RP3BetaModel(configuration: three)
        await a.fit(sequences: histories, itemCount: 30)
        await b.fit(sequences: histories, itemCount: 30)
        #expect(a.neighbours.map { $0.map(\.item) } == b.neighbours.map { $0.map(\.item) })
        #expect(a.neighbours.map { $0.map(\.weight) } == b.neighbours.map { $0.map(\.weight) })
    }
}

struct SLITModelTests {
    /// B = (SᵀS + λI)⁻¹ SᵀT with S the position-weighted windows and T the next items, solved naively in Double.
    @Test func weightsAreTheNaiveRidgeRegression() async {
        let histories: [[Int32]] = [[0, 1, 2, 3], [1, 2, 0], [3, 0, 1], [2, 4, 1, 0], [4, 3]]
        let n = 5
        var configuration = SLITModel.Configuration()
        configuration.historyLength = 2
        configuration.decay = 0.5
        configuration.regularization = 1.5
        var model = SLITModel(configuration: configuration)
        await model.fit(sequences: histories, itemCount: n)
        var sts = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var stt = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for h in histories {
            for p in 1..<h.count {
                var source = [Double](repeating: 0, count: n)
                for q in max(0, p - 2)..<p { source[Int(h[q])] += power(0.5, Double(p - 1 - q)) }
                for a in 0..<n { for b in 0..<n { sts[a][b] += source[a] * source[b] } }
                for a in 0..<n { stt[a][Int(h[p])] += source[a] }
            }
        }
        for i in 0..<n { sts[i][i] += 1.5 }
        for column in 0..<n {
            // (SᵀS + λI) x = (SᵀT)[:, column].
            let x = naiveSolve(sts, (0..<n).map { stt[$0][column] })
            for row in 0..<n { #expect(abs(Double(model.weights[row, column]) - x[row]) < 1e-4, "B[\(row), \(column)]") }
        }
    }

    @Test func predictsTheNextItemOfAChain() async {
        // Every user walks the chain 0 → 1 → … → 9 from some start; the next item is set by the last one.
        let histories: [[Int32]] = (0..<40).map { user in (0..<6).map { Int32((user + $0) % 10) } }
        var model = SLITModel()
        await model.fit(sequences: histories, itemCount: 10)
        for last in 0..<10 {
            let history = [Int32((last + 8) % 10), Int32((last + 9) % 10), Int32(last)]
            #expect(model.recommend(history: history, count: 1, itemCount: 10).first?.item == Int32((last + 1) % 10))
        }
    }
}
