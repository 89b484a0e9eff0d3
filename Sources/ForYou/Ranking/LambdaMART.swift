// SPDX-License-Identifier: Apache-2.0
//
// LambdaMART (Burges, "From RankNet to LambdaRank to LambdaMART: An Overview", MSR-TR-2010-82):
// gradient-boosted regression trees whose gradients are LambdaRank's. For a query with relevant row i
// and non-relevant row j at current ranks r_i, r_j, the pair pushes s_i up and s_j down by
//   λ_ij = σ · ρ_ij · |ΔNDCG_ij|,  ρ_ij = 1 / (1 + e^{σ(s_i − s_j)}),
//   |ΔNDCG_ij| = |1/log2(2 + r_i) − 1/log2(2 + r_j)| / IDCG,
// with second-order weight σ² ρ(1 − ρ)|ΔNDCG|; each tree is fitted to these by Newton steps, so a leaf's
// value is −learningRate · Σg / (Σh + l2).
//
// Trees grow leaf-wise (the leaf whose best split gains most splits next, as LightGBM does) on
// histograms: every feature is cut once into at most `bins` quantile bins of the training rows, rows
// are stored as one byte per feature (feature-major), a leaf's histogram sums (g, h, count) per bin,
// and of two children only the smaller is counted; the larger is its parent minus it. Features are
// split over `threads` tasks and queries' gradients too; each task writes only its own part, so the
// forest does not depend on `threads`. No sampling: the same examples give the same forest.
//
// Early stopping: after each tree the held-out queries are scored; training stops `patience` trees
// after the best held-out NDCG@10, and the forest keeps the trees up to the best (possibly none: then
// the base scores alone rank best).

enum LambdaMART {
    struct Configuration: Sendable, Hashable {
        /// The most trees. Default: 300.
        var maximumTrees = 300
        /// Shrinkage of every leaf value. Default: 0.05.
        var learningRate: Float = 0.05
        /// Leaves per tree. Default: 15.
        var leaves = 15
        /// The fewest training rows a leaf may hold. Default: 100.
        var minimumRowsPerLeaf = 100
        /// L2 regularization of leaf values. Default: 1.
        var l2: Double = 1
        /// Quantile bins per feature, at most 256. Default: 64.
        var bins = 64
        /// Trees without a better held-out NDCG@10 before training stops. Default: 30.
        var patience = 30
        /// Share of the training queries each tree is grown on (a seeded sample, drawn anew per tree). Default: 0.5.
        var bagging = 0.5
        /// Seed of the samples. Default: 7.
        var seed: UInt64 = 7
        /// LambdaRank's σ. Default: 1.
        var sigma: Double = 1
        /// Tasks the work is split over. Default: 2.
        var threads = 2
    }

    /// What training found: the forest and the held-out NDCG@10 after each tree (index 0: base scores).
    struct Result: Sendable {
        var forest: RegressionForest
        var heldOutNDCGAt10: [Double]
    }

    /// Fits a forest on `training`, stopping early on `heldOut`.
    static func train(_ training: RankingExamples, heldOut: RankingExamples, configuration c: Configuration) async -> Result {
        let f = training.featureCount
        var forest = RegressionForest(featureCount: f)
        var heldOutScores = heldOut.initial
        var history = [heldOut.ndcgAt10(heldOutScores)]
        guard training.rowCount > 0, training.queryCount > 0 else { return Result(forest: forest, heldOutNDCGAt10: history) }
        let binned = BinnedFeatures(training, bins: c.bins)
        var scores = training.initial
        var best = 0
        var random = SplitMix64(seed: c.seed)
        for _ in 0..<c.maximumTrees {
            let (gradients, hessians) = await lambdas(training, scores: scores, configuration: c)
            var sample: [Int32] = []
            for query in 0..<training.queryCount where c.bagging >= 1 || random.nextUnit() < c.bagging {
                for row in training.rows(of: query) { sample.append(Int32(row)) }
            }
            let tree = await TreeGrower(binned: binned, gradients: gradients, hessians: hessians, configuration: c).grow(on: sample)
            forest.append(tree: tree.nodes)
            for (row, value) in zip(tree.leafOfRow.indices, tree.leafOfRow) { scores[row] += tree.nodes[Int(value)].value }
            let last = forest.treeCount - 1
            heldOut.features.withUnsafeBufferPointer { features in
                for row in 0..<heldOut.rowCount {
                    heldOutScores[row] += forest.predict(tree: last, features.baseAddress! + row * f)
                }
            }
            history.append(heldOut.ndcgAt10(heldOutScores))
            if history[history.count - 1] > history[best] { best = history.count - 1 }
            if heldOut.queryCount > 0 && history.count - 1 - best >= c.patience { break }
        }
        // Without held-out queries there is nothing to stop on: every tree is kept.
        if heldOut.queryCount > 0 { forest.truncate(to: best) }
        return Result(forest: forest, heldOutNDCGAt10: history)
    }

