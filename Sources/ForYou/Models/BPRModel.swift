// SPDX-License-Identifier: Apache-2.0
//
// Bayesian Personalized Ranking (Rendle et al., UAI 2009): matrix factorization fitted by stochastic
// gradient ascent on ln σ(x_ui − x_uj) for a sampled observed item i and unobserved item j, with an
// item bias, as the `implicit` library does. Each epoch draws as many (u, i, j) triples as there are
// observed pairs, from one seeded generator, on one thread: parallel "Hogwild" updates would make the
// result depend on thread timing, and a model that changes from run to run cannot be tested or audited.
// Fitted users keep their vectors (looked up by their exact item set); any other history is folded in
// with `foldInEpochs` passes of the same updates against fixed item factors.

/// Matrix factorization with a pairwise ranking loss.
public struct BPRModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// Latent dimensions. Default: 64.
        public var factors = 64
        /// SGD step. Default: 0.05.
        public var learningRate: Float = 0.05
        /// L2 regularization. Default: 0.01.
        public var regularization: Float = 0.01
        /// Passes over the observed pairs. Default: 50.
        public var epochs = 50
        /// Passes over a new history when folding it in. Default: 30.
        public var foldInEpochs = 30
        /// Seed of the initial factors and the sampling. Default: 42.
        public var seed: UInt64 = 42
        public init() {}
    }

    public let configuration: Configuration
    private(set) var itemFactors = Matrix(rows: 0, columns: 0)
    private(set) var itemBias: [Float] = []
    private(set) var userFactors = Matrix(rows: 0, columns: 0)
    private(set) var userRow: [[Int32]: Int] = [:]

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String {
        "BPR(\(configuration.factors) factors, lr \(configuration.learningRate), λ \(configuration.regularization), \(configuration.epochs) epochs)"
    }

    /// - Complexity: O(epochs · nnz · k).
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        let k = configuration.factors
        let itemSets = sequences.map { Array(Set($0)).sorted() }
        var users = Matrix(rows: sequences.count, columns: k, randomScale: 1 / Float(k), seed: configuration.seed)
        var items = Matrix(rows: itemCount, columns: k, randomScale: 1 / Float(k), seed: configuration.seed &+ 1)
        var bias = [Float](repeating: 0, count: itemCount)
        var pairs: [(user: Int32, item: Int32)] = []
        for (user, set) in itemSets.enumerated() { for item in set { pairs.append((Int32(user), item)) } }
        var random = SplitMix64(seed: configuration.seed &+ 2)
        userRow = Dictionary(itemSets.enumerated().map { ($1, $0) }, uniquingKeysWith: { first, _ in first })
        guard !pairs.isEmpty, itemCount > 1 else {
            (userFactors, itemFactors, itemBias) = (users, items, bias)
            return
        }
        for _ in 0..<configuration.epochs {
            for _ in 0..<pairs.count {
                let (user, positive) = pairs[Int(random.next() % UInt64(pairs.count))]
                guard let negative = Self.sampleNegative(excluding: itemSets[Int(user)], itemCount: itemCount, &random) else { continue }
                users.storage.withUnsafeMutableBufferPointer { u in
                    items.storage.withUnsafeMutableBufferPointer { v in
                        bias.withUnsafeMutableBufferPointer { b in
                            Self.step(
                                user: u.baseAddress! + Int(user) * k, items: v.baseAddress!, bias: b.baseAddress!, positive: Int(positive),
                                negative: Int(negative), k: k, learningRate: configuration.learningRate,
                                regularization: configuration.regularization, updateItems: true)
                        }
                    }
                }
            }
        }
        userFactors = users
        itemFactors = items
        itemBias = bias
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        precondition(scores.count == itemFactors.rows, "scores must hold one value per item")
        let k = configuration.factors
        let key = Array(Set(history)).sorted()
        var user = [Float](repeating: 0, count: k)
        if let row = userRow[key] {
            for d in 0..<k { user[d] = userFactors[row, d] }
        } else if !key.isEmpty && itemFactors.rows > 1 {
            // Fold in: the same updates, items fixed, from a generator seeded by the history.
            var random = SplitMix64(seed: configuration.seed ^ stableHash(key.map(String.init).joined(separator: ",")))
            var items = itemFactors
            var bias = itemBias
            for _ in 0..<configuration.foldInEpochs {
                for positive in key {
                    guard let negative = Self.sampleNegative(excluding: key, itemCount: itemFactors.rows, &random) else { continue }
                    user.withUnsafeMutableBufferPointer { u in
                        items.storage.withUnsafeMutableBufferPointer { v in
                            bias.withUnsafeMutableBufferPointer { b in
                                Self.step(
                                    user: u.baseAddress!, items: v.baseAddress!, bias: b.baseAddress!, positive: Int(positive),
                                    negative: Int(negative), k: k, learningRate: configuration.learningRate,
                                    regularization: configuration.regularization, updateItems: false)
                            }
                        }
                    }
                }
            }
        }
        itemFactors.storage.withUnsafeBufferPointer { v in
            user.withUnsafeBufferPointer { u in
                for item in 0..<itemFactors.rows { scores[item] = Kernels.dot(v.baseAddress! + item * k, u.baseAddress!, k) + itemBias[item] }
            }
        }
    }

    /// An item not in the sorted `excluding`, uniformly; `nil` after 20 misses (a user who has nearly everything).
    static func sampleNegative(excluding sorted: [Int32], itemCount: Int, _ random: inout SplitMix64) -> Int32? {
        for _ in 0..<20 {
            let candidate = Int32(random.next() % UInt64(itemCount))
            let position = sorted.partitionPoint { $0 >= candidate }
            if position == sorted.count || sorted[position] != candidate { return candidate }
        }
        return nil
    }

    /// One stochastic step on ln σ(x_ui − x_uj).
    @inline(__always)
    static func step(
        user: UnsafeMutablePointer<Float>, items: UnsafeMutablePointer<Float>, bias: UnsafeMutablePointer<Float>, positive i: Int,
        negative j: Int, k: Int, learningRate: Float, regularization: Float, updateItems: Bool
    ) {
        let positive = items + i * k
        let negative = items + j * k
        let x = Kernels.dot(user, positive, k) - Kernels.dot(user, negative, k) + bias[i] - bias[j]
        let z = 1 / (1 + Float(exponential(Double(x))))  // σ(−x): the gradient's weight
        for d in 0..<k {
            let u = user[d], p = positive[d], n = negative[d]
            user[d] += learningRate * (z * (p - n) - regularization * u)
            if updateItems {
                positive[d] += learningRate * (z * u - regularization * p)
                negative[d] += learningRate * (-z * u - regularization * n)
            }
        }
        if updateItems {
            bias[i] += learningRate * (z - regularization * bias[i])
            bias[j] += learningRate * (-z - regularization * bias[j])
        }
    }
}
