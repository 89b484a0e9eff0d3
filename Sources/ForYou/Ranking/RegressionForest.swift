// SPDX-License-Identifier: Apache-2.0
//
// An additive ensemble of binary regression trees, as gradient boosting builds it (see LambdaMART.swift):
// the prediction for a feature row is the sum over trees of the value of the leaf the row reaches. Every
// tree lives in one flat array of nodes: an inner node sends a row left when `row[feature] ≤ threshold`
// (NaN goes right), a leaf (feature −1) holds its value. Trees are stored by the index of their root.

/// A sum of regression trees over fixed-length feature rows.
public struct RegressionForest: Sendable, Equatable {
    /// One node: an inner node when `feature >= 0`, else a leaf holding `value`.
    struct Node: Sendable, Equatable {
        var feature: Int32
        var threshold: Float
        var left: Int32
        var right: Int32
        var value: Float

        static func leaf(_ value: Float) -> Node { Node(feature: -1, threshold: 0, left: -1, right: -1, value: value) }
    }

    /// Features per row.
    public let featureCount: Int
    private(set) var nodes: [Node] = []
    private(set) var roots: [Int32] = []

    public init(featureCount: Int) {
        self.featureCount = featureCount
    }

    /// A forest of the given nodes and roots, unchecked (for tests of the decoder's checks).
    init(featureCount: Int, nodes: [Node], roots: [Int32]) {
        self.featureCount = featureCount
        self.nodes = nodes
        self.roots = roots
    }

    /// How many trees the forest holds.
    public var treeCount: Int { roots.count }

    /// Appends a tree given as nodes whose child indices are relative to its first node (the root).
    mutating func append(tree: [Node]) {
        let base = Int32(nodes.count)
        roots.append(base)
        for var node in tree {
            if node.feature >= 0 {
                node.left += base
                node.right += base
            }
            nodes.append(node)
        }
    }

    /// Keeps the first `count` trees.
    mutating func truncate(to count: Int) {
        guard count < roots.count else { return }
        let end = count == 0 ? 0 : Int(roots[count])
        roots.removeLast(roots.count - count)
        nodes.removeLast(nodes.count - end)
    }

    /// The sum of the trees' values for one row of `featureCount` features.
    /// - Complexity: O(trees · depth).
    public func predict(_ row: UnsafePointer<Float>) -> Float {
        var sum: Float = 0
        nodes.withUnsafeBufferPointer { nodes in
            for root in roots {
                var index = Int(root)
                while true {
                    let node = nodes[index]
                    if node.feature < 0 {
                        sum += node.value
                        break
                    }
                    index = Int(row[Int(node.feature)] <= node.threshold ? node.left : node.right)
                }
            }
        }
        return sum
    }

    /// The value one tree gives a row.
    func predict(tree: Int, _ row: UnsafePointer<Float>) -> Float {
        var index = Int(roots[tree])
        while nodes[index].feature >= 0 {
            let node = nodes[index]
            index = Int(row[Int(node.feature)] <= node.threshold ? node.left : node.right)
        }
        return nodes[index].value
    }

    // MARK: - Encoding

    func encode(into writer: inout BinaryWriter) {
        writer.write(Int64(featureCount))
        writer.write(roots)
        writer.write(nodes.map(\.feature))
        writer.write(nodes.map(\.threshold))
        writer.write(nodes.map(\.left))
        writer.write(nodes.map(\.right))
        writer.write(nodes.map(\.value))
    }

    /// Reads a forest, checking that every tree is well formed: children inside its own tree and after
    /// their parent (so every walk ends at a leaf), features in range, numbers finite.
    init(from reader: inout BinaryReader) throws {
        let features = try reader.read(Int64.self)
        guard (1...10_000).contains(features) else { throw Self.corrupt("a feature count of \(features)") }
        featureCount = Int(features)
        roots = try reader.readInt32s()
        let feature = try reader.readInt32s()
        let threshold = try reader.readFloats()
        let left = try reader.readInt32s()
        let right = try reader.readInt32s()
        let value = try reader.readFloats()
        let count = feature.count
        guard threshold.count == count, left.count == count, right.count == count, value.count == count else {
            throw Self.corrupt("node arrays of different lengths")
        }
        guard roots.first.map({ $0 == 0 }) ?? (count == 0), zip(roots, roots.dropFirst()).allSatisfy({ $0 < $1 }),
            roots.allSatisfy({ $0 >= 0 && Int($0) < count })
        else { throw Self.corrupt("tree roots out of order") }
        for (t, root) in roots.enumerated() {
            let end = t + 1 < roots.count ? Int(roots[t + 1]) : count
            for index in Int(root)..<end {
                if feature[index] < 0 {
                    guard value[index].isFinite else { throw Self.corrupt("a leaf value that is not finite") }
                } else {
                    guard Int(feature[index]) < featureCount, threshold[index].isFinite,
                        Int(left[index]) > index, Int(left[index]) < end, Int(right[index]) > index, Int(right[index]) < end
                    else { throw Self.corrupt("an inner node that points outside its tree") }
                }
            }
        }
        nodes = (0..<count).map { Node(feature: feature[$0], threshold: threshold[$0], left: left[$0], right: right[$0], value: value[$0]) }
    }

    private static func corrupt(_ detail: String) -> ForYouError {
        ForYouError(.invalidArgument, "the model file is truncated or corrupt: the re-ranker has \(detail)")
    }
}