    /// LambdaRank's first and second derivatives for every row, queries split over tasks.
    static func lambdas(_ examples: RankingExamples, scores: [Float], configuration c: Configuration) async -> ([Double], [Double]) {
        let queries = examples.queryCount
        let chunk = max(1, (queries + c.threads - 1) / max(1, c.threads))
        let parts = await withTaskGroup(of: (Int, [Double], [Double]).self) { group in
            for first in stride(from: 0, to: queries, by: chunk) {
                group.addTask {
                    let last = min(first + chunk, queries)
                    let start = examples.queryStarts[first]
                    let count = examples.queryStarts[last] - start
                    var g = [Double](repeating: 0, count: count)
                    var h = [Double](repeating: 0, count: count)
                    for query in first..<last {
                        lambdas(of: examples.rows(of: query), offset: start, examples.relevant, scores, sigma: c.sigma, &g, &h)
                    }
                    return (start, g, h)
                }
            }
            var all: [(Int, [Double], [Double])] = []
            for await part in group { all.append(part) }
            return all
        }
        var gradients = [Double](repeating: 0, count: examples.rowCount)
        var hessians = [Double](repeating: 0, count: examples.rowCount)
        for (start, g, h) in parts {
            for i in g.indices {
                gradients[start + i] = g[i]
                hessians[start + i] = h[i]
            }
        }
        return (gradients, hessians)
    }

    /// One query's lambdas, written at `row − offset` of `g` and `h`.
    static func lambdas(
        of rows: Range<Int>, offset: Int, _ relevant: [Bool], _ scores: [Float], sigma: Double, _ g: inout [Double], _ h: inout [Double]
    ) {
        var rank = [Int](repeating: 0, count: rows.count)
        for (position, row) in RankingExamples.order(scores, rows).enumerated() { rank[row - rows.lowerBound] = position }
        let relevantCount = rows.reduce(0) { $0 + (relevant[$1] ? 1 : 0) }
        guard relevantCount > 0, relevantCount < rows.count else { return }
        var ideal = 0.0
        for position in 0..<relevantCount { ideal += RankingExamples.discount(position) }
        for i in rows where relevant[i] {
            let discountI = RankingExamples.discount(rank[i - rows.lowerBound])
            for j in rows where !relevant[j] {
                let delta = abs(discountI - RankingExamples.discount(rank[j - rows.lowerBound])) / ideal
                let rho = 1 / (1 + exponential(sigma * Double(scores[i] - scores[j])))
                let lambda = sigma * rho * delta
                let weight = sigma * sigma * rho * (1 - rho) * delta
                g[i - offset] -= lambda
                g[j - offset] += lambda
                h[i - offset] += weight
                h[j - offset] += weight
            }
        }
    }
}

/// Training rows cut into quantile bins, one byte per feature, feature-major.
struct BinnedFeatures: Sendable {
    let rowCount: Int
    let featureCount: Int
    /// bins[f · rowCount + row].
    let bins: [UInt8]
    /// thresholds[f][b]: a row falls in bin b of feature f when its value is ≤ it (and above bin b − 1's);
    /// the last bin has none (everything above, and NaN).
    let thresholds: [[Float]]

    init(_ examples: RankingExamples, bins binCount: Int) {
        let rows = examples.rowCount
        let f = examples.featureCount
        rowCount = rows
        featureCount = f
        var thresholds: [[Float]] = []
        var bins = [UInt8](repeating: 0, count: rows * f)
        // Quantiles from at most 50,000 rows, evenly spaced (deterministic).
        let step = max(1, rows / 50_000)
        for feature in 0..<f {
            var sample: [Float] = []
            for row in stride(from: 0, to: rows, by: step) {
                let value = examples.features[row * f + feature]
                if !value.isNaN { sample.append(value) }
            }
            sample.sort()
            var cuts: [Float] = []
            if !sample.isEmpty {
                for b in 1..<max(2, min(256, binCount)) {
                    let value = sample[min(sample.count - 1, b * sample.count / binCount)]
                    // A cut is the largest sampled value of its bin; identical cuts merge.
                    if cuts.last.map({ value > $0 }) ?? true, value < sample[sample.count - 1] { cuts.append(value) }
                }
            }
            thresholds.append(cuts)
            for row in 0..<rows {
                let value = examples.features[row * f + feature]
                var low = 0
                var high = cuts.count
                while low < high {
                    let middle = (low + high) / 2
                    if value <= cuts[middle] { high = middle } else { low = middle + 1 }
                }
                bins[feature * rows + row] = UInt8(value.isNaN ? cuts.count : low)
            }
        }
        self.bins = bins
        self.thresholds = thresholds
    }
}

