// SPDX-License-Identifier: Apache-2.0
//
// Weighted matrix factorization for implicit feedback (Hu, Koren & Volinsky, "Collaborative Filtering
// for Implicit Feedback Datasets", ICDM 2008), solved by alternating least squares with a few
// conjugate-gradient steps per row (Takács, Pilászy & Tikk, RecSys 2011), as the `implicit` library does.
//
// Every observed (user, item) pair has preference 1 and confidence 1 + `confidence`; unobserved pairs
// preference 0 and confidence 1. One half-step solves, for each user u, (YᵀY + λI + Σ_i (c−1) y_i y_iᵀ) x_u
// = Σ_i c y_i, warm-started from the current x_u; the other half does the same for items. Rows are
// independent, so they are split over `threads` tasks, each returning its rows: the result is the same
// for any number of threads. Scoring a history folds a fresh user vector in against the item factors
// (the same solve, from zero, `foldInSteps` CG steps), so a user needs no stored vector.

/// Matrix factorization for implicit feedback, by ALS with conjugate gradients.
public struct ALSModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// Latent dimensions. Default: 64.
        public var factors = 64
        /// L2 regularization λ. Default: 0.01.
        public var regularization: Float = 0.01
        /// Extra confidence of an observed pair (α; confidence is 1 + α). Default: 5.
        public var confidence: Float = 5
        /// Alternating sweeps. Default: 15.
        public var iterations = 15
        /// Conjugate-gradient steps per row and sweep. Default: 3.
        public var conjugateGradientSteps = 3
        /// Conjugate-gradient steps when folding in a history at scoring time. Default: 20.
        public var foldInSteps = 20
        /// Seed of the initial factors. Default: 42.
        public var seed: UInt64 = 42
        /// Tasks the rows are split over. Default: 2.
        public var threads = 2
        public init() {}
    }

    public let configuration: Configuration
    /// Item factors, one row per item.
    public internal(set) var itemFactors = Matrix(rows: 0, columns: 0)
    /// YᵀY + λI of the item factors, for folding in.
    var gramian = Matrix(rows: 0, columns: 0)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String {
        "ALS(\(configuration.factors) factors, λ \(configuration.regularization), α \(configuration.confidence), \(configuration.iterations) sweeps)"
    }

    /// - Complexity: O(iterations · (nnz · k · steps + (users + items) · k² · steps)).
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        let k = configuration.factors
        let userItems = sequences.map { Array(Set($0)).sorted() }
        var itemUsers = [[Int32]](repeating: [], count: itemCount)
        for (user, items) in userItems.enumerated() { for item in items { itemUsers[Int(item)].append(Int32(user)) } }
        var users = Matrix(rows: sequences.count, columns: k, randomScale: 0.02, seed: configuration.seed)
        var items = Matrix(rows: itemCount, columns: k, randomScale: 0.02, seed: configuration.seed &+ 1)
        for _ in 0..<configuration.iterations {
            users = await Self.solve(users, fixed: items, rows: userItems, configuration)
            items = await Self.solve(items, fixed: users, rows: itemUsers, configuration)
        }
        itemFactors = items
        gramian = Self.gramian(items, regularization: configuration.regularization)
    }

    /// The inner product of a user vector with every item's factors. - Complexity: O(N · k).
    func scores(userVector x: [Float]) -> [Float] {
        let k = configuration.factors
        return itemFactors.storage.withUnsafeBufferPointer { factors in
            x.withUnsafeBufferPointer { user in
                (0..<itemFactors.rows).map { Kernels.dot(factors.baseAddress! + $0 * k, user.baseAddress!, k) }
            }
        }
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        precondition(scores.count == itemFactors.rows, "scores must hold one value per item")
        let k = configuration.factors
        let x = userVector(history: history)
        itemFactors.storage.withUnsafeBufferPointer { factors in
            x.withUnsafeBufferPointer { user in
                for item in 0..<itemFactors.rows { scores[item] = Kernels.dot(factors.baseAddress! + item * k, user.baseAddress!, k) }
            }
        }
    }

    /// A user's vector folded in from their history against the item factors: the user half-step for
    /// one row, from zero, `foldInSteps` conjugate-gradient steps. - Complexity: O(steps · (k² + h · k)).
    public func userVector(history: [Int32]) -> [Float] {
        precondition(history.allSatisfy { $0 >= 0 && Int($0) < itemFactors.rows }, "history items must be catalogued")
        var x = [Float](repeating: 0, count: configuration.factors)
        Self.conjugateGradient(
            &x, observed: Array(Set(history)).sorted(), fixed: itemFactors, gramian: gramian, confidence: configuration.confidence,
            steps: configuration.foldInSteps)
        return x
    }

    /// An item's vector folded in from the vectors of the users who engaged with it: the item half-step
    /// for one row, from zero, `foldInSteps` conjugate-gradient steps, solving
    /// (XᵀX + λI + Σ_u (c−1) x_u x_uᵀ) y = Σ_u c x_u. What training computes for an item, given its users.
    /// - Parameter userGramian: XᵀX + λI over all users (see ``userGramian(sample:population:)``).
    /// - Complexity: O(steps · (k² + n · k)) for n engagers.
    public func itemVector(engagers: [[Float]], userGramian: Matrix) -> [Float] {
        let k = configuration.factors
        precondition(engagers.allSatisfy { $0.count == k }, "engager vectors must have the model's factors")
        var users = Matrix(rows: engagers.count, columns: k)
        for (row, vector) in engagers.enumerated() { users.storage.replaceSubrange((row * k)..<(row * k + k), with: vector) }
        var y = [Float](repeating: 0, count: k)
        Self.conjugateGradient(
            &y, observed: (0..<Int32(engagers.count)).map { $0 }, fixed: users, gramian: userGramian,
            confidence: configuration.confidence, steps: configuration.foldInSteps)
        return y
    }

    /// XᵀX + λI over `population` users, estimated from a sample of their vectors: the sample's
    /// Σ x xᵀ scaled by population / sample size. The model keeps item-side weights only, so this is how
    /// a deployment recovers the user side's gramian from its own users. - Complexity: O(n · k²).
    public func userGramian(sample: [[Float]], population: Int) -> Matrix {
        let k = configuration.factors
        var g = Matrix(rows: k, columns: k)
        let scale = sample.isEmpty ? 0 : Float(max(population, sample.count)) / Float(sample.count)
        for x in sample {
            precondition(x.count == k, "sample vectors must have the model's factors")
            for a in 0..<k where x[a] != 0 {
                let xa = scale * x[a]
                for b in 0..<k { g.storage[a * k + b] += xa * x[b] }
            }
        }
        for a in 0..<k { g.storage[a * k + a] += configuration.regularization }
        return g
    }

    // MARK: - Solver

    /// YᵀY + λI.
    static func gramian(_ y: Matrix, regularization: Float) -> Matrix {
        let k = y.columns
        var g = Matrix(rows: k, columns: k)
        y.storage.withUnsafeBufferPointer { rows in
            var column = [Float](repeating: 0, count: y.rows)
            for a in 0..<k {
                for r in 0..<y.rows { column[r] = rows[r * k + a] }
                for b in a..<k {
                    var sum: Float = 0
                    for r in 0..<y.rows { sum += column[r] * rows[r * k + b] }
                    g[a, b] = sum
                    g[b, a] = sum
                }
                g[a, a] += regularization
            }
        }
        return g
    }

    /// One half-step: every row of `target` solved against `fixed`, rows split over tasks.
    static func solve(_ target: Matrix, fixed: Matrix, rows: [[Int32]], _ configuration: Configuration) async -> Matrix {
        let g = gramian(fixed, regularization: configuration.regularization)
        let k = target.columns
        let chunk = max(1, (target.rows + configuration.threads - 1) / max(1, configuration.threads))
        return await withTaskGroup(of: (Int, [Float]).self) { group in
            for start in stride(from: 0, to: target.rows, by: chunk) {
                group.addTask {
                    let end = min(start + chunk, target.rows)
                    var part = Array(target.storage[(start * k)..<(end * k)])
                    var x = [Float](repeating: 0, count: k)
                    for row in start..<end {
                        for d in 0..<k { x[d] = part[(row - start) * k + d] }
                        conjugateGradient(
                            &x, observed: rows[row], fixed: fixed, gramian: g, confidence: configuration.confidence,
                            steps: configuration.conjugateGradientSteps)
                        for d in 0..<k { part[(row - start) * k + d] = x[d] }
                    }
                    return (start, part)
                }
            }
            var result = target
            for await (start, part) in group { result.storage.replaceSubrange((start * k)..<(start * k + part.count), with: part) }
            return result
        }
    }

    /// Improves `x` toward the solution of (G + Σ_i (c−1) y_i y_iᵀ) x = Σ_i c y_i, where G = YᵀY + λI,
    /// c = 1 + `confidence` and i runs over `observed`, by `steps` conjugate-gradient steps.
    static func conjugateGradient(
        _ x: inout [Float], observed: [Int32], fixed y: Matrix, gramian g: Matrix, confidence: Float, steps: Int
    ) {
        let k = x.count
        precondition(y.columns == k && g.rows == k && g.columns == k, "factor and gramian shapes must match")
        let c = 1 + confidence
        y.storage.withUnsafeBufferPointer { factors in
            g.storage.withUnsafeBufferPointer { gram in
                let Y = factors.baseAddress!
                let G = gram.baseAddress!
                var r = [Float](repeating: 0, count: k)
                var p = [Float](repeating: 0, count: k)
                var ap = [Float](repeating: 0, count: k)
                x.withUnsafeMutableBufferPointer { xb in
                    r.withUnsafeMutableBufferPointer { rb in
                        p.withUnsafeMutableBufferPointer { pb in
                            ap.withUnsafeMutableBufferPointer { apb in
                                let X = xb.baseAddress!, R = rb.baseAddress!, P = pb.baseAddress!, AP = apb.baseAddress!
                                // r = b − A x
                                for a in 0..<k { R[a] = -Kernels.dot(G + a * k, X, k) }
                                for item in observed {
                                    let yi = Y + Int(item) * k
                                    Kernels.axpy(c - (c - 1) * Kernels.dot(yi, X, k), yi, R, k)
                                }
                                for a in 0..<k { P[a] = R[a] }
                                var rsOld = Kernels.dot(R, R, k)
                                for _ in 0..<steps {
                                    if rsOld < 1e-20 { break }
                                    for a in 0..<k { AP[a] = Kernels.dot(G + a * k, P, k) }
                                    for item in observed {
                                        let yi = Y + Int(item) * k
                                        Kernels.axpy((c - 1) * Kernels.dot(yi, P, k), yi, AP, k)
                                    }
                                    let alpha = rsOld / Kernels.dot(P, AP, k)
                                    Kernels.axpy(alpha, P, X, k)
                                    Kernels.axpy(-alpha, AP, R, k)
                                    let rsNew = Kernels.dot(R, R, k)
                                    let beta = rsNew / rsOld
                                    for a in 0..<k { P[a] = R[a] + beta * P[a] }
                                    rsOld = rsNew
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}
