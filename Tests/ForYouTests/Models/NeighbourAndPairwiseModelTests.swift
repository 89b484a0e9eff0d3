// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

/// The checkerboard of implicit's tests: user i has every item of its own parity except item i, so
/// item i is the one a model must rank first for user i.
func checkerboard(_ n: Int) -> [[Int32]] {
    (0..<n).map { user in (0..<n).filter { $0 % 2 == user % 2 && $0 != user }.map(Int32.init) }
}

struct ItemKNNModelTests {
    @Test func similaritiesAreTheNaiveCosine() async {
        let histories: [[Int32]] = [[0, 1, 2], [0, 1], [1, 3], [2, 3, 0], [4]]
        var model = ItemKNNModel()
        await model.fit(sequences: histories, itemCount: 5)
        func users(_ item: Int32) -> Set<Int> { Set(histories.indices.filter { histories[$0].contains(item) }) }
        for item in 0..<5 {
            for (other, similarity) in model.neighbours[item] {
                let a = users(Int32(item)), b = users(other)
                let cosine = Float(a.intersection(b).count) / (Float(a.count) * Float(b.count)).squareRoot()
                #expect(abs(similarity - cosine) < 1e-6)
            }
            let expected = (0..<5).filter { $0 != item && !users(Int32(item)).isDisjoint(with: users(Int32($0))) }.count
            #expect(model.neighbours[item].count == expected)
        }
    }

    @Test func ranksTheMissingSquareOfTheCheckerboardFirst() async {
        var model = ItemKNNModel()
        await model.fit(sequences: checkerboard(40), itemCount: 40)
        for (user, history) in checkerboard(40).enumerated() {
            #expect(model.recommend(history: history, count: 1, itemCount: 40).first?.item == Int32(user))
        }
    }
}

struct BPRModelTests {
    func model(epochs: Int = 100) -> BPRModel {
        var configuration = BPRModel.Configuration()
        configuration.factors = 8
        configuration.epochs = epochs
        return BPRModel(configuration: configuration)
    }

    @Test func ranksTheMissingSquareOfTheCheckerboardFirstForFittedAndFoldedInUsers() async {
        var bpr = model()
        let board = checkerboard(30)
        await bpr.fit(sequences: board, itemCount: 30)
        for (user, history) in board.enumerated() {
            #expect(bpr.recommend(history: history, count: 1, itemCount: 30).first?.item == Int32(user), "fitted user \(user)")
        }
        // A new user with a few even items folds in and ranks the other even items first.
        let top = bpr.recommend(history: [0, 2, 4, 6], count: 10, itemCount: 30).map(\.item)
        #expect(top.allSatisfy { $0 % 2 == 0 }, "\(top)")
    }

    @Test func theSameSeedGivesTheSameModel() async {
        var a = model(epochs: 5)
        var b = model(epochs: 5)
        await a.fit(sequences: checkerboard(20), itemCount: 20)
        await b.fit(sequences: checkerboard(20), itemCount: 20)
        #expect(a.itemFactors == b.itemFactors && a.itemBias == b.itemBias)
    }

    @Test func negativeSamplingNeverReturnsAnObservedItem() {
        var random = SplitMix64(seed: 1)
        let observed: [Int32] = [0, 2, 3, 7, 9]
        for _ in 0..<500 {
            if let negative = BPRModel.sampleNegative(excluding: observed, itemCount: 10, &random) { #expect(!observed.contains(negative)) }
        }
        #expect(BPRModel.sampleNegative(excluding: Array(0..<10), itemCount: 10, &random) == nil)
    }
}

struct EASEModelTests {
    /// A random SPD matrix: RᵀR + I.
    static func spd(_ n: Int, seed: UInt64) -> Matrix {
        let random = Matrix(rows: n, columns: n, randomScale: 2, seed: seed)
        var spd = Matrix(rows: n, columns: n)
        for r in 0..<n { for c in 0..<n { spd[r, c] = (0..<n).reduce(Float(0)) { $0 + random[$1, r] * random[$1, c] } + (r == c ? 1 : 0) } }
        return spd
    }

