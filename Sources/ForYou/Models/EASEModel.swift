// SPDX-License-Identifier: Apache-2.0
//
// EASE, the embarrassingly shallow autoencoder (Steck, "Embarrassingly Shallow Autoencoders for Sparse
// Data", WWW 2019), and its denoising form DLAE (Steck, "Autoencoders that don't overfit towards the
// Identity", NeurIPS 2020): an item-item weight matrix B in closed form from the Gram matrix G = XᵀWX.
//   EASE: P = (G + λI)⁻¹, B_ij = −P_ij / P_jj (i ≠ j), B_jj = 0.
//   DLAE: dropout p of the input items is, in expectation, the penalty Λ = λI + p/(1−p)·diag(G), and
//         B = (G + Λ)⁻¹G = I − PΛ with P = (G + Λ)⁻¹, so B_ij = −P_ij · Λ_jj (i ≠ j).
// (A history never scores its own items, so B's diagonal is never read: both set it to 0.)
// W weighs each user by |I_u|^−γ (`userWeighting` γ), so that the few users with the longest histories
// do not dominate G; λ is scaled by the ratio of the weighted to the unweighted mean diagonal, so one λ
// means the same for any γ. A history scores items by the sum of the rows of B of its items.
//
// Catalogues of any size: only the `maximumItems` items with the most users are modelled (a dense
// N × N matrix and an O(N³) inversion, see SymmetricInverse.swift); other items score 0 and add nothing
// to a history's scores. The default blend ranks them through its other models.

/// The closed-form linear autoencoder, with optional dropout (DLAE) and user weighting.
public struct EASEModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// L2 regularization λ. Default: 500.
        public var regularization: Float = 500
        /// DLAE's dropout probability p of input items, in 0..<1; 0 is EASE. Default: 0.
        public var dropout: Float = 0
        /// Users weigh |I_u|^−γ in the Gram matrix; 0 weighs every user alike. Default: 0.
        public var userWeighting: Float = 0
        /// The most items modelled (the ones with the most users): dense N × N floats, O(N³) time. Default: 4,000.
        public var maximumItems = 4_000
        /// Tasks the inversion's row updates are split over. Default: 2.
        public var threads = 2
        public init() {}
        public init(regularization: Float, dropout: Float = 0, userWeighting: Float = 0) {
            self.regularization = regularization
            self.dropout = dropout
            self.userWeighting = userWeighting
        }
    }

    public let configuration: Configuration
    /// B over the modelled items.
    var matrix = DenseItemWeights()
    /// B, row-major over the modelled items.
    var weights: Matrix { matrix.weights }
    /// The catalogue index of each modelled item, ascending.
    var modelled: [Int32] { matrix.modelled }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String {
        let c = configuration
        if c.dropout == 0 && c.userWeighting == 0 { return "EASE(λ \(Int(c.regularization)))" }
        return "DLAE(λ \(Int(c.regularization)), dropout \(c.dropout.formatted2), user weight \(c.userWeighting.formatted2))"
    }

    /// Whether every item of a catalogue of `itemCount` items is modelled.
    public func fits(itemCount: Int) -> Bool { itemCount <= configuration.maximumItems }

    /// - Complexity: O(Σ_u |I_u|² + N³) for N = min(items, `maximumItems`).
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        let c = configuration
        let userItems = sequences.map { Array(Set($0)).sorted() }
        matrix = DenseItemWeights(userItems: userItems, itemCount: itemCount, limit: c.maximumItems)
        let n = matrix.count
        guard n > 0 else { return }
        var gram = Matrix(rows: n, columns: n)
        var plainDiagonal = 0.0
        var columns: [Int] = []
        let position = matrix.position
        gram.storage.withUnsafeMutableBufferPointer { g in
            for items in userItems {
                columns.removeAll(keepingCapacity: true)
                for item in items where position[Int(item)] >= 0 { columns.append(Int(position[Int(item)])) }
                guard !columns.isEmpty else { continue }
                let weight = c.userWeighting == 0 ? 1 : Float(power(Double(items.count), -Double(c.userWeighting)))
                plainDiagonal += Double(columns.count)
                for a in columns {
                    let row = g.baseAddress! + a * n
                    for b in columns { row[b] += weight }
                }
            }
        }
        let diagonal = (0..<n).map { gram[$0, $0] }
        let weightedDiagonal = diagonal.reduce(0.0) { $0 + Double($1) }
        let lambda = c.regularization * (plainDiagonal > 0 ? Float(weightedDiagonal / plainDiagonal) : 1)
        let dropoutScale = c.dropout / (1 - c.dropout)
        let penalty = diagonal.map { lambda + dropoutScale * $0 }
        for i in 0..<n { gram[i, i] += penalty[i] }
        await SymmetricInverse.invert(&gram, threads: c.threads)
        // B_ij = −P_ij · d_j with d_j = 1 / P_jj (EASE) or Λ_jj (DLAE); the diagonal is 0.
        let scale = (0..<n).map { c.dropout == 0 ? 1 / gram[$0, $0] : penalty[$0] }
        gram.storage.withUnsafeMutableBufferPointer { p in
            for row in 0..<n {
                let r = p.baseAddress! + row * n
                for column in 0..<n { r[column] = -r[column] * scale[column] }
                r[row] = 0
            }
        }
        matrix.weights = gram
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        var seen = Set<Int32>()
        matrix.score(history.filter { seen.insert($0).inserted }.map { ($0, 1) }, into: &scores)
    }

    /// Scores with each history item weighted (for example by recency, as the default blend does).
    func score(weighted items: [(item: Int32, weight: Float)], into scores: inout [Float]) {
        matrix.score(items, into: &scores)
    }
}
