// SPDX-License-Identifier: Apache-2.0
//
// EASE, the embarrassingly shallow autoencoder (Steck, "Embarrassingly Shallow Autoencoders for Sparse
// Data", WWW 2019): an item-item weight matrix B with a zero diagonal, in closed form,
// B = I − P · diagMat(1 / diag(P)) with P = (XᵀX + λI)⁻¹. A history scores items by the sum of the
// rows of B of its items. It needs a dense items × items matrix and an O(N³) inversion, so it is only
// fitted when the catalogue has at most `maximumItems` items ("where the catalogue allows").

/// The closed-form linear autoencoder.
public struct EASEModel: SequentialModel {
    public struct Configuration: Sendable, Hashable {
        /// L2 regularization λ. Default: 500.
        public var regularization: Float = 500
        /// The largest catalogue it fits (dense N × N floats, O(N³) time). Default: 3,000.
        public var maximumItems = 3_000
        /// Tasks the inversion's row updates are split over. Default: 2.
        public var threads = 2
        public init() {}
    }

    public let configuration: Configuration
    /// B, row-major; empty when the catalogue was too large to fit.
    private(set) var weights = Matrix(rows: 0, columns: 0)

    public init(configuration: Configuration = Configuration()) {
        self.configuration = configuration
    }

    public var name: String { "EASE(λ \(Int(configuration.regularization)))" }

    /// Whether a catalogue of `itemCount` items is small enough to fit.
    public func fits(itemCount: Int) -> Bool { itemCount <= configuration.maximumItems }

    /// - Complexity: O(Σ_u |I_u|² + N³).
    public mutating func fit(sequences: [[Int32]], itemCount n: Int) async {
        guard fits(itemCount: n), n > 0 else {
            weights = Matrix(rows: 0, columns: 0)
            return
        }
        var gram = Matrix(rows: n, columns: n)
        for sequence in sequences {
            let items = Array(Set(sequence))
            for a in items { for b in items { gram[Int(a), Int(b)] += 1 } }
        }
        for i in 0..<n { gram[i, i] += configuration.regularization }
        var p = await Self.invert(gram, threads: configuration.threads)
        for column in 0..<n {
            let diagonal = p[column, column]
            for row in 0..<n { p[row, column] = row == column ? 0 : -p[row, column] / diagonal }
        }
        weights = p
    }

    public func score(history: [Int32], into scores: inout [Float]) {
        for index in scores.indices { scores[index] = 0 }
        guard weights.rows > 0 else { return }
        let n = weights.columns
        precondition(scores.count == n && history.allSatisfy { $0 >= 0 && Int($0) < n }, "scores and history must fit the catalogue")
        weights.storage.withUnsafeBufferPointer { b in
            scores.withUnsafeMutableBufferPointer { s in
                for item in Set(history) { Kernels.axpy(1, b.baseAddress! + Int(item) * n, s.baseAddress!, n) }
            }
        }
    }

    /// The inverse of a symmetric positive-definite matrix, by in-place Gauss-Jordan elimination
    /// (no pivoting is needed for SPD matrices). The row updates of each step are split over tasks,
    /// each writing only its own rows, so the result does not depend on `threads`.
    static func invert(_ matrix: Matrix, threads: Int) async -> Matrix {
        let n = matrix.rows
        let storage = UnsafeMutablePointer<Float>.allocate(capacity: n * n)
        defer { storage.deallocate() }
        matrix.storage.withUnsafeBufferPointer { storage.initialize(from: $0.baseAddress!, count: n * n) }
        let pivotRow = UnsafeMutablePointer<Float>.allocate(capacity: n)
        defer { pivotRow.deallocate() }
        let base = SendablePointer(storage)
        let pivotBase = SendablePointer(pivotRow)
        let chunk = max(1, (n + threads - 1) / max(1, threads))
        for k in 0..<n {
            let row = storage + k * n
            let pivot = row[k]
            row[k] = 1
            for column in 0..<n { row[column] /= pivot }
            pivotRow.update(from: row, count: n)
            // Every other row i: row_i −= a[i, k] · row_k, with a[i, k] taken as 0.
            await withTaskGroup(of: Void.self) { group in
                for start in stride(from: 0, to: n, by: chunk) {
                    group.addTask {
                        for i in start..<min(start + chunk, n) where i != k {
                            let rowI = base.pointer + i * n
                            let factor = rowI[k]
                            rowI[k] = 0
                            Kernels.axpy(-factor, pivotBase.pointer, rowI, n)
                        }
                    }
                }
            }
        }
        var result = Matrix(rows: n, columns: n)
        result.storage.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: storage, count: n * n) }
        return result
    }
}

/// Pointers handed to the threads of one inversion step, each thread touching its own rows only.
struct SendablePointer: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<Float>
    init(_ pointer: UnsafeMutablePointer<Float>) { self.pointer = pointer }
}