/// Grows one tree leaf-wise on histograms of the binned training rows (see LambdaMART).
struct TreeGrower: Sendable {
    let binned: BinnedFeatures
    /// Each row's (gradient, hessian).
    let pairs: [SIMD2<Double>]
    let configuration: LambdaMART.Configuration

    init(binned: BinnedFeatures, gradients: [Double], hessians: [Double], configuration: LambdaMART.Configuration) {
        self.binned = binned
        pairs = zip(gradients, hessians).map { SIMD2($0, $1) }
        self.configuration = configuration
    }

    /// The tree's nodes (root first, children after parents) and the leaf node each training row reaches
    /// (every row, not only the sample the tree was grown on).
    struct Grown {
        var nodes: [RegressionForest.Node]
        var leafOfRow: [Int32]
    }

    private struct Split {
        var feature: Int
        var bin: Int
        var gain: Double
    }

    private struct Leaf {
        var node: Int
        var rows: [Int32]
        /// (g, h, count) per bin per feature: index (feature · bins + bin) · 3.
        var histogram: [Double]
        var split: Split?
    }

    private var binsPerFeature: Int { min(256, max(2, configuration.bins)) }

    func grow(on rows: [Int32]) async -> Grown {
        var nodes = [RegressionForest.Node.leaf(0)]
        var splitBins = [Int](repeating: -1, count: 1)
        var leaves = [Leaf(node: 0, rows: rows, histogram: await histogram(rows), split: nil)]
        leaves[0].split = bestSplit(leaves[0].histogram)
        while leaves.count < configuration.leaves {
            var chosen = -1
            for (index, leaf) in leaves.enumerated() {
                guard let split = leaf.split else { continue }
                if chosen < 0 || split.gain > leaves[chosen].split!.gain { chosen = index }
            }
            guard chosen >= 0, let split = leaves[chosen].split else { break }
            let parent = leaves[chosen]
            let column = split.feature * binned.rowCount
            var left: [Int32] = []
            var right: [Int32] = []
            for row in parent.rows {
                if Int(binned.bins[column + Int(row)]) <= split.bin { left.append(row) } else { right.append(row) }
            }
            let smallerIsLeft = left.count <= right.count
            let small = await histogram(smallerIsLeft ? left : right)
            var large = parent.histogram
            for index in large.indices { large[index] -= small[index] }
            let leftNode = nodes.count
            nodes.append(.leaf(0))
            nodes.append(.leaf(0))
            splitBins += [-1, -1]
            splitBins[parent.node] = split.bin
            nodes[parent.node] = RegressionForest.Node(
                feature: Int32(split.feature), threshold: binned.thresholds[split.feature][split.bin], left: Int32(leftNode),
                right: Int32(leftNode + 1), value: 0)
            var leftLeaf = Leaf(node: leftNode, rows: left, histogram: smallerIsLeft ? small : large, split: nil)
            var rightLeaf = Leaf(node: leftNode + 1, rows: right, histogram: smallerIsLeft ? large : small, split: nil)
            leftLeaf.split = bestSplit(leftLeaf.histogram)
            rightLeaf.split = bestSplit(rightLeaf.histogram)
            leaves[chosen] = leftLeaf
            leaves.insert(rightLeaf, at: chosen + 1)
        }
        for leaf in leaves {
            let (g, h, _) = totals(leaf.histogram)
            nodes[leaf.node] = .leaf(Float(-Double(configuration.learningRate) * g / (h + configuration.l2)))
        }
        // Every row down the tree by its bins (a bin at or below the split's is a value at or below its threshold).
        var leafOfRow = [Int32](repeating: 0, count: binned.rowCount)
        for row in 0..<binned.rowCount {
            var index = 0
            while nodes[index].feature >= 0 {
                let feature = Int(nodes[index].feature)
                index = Int(Int(binned.bins[feature * binned.rowCount + row]) <= splitBins[index] ? nodes[index].left : nodes[index].right)
            }
            leafOfRow[row] = Int32(index)
        }
        return Grown(nodes: nodes, leafOfRow: leafOfRow)
    }

