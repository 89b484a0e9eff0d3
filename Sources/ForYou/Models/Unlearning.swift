// SPDX-License-Identifier: Apache-2.0
//
// Unlearning: removing erased users' contributions from a trained model instead of retiring it.
// Each part of the default model is handled as its family allows (the erasure applies it before it
// answers; see Recommender+Unlearning.swift):
//
// - Counts (item transitions, direct successors, popularity): what the users' histories added is
//   subtracted. A transition row stores c_j / (T + 1) for counts c_j summing to T, and T (model file
//   format 3); the counts are recovered in Double, the users' counts subtracted and the row normalised
//   again; an entry left with no count (below half the smallest weight one transition adds) is removed.
//   The result equals a fit without the users up to float rounding: within 1e-5 relative or 1e-7
//   absolute (tested). A model from a file of format 1 or 2 has no T: it is recovered from the row's
//   sum S = T / (T + 1), which loses precision as T grows (relative error about 6e-8 · T).
// - Closed-form and graph models of the re-ranking stage (SLIT, DLAE, RP3beta): refitted on the
//   remaining histories, so they equal a fit without the users exactly (the same code on the same
//   input). Their O(N³) solves bound an erasure's cost on catalogues with the stage (N ≤ 4,000).
// - ALS: the factors of the items the users engaged with take one item half-step without them. The
//   half-step is solved twice in closed form, with and without the erased users, from the same
//   estimates of the other engagers' vectors and of XᵀX; the difference is added to the trained
//   factors. So the estimates' errors, which would otherwise dominate one user's influence, largely
//   cancel; the other users' factors are not stored and stay as they were. Approximate: measured
//   against a full refit in BENCHMARKS.md ("Unlearning"), bounded by a test.
// - The stage's linear weights and trees, shared by everyone and keyed by no user, are kept; the next
//   scheduled training refits them (Configuration.trainingIntervalMilliseconds).

/// What unlearning changed in one model.
public struct UnlearningReport: Sendable, Equatable {
    /// Users whose contributions were removed.
    public var users = 0
    /// Their positions (history items) that the model had been trained on.
    public var positions = 0
    /// ALS item rows refitted without them.
    public var refittedItems: [Int32] = []
    /// Parts from which the users' counts were subtracted exactly.
    public var subtracted: [String] = []
    /// Parts refitted on the remaining histories.
    public var refitted: [String] = []
    /// Learned parts kept until the next training (they hold no per-user weight).
    public var kept: [String] = []
    public init() {}
}

extension ItemTransitionModel {
    /// Subtracts what `sequences` added (see the top of the file).
    /// - Complexity: O(T log T + R) for T transitions in the sequences and R stored transitions.
    mutating func unlearn(sequences: [[Int32]]) {
        var removed: [UInt64: Double] = [:]
        for sequence in sequences {
            for item in sequence where Int(item) < popularity.count { popularity[Int(item)] = max(0, popularity[Int(item)] - 1) }
            // The weights the fit added, as it computed them.
            forEachTransition(in: sequence) { removed[$0, default: 0] += Double($1) }
        }
        guard !removed.isEmpty else { return }
        let smallest = configuration.stepDecay > 0 ? power(Double(configuration.stepDecay), Double(max(1, configuration.window) - 1)) : 1
        let zero = 0.5 * min(1, smallest)
        var byRow: [Int: [(column: Int32, amount: Double)]] = [:]
        for (key, amount) in removed { byRow[Int(key >> 32), default: []].append((Int32(truncatingIfNeeded: key & 0xFFFF_FFFF), amount)) }
        let itemCount = rowStart.count - 1
        if rowTotals.count != itemCount { recoverRowTotals() }
        var newStart = [Int](repeating: 0, count: itemCount + 1)
        var newColumns: [Int32] = []
        var newValues: [Float] = []
        newColumns.reserveCapacity(columns.count)
        newValues.reserveCapacity(values.count)
        for row in 0..<itemCount {
            let range = rowStart[row]..<rowStart[row + 1]
            guard let changes = byRow[row], !range.isEmpty else {
                newColumns += columns[range]
                newValues += values[range]
                newStart[row + 1] = newColumns.count
                continue
            }
            // c_j = v_j (T + 1), T as the fit summed it (or, for a model from a file of format 1 or 2,
            // recovered from the row's sum S = T / (T + 1)).
            let scale = Double(rowTotals[row]) + 1
            var counts = values[range].map { Double($0) * scale }
            for (column, amount) in changes {
                // Columns are ascending within a row.
                var low = range.lowerBound, high = range.upperBound
                while low < high {
                    let middle = (low + high) / 2
                    if columns[middle] < column { low = middle + 1 } else { high = middle }
                }
                guard low < range.upperBound, columns[low] == column else { continue }
                counts[low - range.lowerBound] -= amount
            }
            var total = 0.0
            for count in counts where count >= zero { total += count }
            for (offset, index) in range.enumerated() where counts[offset] >= zero {
                newColumns.append(columns[index])
                newValues.append(Float(counts[offset] / (total + 1)))
            }
            rowTotals[row] = Float(total)
            newStart[row + 1] = newColumns.count
        }
        rowStart = newStart
        columns = newColumns
        values = newValues
    }
}

