// SPDX-License-Identifier: Apache-2.0
//
// SLIT, the session-aware linear item transition model of SLIST (Choi, Kim, Lee, Shim & Lee,
// "Session-aware Linear Item-Item Models for Session-based Recommendation", WWW 2021): a ridge
// regression from what a user did just before to what they did next, in closed form.
//
// Every position p ≥ 1 of every history is one example: its source is the position-weighted window of
// the `historyLength` items before it, s_p = Σ_{q<p, p−q ≤ L} decay^(p−1−q) · e(h_q), its target e(h_p).
// With S and T those rows, B = argmin ‖T − SB‖² + λ‖B‖² = (SᵀS + λI)⁻¹ SᵀT. A history scores items by
// s·B with s its latest window, weighted the same way. Unlike transition counts, the regression weighs
// each earlier item against the others (an item that always co-occurs with a stronger predictor gets
// little weight), which counts cannot.
//
// SᵀS and SᵀT are accumulated densely over the `maximumItems` most supported items (DenseItemWeights);
// P = (SᵀS + λI)⁻¹ by SymmetricInverse; then Bᵀ's row j = Σ_k (SᵀT)_kj · P_k (P is symmetric), an axpy
// per non-zero of SᵀT, so the product costs N · nnz rather than N³.

/// The closed-form sequence ridge model (SLIT).
public struct SLITModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// How many earlier items form a position's source. Default: 10.
        public var historyLength = 10
        /// Weight of the k-th earlier item: decay^(k−1). Default: 0.7.
        public var decay: Float = 0.7
        /// L2 regularization λ. Default: 200.
        public var regularization: Float = 200
        /// The most items modelled (the ones with the most users). Default: 4,000.
        public var maximumItems = 4_000
        /// Tasks the solve is split over. Default: 2.
        public var threads = 2
        public init() {}
    }

    public let configuration: Configuration
    var matrix = DenseItemWeights()
    /// B, row-major over the modelled items: row i is what item i in the window adds to each next item.
    var weights: Matrix { matrix.weights }

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String {
        "SLIT(last \(configuration.historyLength), decay \(configuration.decay.formatted2), λ \(Int(configuration.regularization)))"
    }

    /// - Complexity: O(P · L² + N³ + N · nnz) for P positions, window L, N modelled items.
    public mutating func fit(sequences: [[Int32]], itemCount: Int) async {
        let c = configuration
        matrix = DenseItemWeights(userItems: sequences.map { Array(Set($0)).sorted() }, itemCount: itemCount, limit: c.maximumItems)
        let n = matrix.count
        guard n > 0 else { return }
        let position = matrix.position
        var gram = Matrix(rows: n, columns: n)
        // (SᵀT)ᵀ: row j = Σ over positions whose target is j of their source weights.
        var crossTransposed = Matrix(rows: n, columns: n)
        var window: [(index: Int, weight: Float)] = []
        gram.storage.withUnsafeMutableBufferPointer { g in
            crossTransposed.storage.withUnsafeMutableBufferPointer { m in
                for sequence in sequences where sequence.count > 1 {
                    for p in 1..<sequence.count {
                        window.removeAll(keepingCapacity: true)
                        var weight: Float = 1
                        for q in stride(from: p - 1, through: max(0, p - c.historyLength), by: -1) {
                            let index = position[Int(sequence[q])]
                            if index >= 0 { window.append((Int(index), weight)) }
                            weight *= c.decay
                        }
                        guard !window.isEmpty else { continue }
                        for (a, wa) in window {
                            let row = g.baseAddress! + a * n
                            for (b, wb) in window { row[b] += wa * wb }
                        }
                        let target = position[Int(sequence[p])]
                        guard target >= 0 else { continue }
                        let row = m.baseAddress! + Int(target) * n
                        for (a, wa) in window { row[a] += wa }
                    }
                }
            }
        }
        for i in 0..<n { gram[i, i] += c.regularization }
        await SymmetricInverse.invert(&gram, threads: c.threads)
        // Bᵀ_j = Σ_k (SᵀT)_kj · P_k, rows split over tasks.
        let inverse = gram
        let cross = crossTransposed
        let chunk = max(1, (n + c.threads - 1) / max(1, c.threads))
        let parts = await withTaskGroup(of: (Int, [Float]).self) { group in
            for start in stride(from: 0, to: n, by: chunk) {
                group.addTask {
                    let end = min(start + chunk, n)
                    var part = [Float](repeating: 0, count: (end - start) * n)
                    inverse.storage.withUnsafeBufferPointer { p in
                        cross.storage.withUnsafeBufferPointer { m in
                            part.withUnsafeMutableBufferPointer { out in
                                for j in start..<end {
                                    let target = out.baseAddress! + (j - start) * n
                                    let sources = m.baseAddress! + j * n
                                    for k in 0..<n where sources[k] != 0 { Kernels.axpy(sources[k], p.baseAddress! + k * n, target, n) }
                                }
                            }
                        }
                    }
                    return (start, part)
                }
            }
            var all: [(Int, [Float])] = []
            for await part in group { all.append(part) }
            return all
        }
        var b = Matrix(rows: n, columns: n)
        for (start, part) in parts {
            let rows = part.count / n
            for r in 0..<rows {
                let j = start + r
                for i in 0..<n { b.storage[i * n + j] = part[r * n + i] }
            }
        }
        matrix.weights = b
    }

    /// The latest window of a history with its weights, latest first.
    func window(of history: [Int32]) -> [(item: Int32, weight: Float)] {
        var result: [(item: Int32, weight: Float)] = []
        var weight: Float = 1
        for item in history.suffix(configuration.historyLength).reversed() {
            result.append((item, weight))
            weight *= configuration.decay
        }
        return result
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        matrix.score(window(of: history), into: &scores)
    }
}
