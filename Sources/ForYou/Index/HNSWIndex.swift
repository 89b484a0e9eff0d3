// SPDX-License-Identifier: Apache-2.0
//
// HNSWIndex: approximate maximum-inner-product search over Float vectors of one dimension, on a
// hierarchical navigable small-world graph (Malkov & Yashunin 2018).
//
// Design:
//   - Memory layout and invariants: see HNSWStorage.swift. Search: HNSWIndex+Search.swift. Insertion
//     and the neighbour-selection heuristic: HNSWIndex+Construction.swift. Tombstones and repair:
//     HNSWIndex+Deletion.swift. The byte format: HNSWIndex+Persistence.swift.
//   - Concurrency: `HNSWIndex` is a copy-on-write value. A copy is O(1); the first mutation of a copy
//     whose storage is shared duplicates the arrays (one memcpy of each). Readers search an immutable
//     snapshot while a writer inserts into its own copy and then publishes it: `LiveHNSWIndex` does
//     exactly that, so readers wait only for the swap of one reference, never for a build.
//   - Metric: the score is the plain inner product, searched on a graph built with the inner product
//     itself (hnswlib's "ip" space), by default. The alternative, the MIPS→L2 reduction (Bachrach et
//     al. 2014: append sqrt(maxNorm² − ‖x‖²) to each item and 0 to each query), is available as
//     `Construction.normAugmented`; it only changes which neighbours the graph keeps, never the scores.
//     The direct inner-product graph wins clearly, so it is the default. Measured with
//     `foryou bench index` (release, M 16, efConstruction 200; BENCHMARKS.md), recall@10 at efSearch 64:
//     ALS factors of the demo world (4,243 × 64) 0.998 direct vs 0.674 reduced (0.858 even at
//     efSearch 256); clustered 20,000 × 64 0.999 vs 0.965. The reduced graph links items by a metric
//     in which every item has the same norm, but a query has 0 in the extra coordinate and so sits far
//     from all of them; its greedy walk follows links made for other questions. Faster per search,
//     the reduced graph is still slower at equal recall.
//   - Ids are the engine's dense Int32 item indices; they index the arrays directly.

/// An approximate maximum-inner-product index: given a query vector, the ids whose vectors have the
/// largest inner product with it.
///
/// The graph is the hierarchical navigable small world of Malkov & Yashunin,
/// [“Efficient and robust approximate nearest neighbor search using Hierarchical Navigable Small World
/// graphs”](https://arxiv.org/abs/1603.09320) (2018), with the neighbour-selection heuristic
/// (their algorithm 4) at every level, as hnswlib does.
///
/// ```swift
/// var index = try HNSWIndex(dimension: 64)
/// for (item, vector) in itemFactors.enumerated() { try index.insert(vector, id: Int32(item)) }
/// let top = try index.search(userVector, count: 10, filter: seen.excluded)
/// ```
///
/// `HNSWIndex` is a value: copies are cheap and independent (copy-on-write), so a copy taken before an
/// insert keeps answering as before. Share a changing index between threads with ``LiveHNSWIndex``.
public struct HNSWIndex: Sendable {
    /// How the graph is built and searched.
    public struct Configuration: Sendable, Hashable {
        /// Neighbours kept per node above level 0 (2M at level 0). Memory is about
        /// 4·(2M+1) bytes per node; more neighbours raise recall at a given efSearch and cost build
        /// time. Typical range 8...48. Default 16.
        public var m = 16
        /// The candidate list size while inserting: larger builds a better graph, more slowly (about
        /// linearly). Default 200.
        public var efConstruction = 200
        /// The candidate list size while searching, when a search does not give its own (it is raised
        /// to the number of results asked for). Larger means higher recall and slower searches.
        /// Default 64: mean recall@10 ≥ 0.95 on the clustered and ALS test sets (HNSWIndexTests).
        public var efSearch = 64
        /// Seeds the level of each node; the level depends only on the seed and the id, so the same
        /// inserts in the same order build the same graph. Default 42.
        public var seed: UInt64 = 42
        /// Which inner product the graph is built with. Default ``Construction/innerProduct``.
        public var construction = Construction.innerProduct

        public init() {}
    }

    /// How neighbours are chosen while building; searches score by the plain inner product either way.
    public enum Construction: UInt8, Sendable, Hashable {
        /// Link neighbours by their inner product, as hnswlib's "ip" space does.
        case innerProduct = 0
        /// Link neighbours by the inner product of norm-augmented vectors (x, sqrt(maxNorm² − ‖x‖²)):
        /// the MIPS→L2 reduction, where the graph is built in a metric space.
        case normAugmented = 1
    }