extension ItemTransitionModel {
    /// T = S / (1 − S) per row, from the sum S of its stored values (for a model file of format 1 or 2,
    /// which has no totals). - Complexity: O(stored transitions).
    mutating func recoverRowTotals() {
        rowTotals = (0..<(rowStart.count - 1)).map { row in
            let sum = values[rowStart[row]..<rowStart[row + 1]].reduce(0.0) { $0 + Double($1) }
            return sum < 1 ? Float(sum / (1 - sum)) : 0
        }
    }
}

extension ALSModel {
    /// The remaining users who engaged with an item, as the item half-step sees them.
    struct Engagers: Sendable {
        /// Their vectors (a sample of them, or all).
        var vectors: [[Float]]
        /// How many remaining engagers the sample stands for (≥ `vectors.count`).
        var population: Int
    }

    /// The engagers of `items` among `histories` (each a remaining user's items), folded in against
    /// these factors: at most `limit` per item, each standing for every engager of the item. One pass
    /// over the histories; a user's vector is folded in once, however many of the items they hold.
    func engagers(of items: Set<Int32>, in histories: [[Int32]], limit: Int) -> [Int32: Engagers] {
        var sampled: [Int32: [Int]] = [:]
        var population: [Int32: Int] = [:]
        var vectors: [Int: [Float]] = [:]
        for (index, history) in histories.enumerated() {
            for item in Set(history) where items.contains(item) {
                population[item, default: 0] += 1
                guard sampled[item, default: []].count < limit else { continue }
                sampled[item, default: []].append(index)
                if vectors[index] == nil { vectors[index] = userVector(history: history) }
            }
        }
        var result: [Int32: Engagers] = [:]
        for item in items {
            result[item] = Engagers(vectors: (sampled[item] ?? []).map { vectors[$0]! }, population: population[item] ?? 0)
        }
        return result
    }

    /// Refits the factors of the items the erased users engaged with, without them (see the top of the file).
    /// - Parameters:
    ///   - erased: each erased user's training history (model indices).
    ///   - engagers: for each item in those histories, the remaining users who engaged with it.
    ///   - userGramian: XᵀX + λI over the remaining users (``userGramian(sample:population:)``).
    /// - Returns: the refitted rows, ascending.
    /// - Complexity: O(Σ_i n_i · k² + |items| · k³) for n_i engagers of item i, plus a fold-in per erased user.
    mutating func unlearn(erased: [[Int32]], engagers: [Int32: Engagers], userGramian: Matrix) -> [Int32] {
        let k = configuration.factors
        let c = Double(1 + configuration.confidence)
        let vectors = erased.map { $0.isEmpty ? [Float](repeating: 0, count: k) : userVector(history: $0) }
        var erasedBy: [Int32: [Int]] = [:]
        for (user, history) in erased.enumerated() {
            for item in Set(history) where Int(item) < itemFactors.rows { erasedBy[item, default: []].append(user) }
        }
        let remaining = (0..<(k * k)).map { Double(userGramian.storage[$0]) }
        var withErased = remaining
        for x in vectors { Self.addOuter(&withErased, x, weight: 1, k) }
        var gramianChange = [Double](repeating: 0, count: k * k)
        let rows = erasedBy.keys.sorted()
        for item in rows {
            let others = engagers[item] ?? Engagers(vectors: [], population: 0)
            let scale = others.vectors.isEmpty ? 0 : Double(max(others.population, others.vectors.count)) / Double(others.vectors.count)
            var shared = [Double](repeating: 0, count: k * k)  // the other engagers' Σ (c − 1) x xᵀ, scaled
            var b = [Double](repeating: 0, count: k)
            for x in others.vectors {
                Self.addOuter(&shared, x, weight: scale * (c - 1), k)
                for d in 0..<k { b[d] += scale * c * Double(x[d]) }
            }
            var a = remaining
            for d in 0..<(k * k) { a[d] += shared[d] }
            let without = Self.solve(a, b, k)
            for d in 0..<(k * k) { a[d] = withErased[d] + shared[d] }  // XᵀX with the erased users' share
            for user in erasedBy[item]! {
                Self.addOuter(&a, vectors[user], weight: c - 1, k)
                for d in 0..<k { b[d] += c * Double(vectors[user][d]) }
            }
            let with = Self.solve(a, b, k)
            let old = Array(itemFactors.storage[(Int(item) * k)..<(Int(item) * k + k)])
            let new = (0..<k).map { Float(Double(old[$0]) + without[$0] - with[$0]) }
            itemFactors.storage.replaceSubrange((Int(item) * k)..<(Int(item) * k + k), with: new)
            Self.addOuter(&gramianChange, new, weight: 1, k)
            Self.addOuter(&gramianChange, old, weight: -1, k)
        }
        for d in 0..<(k * k) { gramian.storage[d] = Float(Double(gramian.storage[d]) + gramianChange[d]) }
        return rows
    }

