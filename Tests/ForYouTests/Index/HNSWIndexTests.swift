// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

/// Seeded test data for the index: Gaussian clusters and ALS factors of the demo world.
enum IndexTestData {
    /// A standard normal draw, approximately (Irwin–Hall: the sum of 12 uniforms minus 6).
    static func gaussian(_ random: inout SplitMix64) -> Float {
        var sum = 0.0
        for _ in 0..<12 { sum += random.nextUnit() }
        return Float(sum - 6)
    }

    /// `count` vectors around `clusters` random centres, with per-cluster norms varying by up to 2×
    /// (so the largest inner product is not simply the nearest direction).
    static func clustered(count: Int, dimension: Int, clusters: Int, seed: UInt64) -> Matrix {
        var random = SplitMix64(seed: seed)
        let centres = (0..<clusters).map { _ in (0..<dimension).map { _ in gaussian(&random) } }
        var matrix = Matrix(rows: count, columns: dimension)
        for row in 0..<count {
            let centre = centres[Int(random.next() % UInt64(clusters))]
            let scale = Float(0.5 + random.nextUnit())
            for column in 0..<dimension { matrix[row, column] = scale * (centre[column] + 0.6 * gaussian(&random)) }
        }
        return matrix
    }

    /// `count` data vectors and `queries` query vectors drawn from the same clusters.
    static func clusteredWithQueries(count: Int, queries: Int, dimension: Int, clusters: Int, seed: UInt64) -> (Matrix, [[Float]]) {
        let all = clustered(count: count + queries, dimension: dimension, clusters: clusters, seed: seed)
        var data = Matrix(rows: count, columns: dimension)
        data.storage = Array(all.storage.prefix(count * dimension))
        return (data, (count..<(count + queries)).map { row(all, $0) })
    }

    static func row(_ matrix: Matrix, _ row: Int) -> [Float] {
        Array(matrix.storage[(row * matrix.columns)..<((row + 1) * matrix.columns)])
    }

    /// Item factors of ALS trained on the demo world's positive engagements, and user-like queries:
    /// sums of three item factors.
    static func alsFactors(factors: Int, iterations: Int, queryCount: Int) async throws -> (items: Matrix, queries: [[Float]]) {
        let world = DemoWorld.generate(seed: 7, now: Timestamp(rfc3339: "2026-11-26T08:00:00Z")!)
        let sequences = InteractionSequences(try Interaction.parse(world.positiveInteractionsCSV(), format: .csv))
        var configuration = ALSModel.Configuration()
        configuration.factors = factors
        configuration.iterations = iterations
        var model = ALSModel(configuration: configuration)
        await model.fit(sequences: sequences.sequences, itemCount: sequences.items.count)
        let items = model.itemFactors
        var random = SplitMix64(seed: 3)
        let queries = (0..<queryCount).map { _ in
            (0..<3).map { _ in row(items, Int(random.next() % UInt64(items.rows))) }.reduce([Float](repeating: 0, count: items.columns)) {
                zip($0, $1).map(+)
            }
        }
        return (items, queries)
    }
}

struct HNSWIndexTests {
    /// The clustered set: 20,000 × 48 in release builds; debug builds run the kernels unoptimised, so
    /// there a smaller set keeps the suite fast (the recall floors are the same).
    #if DEBUG
    static let clusteredShape = (count: 5_000, dimension: 32, queries: 100)
    /// ALS on the whole demo world, with fewer factors and sweeps in debug builds.
    static let alsShape = (factors: 16, iterations: 4)
    #else
    static let alsShape = (factors: 32, iterations: 8)
    static let clusteredShape = (count: 20_000, dimension: 48, queries: 200)
    #endif

    /// Built once and shared by the tests that only read it (or change their own copy).
    static let clustered: (index: HNSWIndex, vectors: Matrix, queries: [[Float]]) = {
        let (vectors, queries) = IndexTestData.clusteredWithQueries(
            count: clusteredShape.count, queries: clusteredShape.queries, dimension: clusteredShape.dimension, clusters: 40, seed: 1)
        return (try! HNSWIndex.build(vectors), vectors, queries)
    }()