    /// One search result: an id and its inner product with the query.
    public struct Neighbor: Sendable, Hashable {
        public var id: Int32
        public var score: Float
        public init(id: Int32, score: Float) {
            self.id = id
            self.score = score
        }
    }

    /// The length of every vector.
    public let dimension: Int
    /// The configuration the index was built with.
    public let configuration: Configuration
    var storage: HNSWStorage
    let scratches = ScratchPool()

    /// An empty index.
    /// - Throws: ``ForYouError/Code/invalidArgument`` when `dimension` is not in 1...65,536 or a
    ///   configuration value is out of range (`m` in 2...256, `efConstruction` and `efSearch` >= 1).
    public init(dimension: Int, configuration: Configuration = Configuration()) throws {
        guard (1...65_536).contains(dimension) else {
            throw ForYouError(.invalidArgument, "`dimension` must be in 1...65536, got \(dimension)")
        }
        guard (2...256).contains(configuration.m) else {
            throw ForYouError(.invalidArgument, "`m` must be in 2...256, got \(configuration.m)")
        }
        guard configuration.efConstruction >= 1 else {
            throw ForYouError(.invalidArgument, "`efConstruction` must be >= 1, got \(configuration.efConstruction)")
        }
        guard configuration.efSearch >= 1 else {
            throw ForYouError(.invalidArgument, "`efSearch` must be >= 1, got \(configuration.efSearch)")
        }
        self.dimension = dimension
        self.configuration = configuration
        storage = HNSWStorage(dimension: dimension, m: configuration.m)
    }

    /// An index of every row of `vectors`, row i under id i.
    /// - Throws: ``ForYouError/Code/invalidArgument`` as ``insert(_:id:)`` does.
    /// - Complexity: O(n log n · efConstruction · M) distance computations for n rows, roughly.
    public static func build(_ vectors: Matrix, configuration: Configuration = Configuration()) throws -> HNSWIndex {
        var index = try HNSWIndex(dimension: vectors.columns, configuration: configuration)
        try vectors.storage.withUnsafeBufferPointer { all in
            for row in 0..<vectors.rows {
                let start = row * vectors.columns
                try index.insert(UnsafeBufferPointer(rebasing: all[start..<(start + vectors.columns)]), id: Int32(row))
            }
        }
        return index
    }

    // MARK: - Contents

    /// The number of searchable (inserted and not removed) ids.
    public var count: Int { storage.liveCount }

    /// The number of removed ids still in the graph as tombstones (``repair()`` unlinks them).
    public var tombstoneCount: Int { storage.deletedCount }

    /// Whether `id` is searchable.
    public func contains(_ id: Int32) -> Bool { storage.isLinked(id) && !storage.isDeleted(id) }

    // MARK: - Inserting

    /// Adds `vector` under `id`.
    /// - Throws: ``ForYouError/Code/invalidArgument`` when `vector` does not have ``dimension`` values
    ///   or holds a non-finite value, when `id` is negative, or when `id` is already in the index
    ///   (removed ids can be reused after ``repair()``).
    /// - Complexity: O(log n · efConstruction · M) distance computations, roughly.
    public mutating func insert(_ vector: [Float], id: Int32) throws {
        try vector.withUnsafeBufferPointer { try insert($0, id: id) }
    }

    /// Adds `vector` under `id`; see ``insert(_:id:)-([Float],_)``.
    public mutating func insert(_ vector: UnsafeBufferPointer<Float>, id: Int32) throws {
        try validate(vector, field: "vector")
        guard id >= 0 else { throw ForYouError(.invalidArgument, "`id` must be >= 0, got \(id)") }
        guard !storage.isLinked(id) else {
            let state = storage.isDeleted(id) ? "removed but not yet repaired; call repair() before reusing it" : "already in the index"
            throw ForYouError(.invalidArgument, "`id` must be new to the index: \(id) is \(state)")
        }
        makeUnique()
        let storage = storage
        let configuration = configuration
        scratches.withScratch { scratch in
            storage.insert(vector, id: id, configuration: configuration, scratch: scratch)
        }
    }

    mutating func makeUnique() {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    }

    /// Throws unless `vector` has ``dimension`` finite values.
    func validate(_ vector: UnsafeBufferPointer<Float>, field: String) throws {
        guard vector.count == dimension else {
            throw ForYouError(.invalidArgument, "`\(field)` must have \(dimension) values (the index's dimension), got \(vector.count)")
        }
        if let position = vector.firstIndex(where: { !$0.isFinite }) {
            throw ForYouError(.invalidArgument, "`\(field)` must hold finite values only; value \(position) is not finite")
        }
    }
}