    /// m += weight · x xᵀ (row-major k × k).
    private static func addOuter(_ m: inout [Double], _ x: [Float], weight: Double, _ k: Int) {
        for a in 0..<k where x[a] != 0 {
            let xa = weight * Double(x[a])
            for b in 0..<k { m[a * k + b] += xa * Double(x[b]) }
        }
    }

    /// A⁻¹ b for a small SPD matrix.
    private static func solve(_ a: [Double], _ b: [Double], _ k: Int) -> [Double] {
        var inverse = a
        SymmetricInverse.invertSmall(&inverse, k)
        return (0..<k).map { row in (0..<k).reduce(0.0) { $0 + inverse[row * k + $1] * b[$1] } }
    }
}

extension LearnedBlendModel {
    /// Removes erased users from the stage's own parts: their counts subtracted from the direct
    /// successors and the popularity, SLIT, DLAE and RP3beta refitted on `remaining` (every other
    /// training history, in training order). Transitions and ALS are the blend's and unlearned there.
    mutating func unlearn(erased: [[Int32]], remaining: [[Int32]], itemCount: Int) async {
        successors.unlearn(sequences: erased)
        var users = popularity
        for sequence in erased { for item in Set(sequence) where Int(item) < users.count { users[Int(item)] = max(0, users[Int(item)] - 1) } }
        popularity = users  // assigned once: its observer ranks every item
        await slit.fit(sequences: remaining, itemCount: itemCount)
        await ease.fit(sequences: remaining, itemCount: itemCount)
        await rp3.fit(sequences: remaining, itemCount: itemCount)
    }
}

extension BlendModel {
    /// Removes the erased users' contributions (see the top of the file).
    /// - Parameters:
    ///   - erased: each erased user's training history (model indices, as training built it).
    ///   - remaining: every other training history, in training order; needed only with a re-ranking stage.
    ///   - engagers: the remaining engagers of the erased users' items, for ALS.
    ///   - userGramian: XᵀX + λI over the remaining users, for ALS.
    /// - Precondition: `remaining` is given when the blend has a re-ranking stage.
    mutating func unlearn(
        erased: [[Int32]], remaining: [[Int32]]?, engagers: [Int32: ALSModel.Engagers], userGramian: Matrix
    ) async -> UnlearningReport {
        var report = UnlearningReport()
        report.users = erased.count
        report.positions = erased.reduce(0) { $0 + $1.count }
        guard report.positions > 0 else { return report }
        let itemCount = transitions.popularity.count
        var stage = reRanker
        reRanker = nil  // so the stage's arrays are not shared while they change
        transitions.unlearn(sequences: erased)
        report.refittedItems = als.unlearn(erased: erased, engagers: engagers, userGramian: userGramian)
        report.subtracted = ["transitions", "popularity"]
        report.refitted = ["als_items"]
        if var unlearning = stage {
            precondition(remaining != nil, "a blend with a re-ranking stage unlearns from the remaining histories")
            await unlearning.unlearn(erased: erased, remaining: remaining ?? [], itemCount: itemCount)
            unlearning.transitions = transitions
            unlearning.als = als
            stage = unlearning
            report.subtracted.insert("successors", at: 1)
            report.refitted += ["slit", "dlae", "rp3beta"]
            report.kept = ["blend_weights", "trees"]
        }
        reRanker = stage
        return report
    }
}
