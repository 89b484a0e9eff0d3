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
    @Test func inversionGivesTheIdentityBack() async {
        let n = 13
        let random = Matrix(rows: n, columns: n, randomScale: 2, seed: 6)
        var spd = Matrix(rows: n, columns: n)
        for r in 0..<n { for c in 0..<n { spd[r, c] = (0..<n).reduce(Float(0)) { $0 + random[$1, r] * random[$1, c] } + (r == c ? 1 : 0) } }
        for threads in [1, 2, 5] {
            let inverse = await EASEModel.invert(spd, threads: threads)
            for r in 0..<n {
                for c in 0..<n {
                    let product = (0..<n).reduce(Float(0)) { $0 + spd[r, $1] * inverse[$1, c] }
                    #expect(abs(product - (r == c ? 1 : 0)) < 1e-3)
                }
            }
        }
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

    @Test func aCatalogueTooLargeIsNotFitted() async {
        var configuration = EASEModel.Configuration()
        configuration.maximumItems = 10
        var model = EASEModel(configuration: configuration)
        #expect(!model.fits(itemCount: 11))
        await model.fit(sequences: [[1, 2]], itemCount: 11)
        var scores = [Float](repeating: 1, count: 11)
        model.score(history: [1], into: &scores)
        #expect(scores.allSatisfy { $0 == 0 })
    }
}