    @Test func inversionGivesTheIdentityBack() async {
        // Sizes below, at and across the elimination block, with partial blocks and kernel tails.
        for (n, threads) in [(13, 1), (13, 2), (13, 5), (64, 2), (150, 1), (150, 3), (203, 2)] {
            let spd = Self.spd(n, seed: UInt64(n))
            var inverse = spd
            await SymmetricInverse.invert(&inverse, threads: threads)
            var worst: Float = 0
            for r in 0..<n {
                for c in 0..<n {
                    let product = (0..<n).reduce(Float(0)) { $0 + spd[r, $1] * inverse[$1, c] }
                    worst = max(worst, abs(product - (r == c ? 1 : 0)))
                }
            }
            #expect(worst < 2e-3, "n \(n), threads \(threads): worst error \(worst)")
        }
    }

    @Test func theInverseDoesNotDependOnThreads() async {
        let spd = Self.spd(150, seed: 3)
        var one = spd
        var three = spd
        await SymmetricInverse.invert(&one, threads: 1)
        await SymmetricInverse.invert(&three, threads: 3)
        #expect(one == three)
    }

    @Test func hasAZeroDiagonalAndRanksTheMissingSquareFirst() async {
        var configuration = EASEModel.Configuration()
        configuration.regularization = 1
        var model = EASEModel(configuration: configuration)
        await model.fit(sequences: checkerboard(30), itemCount: 30)
        for i in 0..<30 { #expect(model.weights[i, i] == 0) }
        for (user, history) in checkerboard(30).enumerated() {
            #expect(model.recommend(history: history, count: 1, itemCount: 30).first?.item == Int32(user))
        }
    }

    /// DLAE with user weighting against its formula computed naively in Double: G = XᵀWX,
    /// Λ = λ' + p/(1−p)·diag(G) with λ' = λ · (weighted / unweighted mean diagonal), B = (G + Λ)⁻¹G.
    @Test func theDenoisingFormMatchesItsNaiveFormula() async {
        let histories: [[Int32]] = [[0, 1, 2], [0, 1], [1, 3], [2, 3, 0], [4, 1], [0, 1, 2, 3, 4]]
        let n = 5
        let (lambda, p, gamma) = (Float(2), Float(0.25), Float(0.5))
        var model = EASEModel(configuration: .init(regularization: lambda, dropout: p, userWeighting: gamma))
        await model.fit(sequences: histories, itemCount: n)
        var g = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        var plain = 0.0
        for h in histories {
            let w = power(Double(h.count), -Double(gamma))
            plain += Double(h.count)
            for a in h { for b in h { g[Int(a)][Int(b)] += w } }
        }
        let weighted = (0..<n).reduce(0.0) { $0 + g[$1][$1] }
        let penalty = (0..<n).map { Double(lambda) * weighted / plain + Double(p / (1 - p)) * g[$0][$0] }
        var a = g
        for i in 0..<n { a[i][i] += penalty[i] }
        // Solve A · B = G column by column.
        for column in 0..<n {
            let x = naiveSolve(a, (0..<n).map { g[$0][column] })
            for row in 0..<n where row != column { #expect(abs(Double(model.weights[row, column]) - x[row]) < 1e-4, "B[\(row), \(column)]") }
        }
    }

    @Test func aCatalogueBeyondTheLimitModelsItsMostSupportedItems() async {
        var configuration = EASEModel.Configuration()
        configuration.maximumItems = 3
        configuration.regularization = 1
        var model = EASEModel(configuration: configuration)
        #expect(!model.fits(itemCount: 6))
        // Items 1, 2 and 4 have the most users; 0, 3 and 5 are left out.
        let histories: [[Int32]] = [[1, 2, 4], [1, 2, 4, 0], [1, 2, 4, 3], [1, 5]]
        await model.fit(sequences: histories, itemCount: 6)
        #expect(model.modelled == [1, 2, 4])
        var scores = [Float](repeating: 1, count: 6)
        model.score(history: [1, 2, 0], into: &scores)
        for item in [0, 3, 5] { #expect(scores[item] == 0) }
        #expect(scores[4] > 0)
    }
}