    /// Mean recall@k of `found` against `exact`.
    /// Mean recall@10 of the index's search at its default efSearch against exact search.
    func recallAtTen(_ index: HNSWIndex, _ queries: [[Float]]) throws -> Double {
        let found = try queries.map { try index.search($0, count: 10) }
        let exact = try queries.map { try index.exactSearch($0, count: 10) }
        return recall(found, exact)
    }

    func recall(_ found: [[HNSWIndex.Neighbor]], _ exact: [[HNSWIndex.Neighbor]]) -> Double {
        var hits = 0
        var total = 0
        for (approximate, truth) in zip(found, exact) {
            let truthIDs = Set(truth.map(\.id))
            hits += approximate.filter { truthIDs.contains($0.id) }.count
            total += truth.count
        }
        return Double(hits) / Double(max(1, total))
    }

    /// Degree limits, links to linked nodes of the right level, a valid entry point, no self links.
    func checkInvariants(_ index: HNSWIndex) {
        let storage = index.storage
        for node in Int32(0)..<Int32(storage.slotCount) where storage.levels[Int(node)] >= 0 {
            for level in 0...Int(storage.levels[Int(node)]) {
                let list = storage.links(node, level: level)
                #expect(Int(list[0]) <= storage.capacity(level: level))
                for position in 0..<Int(list[0]) {
                    let neighbor = list[1 + position]
                    #expect(neighbor != node)
                    #expect(storage.isLinked(neighbor) && Int(storage.levels[Int(neighbor)]) >= level)
                }
            }
        }
        if index.count > 0 { #expect(Int(storage.levels[Int(storage.entryPoint)]) == storage.maxLevel) }
    }

    func clusteredIndex() -> (HNSWIndex, Matrix, [[Float]]) { Self.clustered }

    // MARK: - Recall against exact search

    @Test func recallAtTenIsAtLeast95PercentOnClusteredVectorsAtTheDefaultEf() throws {
        let (index, _, queries) = clusteredIndex()
        let measured = try recallAtTen(index, queries)
        print("HNSW recall@10 clustered (\(index.count) × \(index.dimension), ef \(index.configuration.efSearch)): \(measured)")
        #expect(measured >= 0.95)
        checkInvariants(index)
    }

    @Test func recallAtTenIsAtLeast95PercentForUserLikeQueriesOnClusteredVectors() throws {
        let (index, vectors, _) = clusteredIndex()
        var random = SplitMix64(seed: 5)
        // User-like queries: sums of a few item vectors.
        let queries = (0..<Self.clusteredShape.queries).map { _ in
            (0..<3).map { _ in IndexTestData.row(vectors, Int(random.next() % UInt64(vectors.rows))) }
                .reduce([Float](repeating: 0, count: index.dimension)) { zip($0, $1).map(+) }
        }
        let measured = try recallAtTen(index, queries)
        print("HNSW recall@10 clustered, user-like queries: \(measured)")
        #expect(measured >= 0.95)
    }

    @Test func recallAtTenIsAtLeast95PercentOnALSItemFactorsOfTheDemoWorld() async throws {
        let clock = ContinuousClock()
        let started = clock.now
        let (items, queries) = try await IndexTestData.alsFactors(factors: Self.alsShape.factors, iterations: Self.alsShape.iterations, queryCount: 200)
        print("ALS fit: \(clock.now - started)")
        let index = try HNSWIndex.build(items)
        let measured = try recallAtTen(index, queries)
        print("HNSW recall@10 ALS factors (\(items.rows) × \(items.columns)): \(measured)")
        #expect(measured >= 0.95)
        checkInvariants(index)
    }

    @Test func searchScoresAreTheExactInnerProductsBestFirst() throws {
        let (index, vectors, queries) = clusteredIndex()
        for query in queries.prefix(20) {
            let found = try index.search(query, count: 10)
            #expect(found.count == 10)
            #expect(Set(found.map(\.id)).count == 10)
            #expect(zip(found, found.dropFirst()).allSatisfy { $0.score >= $1.score })
            for neighbor in found {
                let exact = zip(query, IndexTestData.row(vectors, Int(neighbor.id))).reduce(Float(0)) { $0 + $1.0 * $1.1 }
                #expect(abs(neighbor.score - exact) <= 1e-3 * max(1, abs(exact)))
            }
        }
    }

    @Test func theSameInsertsBuildTheSameBytes() throws {
        let vectors = IndexTestData.clustered(count: 500, dimension: 16, clusters: 5, seed: 4)
        #expect(try HNSWIndex.build(vectors).serialized() == HNSWIndex.build(vectors).serialized())
    }

    // MARK: - Concurrency

    @Test func insertsDuringConcurrentSearchesReturnConsistentResults() async throws {
        let (vectors, queries) = IndexTestData.clusteredWithQueries(count: 2_000, queries: 50, dimension: 16, clusters: 20, seed: 8)
        var start = try HNSWIndex(dimension: 16)
        for row in 0..<500 { try start.insert(IndexTestData.row(vectors, row), id: Int32(row)) }
        let live = LiveHNSWIndex(start)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                for batch in stride(from: 500, to: 2_000, by: 250) {
                    try live.insert((batch..<(batch + 250)).map { (Int32($0), IndexTestData.row(vectors, $0)) })
                }
            }
            for reader in 0..<2 {
                group.addTask {
                    for round in 0..<30 {
                        let snapshot = live.snapshot
                        let query = queries[(round + reader * 7) % queries.count]
                        let found = try snapshot.search(query, count: 10)
                        // A snapshot is a whole number of batches and answers only from what it holds.
                        #expect(snapshot.count % 250 == 0 && snapshot.count >= 500)
                        #expect(found.count == 10 && Set(found.map(\.id)).count == 10)
                        #expect(found.allSatisfy { Int($0.id) < snapshot.count })
                        #expect(zip(found, found.dropFirst()).allSatisfy { $0.score >= $1.score })
                        // Searching the same snapshot again gives the same answer, whatever the writer did since.
                        #expect(try snapshot.search(query, count: 10) == found)
                    }
                }
            }
            try await group.waitForAll()
        }
        let final = live.snapshot
        #expect(final.count == 2_000)
        let found = try queries.map { try final.search($0, count: 10) }
        let exact = try queries.map { try final.exactSearch($0, count: 10) }
        #expect(recall(found, exact) >= 0.95)
        checkInvariants(final)
    }

    // MARK: - Removal

    @Test func removedIDsNeverComeBackAndRecallHoldsAfterRepair() throws {
        let (shared, vectors, queries) = clusteredIndex()
        var index = shared
        var random = SplitMix64(seed: 12)
        let n = Int32(index.count)
        var removed = IDSet()
        // A third of the items, plus whole answers: the current top 3 of the first queries.
        for id in Int32(0)..<n where random.next() % 3 == 0 { removed.insert(id) }
        for query in queries.prefix(20) { for neighbor in try index.search(query, count: 3) { removed.insert(neighbor.id) } }
        let before = index
        for id in Int32(0)..<n where removed.contains(id) { try index.remove(id) }
        #expect(index.count == Int(n) - removed.count && index.tombstoneCount == removed.count)
        #expect(before.count == Int(n), "a copy taken before removal is unchanged")

        func check(_ stage: String) throws {
            let found = try queries.map { try index.search($0, count: 10) }
            #expect(found.allSatisfy { $0.count == 10 && $0.allSatisfy { !removed.contains($0.id) } }, "\(stage)")
            let exact = try queries.map { try index.exactSearch($0, count: 10) }
            let measured = recall(found, exact)
            print("HNSW recall@10 \(stage): \(measured)")
            #expect(measured >= 0.95, "\(stage)")
        }
        try check("with tombstones")
        index.repair()
        #expect(index.tombstoneCount == 0 && index.count == Int(n) - removed.count)
        checkInvariants(index)
        for node in Int32(0)..<n where index.storage.isLinked(node) {
            for level in 0...Int(index.storage.levels[Int(node)]) {
                let list = index.storage.links(node, level: level)
                #expect((0..<Int(list[0])).allSatisfy { !removed.contains(list[1 + $0]) })
            }
        }
        try check("after repair")

        // A removed id can be reused after repair, with its new vector.
        let reused = (0..<Int(n)).first { removed.contains(Int32($0)) }!
        try index.insert(IndexTestData.row(vectors, 0).map { $0 * 3 }, id: Int32(reused))
        #expect(index.contains(Int32(reused)))
        #expect(try index.search(IndexTestData.row(vectors, 0), count: 1).first?.id == Int32(reused))
    }

    // MARK: - Filtering

    @Test func filteredSearchReturnsKAllowedResultsWithRecallAgainstExactFilteredSearch() throws {
        let (index, _, queries) = clusteredIndex()
        // "Only language X": one item in ten. "Exclude seen": half the items.
        let language = AllowingIf { $0 % 10 == 3 }
        var random = SplitMix64(seed: 2)
        let seen = IDSet((Int32(0)..<Int32(index.count)).filter { _ in random.next() % 2 == 0 })
        let allowed = IDSet((Int32(0)..<Int32(index.count)).filter { $0 % 7 == 0 })

        func check<Filter: VectorFilter>(_ name: String, _ filter: Filter) throws {
            let found = try queries.map { try index.search($0, count: 10, filter: filter) }
            #expect(found.allSatisfy { $0.count == 10 && $0.allSatisfy { filter.allows($0.id) } }, "\(name)")
            let exact = try queries.map { try index.exactSearch($0, count: 10, filter: filter) }
            let measured = recall(found, exact)
            print("HNSW recall@10 filtered \(name): \(measured)")
            #expect(measured >= 0.95, "\(name)")
        }
        try check("one in ten by predicate", language)
        try check("excluding half", seen.excluded)
        try check("allowing one in seven", allowed)
        // A filter that allows only a handful still finds them all.
        let few = IDSet([5, 17, 1_234])
        #expect(Set(try index.search(queries[0], count: 10, filter: few).map(\.id)) == [5, 17, 1_234])
    }

    // MARK: - Persistence

    @Test func savedAndLoadedIndexGivesIdenticalResults() throws {
        let (shared, _, queries) = clusteredIndex()
        var index = shared
        try index.remove(7)
        try index.remove(8)
        let loaded = try HNSWIndex(bytes: index.serialized())
        #expect(loaded.count == index.count && loaded.tombstoneCount == 2 && loaded.configuration == index.configuration)
        for query in queries {
            #expect(try loaded.search(query, count: 10) == index.search(query, count: 10))
            #expect(try loaded.search(query, count: 5, ef: 20, filter: IDSet(0..<500)) == index.search(query, count: 5, ef: 20, filter: IDSet(0..<500)))
        }
        #expect(loaded.serialized() == index.serialized())
        let empty = try HNSWIndex(bytes: HNSWIndex(dimension: 3).serialized())
        #expect(empty.count == 0)
        #expect(try empty.search([1, 2, 3], count: 5).isEmpty)
    }

    @Test func corruptOrUnknownBytesAreRefused() throws {
        let (index, _, _) = clusteredIndex()
        let bytes = index.serialized()
        for broken in [Array(bytes.prefix(bytes.count - 9)), Array("NOTHNSW".utf8) + bytes, [UInt8]()] {
            #expect { try HNSWIndex(bytes: broken) } throws: { ($0 as? ForYouError)?.code == .invalidArgument }
        }
        var newer = bytes
        newer[6] = 9
        #expect { try HNSWIndex(bytes: newer) } throws: { ($0 as? ForYouError)?.message.contains("version") == true }
        // The first level-0 link made to name a node that does not exist.
        var badLink = bytes
        let firstLinkCount = index.storage.nodes.links(0)[0]
        if firstLinkCount > 0, let position = findLinks(in: bytes, index: index) {
            badLink[position + 4] = 0xFF
            badLink[position + 5] = 0xFF
            badLink[position + 6] = 0xFF
            badLink[position + 7] = 0x0F
            #expect { try HNSWIndex(bytes: badLink) } throws: { ($0 as? ForYouError)?.code == .invalidArgument }
        }
    }

    /// Where the level-0 link array of `index` starts in its bytes (after its UInt64 count).
    func findLinks(in bytes: [UInt8], index: HNSWIndex) -> Int? {
        let storage = index.storage
        let pattern = (0..<storage.linkStride0).flatMap { position in
            withUnsafeBytes(of: storage.nodes.links(0)[position].littleEndian) { Array($0) }
        }
        guard bytes.count >= pattern.count else { return nil }
        return (0...(bytes.count - pattern.count)).first { Array(bytes[$0..<($0 + pattern.count)]) == pattern }
    }

    // MARK: - Bad input

    @Test func badInputThrowsInvalidArgumentNamingTheFieldAndRule() throws {
        var index = try HNSWIndex(dimension: 4)
        try index.insert([1, 0, 0, 0], id: 0)
        func expectInvalid(_ needle: String, _ body: () throws -> Void) {
            #expect {
                try body()
            } throws: { error in
                guard let error = error as? ForYouError else { return false }
                return error.code == .invalidArgument && error.message.contains(needle)
            }
        }
        expectInvalid("`vector` must have 4 values") { try index.insert([1, 2, 3], id: 1) }
        expectInvalid("`vector` must hold finite values") { try index.insert([1, .nan, 0, 0], id: 1) }
        expectInvalid("`vector` must hold finite values") { try index.insert([1, .infinity, 0, 0], id: 1) }
        expectInvalid("`id` must be new") { try index.insert([0, 1, 0, 0], id: 0) }
        expectInvalid("`id` must be >= 0") { try index.insert([0, 1, 0, 0], id: -1) }
        expectInvalid("`query` must have 4 values") { _ = try index.search([1, 2], count: 1) }
        expectInvalid("`query` must hold finite values") { _ = try index.search([1, 2, .nan, 0], count: 1) }
        expectInvalid("`count` must be >= 1") { _ = try index.search([1, 2, 3, 4], count: 0) }
        expectInvalid("`ef` must be >= 1") { _ = try index.search([1, 2, 3, 4], count: 1, ef: 0) }
        expectInvalid("`id` must be in the index") { try index.remove(3) }
        expectInvalid("`dimension` must be in") { _ = try HNSWIndex(dimension: 0) }
        var configuration = HNSWIndex.Configuration()
        configuration.m = 1
        expectInvalid("`m` must be in 2...256") { _ = try HNSWIndex(dimension: 4, configuration: configuration) }
        try index.remove(0)
        expectInvalid("call repair()") { try index.insert([0, 1, 0, 0], id: 0) }
        index.repair()
        try index.insert([0, 1, 0, 0], id: 0)
        #expect(try index.search([0, 1, 0, 0], count: 3).map(\.id) == [0])
    }

    @Test func normAugmentedConstructionAlsoReachesTheRecallFloor() throws {
        var configuration = HNSWIndex.Configuration()
        configuration.construction = .normAugmented
        let (vectors, queries) = IndexTestData.clusteredWithQueries(count: 2_000, queries: 100, dimension: 16, clusters: 20, seed: 21)
        let index = try HNSWIndex.build(vectors, configuration: configuration)
        let found = try queries.map { try index.search($0, count: 10, ef: 128) }
        let exact = try queries.map { try index.exactSearch($0, count: 10) }
        #expect(recall(found, exact) >= 0.95)
        #expect(try HNSWIndex(bytes: index.serialized()).search(queries[0], count: 10, ef: 128) == found[0])
    }
}