    /// (Σg, Σh, rows) of a histogram, from its first feature.
    private func totals(_ histogram: [Double]) -> (Double, Double, Double) {
        var g = 0.0, h = 0.0, n = 0.0
        for bin in 0..<binsPerFeature {
            g += histogram[bin * 3]
            h += histogram[bin * 3 + 1]
            n += histogram[bin * 3 + 2]
        }
        return (g, h, n)
    }

    /// The split with the largest gain that leaves each side at least `minimumRowsPerLeaf` rows (ties: the
    /// lower feature, then the lower bin); nil when none gains.
    private func bestSplit(_ histogram: [Double]) -> Split? {
        let (g, h, n) = totals(histogram)
        let l2 = configuration.l2
        let minimum = Double(configuration.minimumRowsPerLeaf)
        guard n >= 2 * minimum else { return nil }
        let parentScore = g * g / (h + l2)
        var best: Split?
        for feature in 0..<binned.featureCount {
            var gl = 0.0, hl = 0.0, nl = 0.0
            let base = feature * binsPerFeature * 3
            for bin in 0..<binned.thresholds[feature].count {
                gl += histogram[base + bin * 3]
                hl += histogram[base + bin * 3 + 1]
                nl += histogram[base + bin * 3 + 2]
                guard nl >= minimum else { continue }
                if n - nl < minimum { break }
                let gr = g - gl, hr = h - hl
                let gain = gl * gl / (hl + l2) + gr * gr / (hr + l2) - parentScore
                if gain > 1e-12 && gain > (best?.gain ?? 0) { best = Split(feature: feature, bin: bin, gain: gain) }
            }
        }
        return best
    }

    /// The (g, h, count) histogram of the given rows, features split over tasks. Each row adds its
    /// (g, h) pair in one vector add and 1 to an integer count; consecutive rows often fall in the same
    /// bin, so each task sums into four interleaved copies (no chain of dependent adds through one memory
    /// slot) and adds them up at the end.
    private func histogram(_ rows: [Int32]) async -> [Double] {
        let f = binned.featureCount
        let bins = binsPerFeature
        let threads = max(1, min(configuration.threads, f))
        let chunk = (f + threads - 1) / threads
        let grower = self
        let parts = await withTaskGroup(of: (Int, [Double]).self) { group in
            for first in stride(from: 0, to: f, by: chunk) {
                group.addTask {
                    let last = min(first + chunk, f)
                    var part = [Double](repeating: 0, count: (last - first) * bins * 3)
                    var sums = [SIMD2<Double>](repeating: .zero, count: 4 * bins)
                    var counts = [Int32](repeating: 0, count: 4 * bins)
                    grower.binned.bins.withUnsafeBufferPointer { binOf in
                        grower.pairs.withUnsafeBufferPointer { pairs in
                            rows.withUnsafeBufferPointer { rows in
                                sums.withUnsafeMutableBufferPointer { sums in
                                    counts.withUnsafeMutableBufferPointer { counts in
                                        for feature in first..<last {
                                            let column = binOf.baseAddress! + feature * grower.binned.rowCount
                                            let s = sums.baseAddress!
                                            let n = counts.baseAddress!
                                            s.update(repeating: .zero, count: 4 * bins)
                                            n.update(repeating: 0, count: 4 * bins)
                                            var index = 0
                                            while index + 4 <= rows.count {
                                                for lane in 0..<4 {
                                                    let r = Int(rows[index + lane])
                                                    let slot = lane * bins + Int(column[r])
                                                    s[slot] += pairs[r]
                                                    n[slot] &+= 1
                                                }
                                                index += 4
                                            }
                                            while index < rows.count {
                                                let r = Int(rows[index])
                                                let slot = Int(column[r])
                                                s[slot] += pairs[r]
                                                n[slot] &+= 1
                                                index += 1
                                            }
                                            let base = (feature - first) * bins * 3
                                            for bin in 0..<bins {
                                                let total = (s[bin] + s[bins + bin]) + (s[2 * bins + bin] + s[3 * bins + bin])
                                                part[base + bin * 3] = total.x
                                                part[base + bin * 3 + 1] = total.y
                                                part[base + bin * 3 + 2] = Double(n[bin] + n[bins + bin] + n[2 * bins + bin] + n[3 * bins + bin])
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    return (first, part)
                }
            }
            var all: [(Int, [Double])] = []
            for await part in group { all.append(part) }
            return all
        }
        var histogram = [Double](repeating: 0, count: f * bins * 3)
        for (first, part) in parts {
            for (offset, value) in part.enumerated() { histogram[first * bins * 3 + offset] = value }
        }
        return histogram
    }
}
