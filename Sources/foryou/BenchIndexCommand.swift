// SPDX-License-Identifier: Apache-2.0
//
// `foryou bench index`: ForYou's HNSW index beside hnswlib, on the same vectors, with the same M and
// efConstruction, one thread each. For each dataset the command
//   1. generates the vectors and queries (seeded) and builds the ForYou index (timed);
//   2. computes the exact top-k of every query by brute force (the shared ground truth);
//   3. writes vectors, queries and truth as .npy into a scratch folder and starts the hnswlib script
//      (Benchmarks/index/hnswlib_bench.py) with the given Python, which builds hnswlib (timed) and
//      then runs one timed pass over the queries whenever asked;
//   4. at each efSearch, alternates passes of the two libraries (--repeats each, the fastest counts)
//      and prints one Markdown table with both side by side, plus ForYou's QPS divided by hnswlib's
//      QPS interpolated at ForYou's recall ("at equal recall").
// The two never run at the same time; alternating their passes means noise from elsewhere on a shared
// machine falls on both. Datasets: `clustered` (Gaussian clusters, norms varying 2×) and
// `als` (item factors of ALS trained on the demo world; queries are sums of three item factors).

import ArgumentParser
import ForYou
import Foundation

struct BenchIndexCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "index",
        abstract: "Compare ForYou's HNSW index with hnswlib on the same vectors: build time, QPS and recall@10.",
        discussion: "Run Benchmarks/index/run.sh, which builds in release and prepares the hnswlib venv. Prints a Markdown table."
    )

    @Option(help: "Comma-separated datasets: clustered, als.")
    var datasets = "clustered,als"

    @Option(help: "Vectors in the clustered dataset.")
    var count = 100_000

    @Option(help: "Dimension of the clustered dataset and the ALS factors.")
    var dimension = 64

    @Option(help: "Clusters in the clustered dataset.")
    var clusters = 100

    @Option(help: "Queries per dataset.")
    var queries = 2_000

    @Option(help: "HNSW M for both libraries.")
    var m = 16

    @Option(help: "HNSW efConstruction for both libraries.")
    var efConstruction = 200

    @Option(help: "Comma-separated efSearch values.")
    var ef = "10,16,24,32,48,64,96,128,192"

    @Option(help: "Passes over the queries per efSearch for each library, alternating between them; the fastest counts.")
    var repeats = 10

    @Option(help: "The least time a pass should take: the queries are searched as many times over as that takes ForYou, by both libraries.")
    var passSeconds = 0.1

    @Option(help: "ForYou's graph construction: inner-product (hnswlib's \"ip\") or norm-augmented (the MIPS→L2 reduction).")
    var construction = "inner-product"

    @Option(help: "The seed of the data and of the level draws.")
    var seed: UInt64 = 42

    @Option(help: "The Python interpreter with hnswlib and numpy; empty to skip hnswlib.")
    var python = "/tmp/hnsw-venv/bin/python"

    @Option(help: "The hnswlib side of the benchmark.")
    var script = "Benchmarks/index/hnswlib_bench.py"

    static let k = 10

    var efValues: [Int] { ef.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

    func validate() throws {
        guard count >= 1_000 else { throw ValidationError("--count must be >= 1000") }
        guard (1...4_096).contains(dimension) else { throw ValidationError("--dimension must be in 1...4096") }
        guard queries >= 10 else { throw ValidationError("--queries must be >= 10") }
        guard !efValues.isEmpty, efValues.allSatisfy({ $0 >= 1 }) else { throw ValidationError("--ef must list efSearch values >= 1") }
        guard repeats >= 1 else { throw ValidationError("--repeats must be >= 1") }
        guard passSeconds >= 0, passSeconds <= 60 else { throw ValidationError("--pass-seconds must be between 0 and 60") }
        guard ["inner-product", "norm-augmented"].contains(construction) else {
            throw ValidationError("--construction must be inner-product or norm-augmented")
        }
        for name in datasets.split(separator: ",") where !["clustered", "als"].contains(name) {
            throw ValidationError("--datasets lists an unknown dataset: \(name)")
        }
    }

    struct Run {
        var ef: Int
        var qps: Double
        var recall: Double
    }

    struct Side {
        var library: String
        var buildSeconds: Double
        var runs: [Run]
    }

    func run() async throws {
        print("Machine: \(ProcessInfo.processInfo.activeProcessorCount) CPUs; one search thread per library; k = \(Self.k), M = \(m), efConstruction = \(efConstruction).\n")
        for name in datasets.split(separator: ",") {
            let (vectors, queryVectors, label) = name == "als" ? await alsDataset() : clusteredDataset()
            try await compare(vectors: vectors, queries: queryVectors, label: label)
        }
    }

    // MARK: - Datasets

    func clusteredDataset() -> (Matrix, [[Float]], String) {
        var random = SplitMix64(seed: seed)
        func gaussian() -> Float {
            var sum = 0.0
            for _ in 0..<12 { sum += random.nextUnit() }
            return Float(sum - 6)
        }
        let centres = (0..<clusters).map { _ in (0..<dimension).map { _ in gaussian() } }
        func draw() -> [Float] {
            let centre = centres[Int(random.next() % UInt64(clusters))]
            let scale = Float(0.5 + random.nextUnit())
            return centre.map { scale * ($0 + 0.6 * gaussian()) }
        }
        var matrix = Matrix(rows: count, columns: dimension)
        matrix.storage = (0..<count).flatMap { _ in draw() }
        let queryVectors = (0..<queries).map { _ in draw() }
        return (matrix, queryVectors, "clustered, \(count) × \(dimension), \(clusters) clusters")
    }

    func alsDataset() async -> (Matrix, [[Float]], String) {
        let world = DemoWorld.generate(seed: seed, now: SystemWallClock().now())
        let sequences = InteractionSequences((try? Interaction.parse(world.positiveInteractionsCSV(), format: .csv)) ?? [])
        var configuration = ALSModel.Configuration()
        configuration.factors = dimension
        var model = ALSModel(configuration: configuration)
        await model.fit(sequences: sequences.sequences, itemCount: sequences.items.count)
        let items = model.itemFactors
        var random = SplitMix64(seed: seed &+ 1)
        let queryVectors = (0..<queries).map { _ in
            var sum = [Float](repeating: 0, count: items.columns)
            for _ in 0..<3 {
                let row = Int(random.next() % UInt64(items.rows))
                for column in 0..<items.columns { sum[column] += items[row, column] }
            }
            return sum
        }
        return (items, queryVectors, "ALS item factors of the demo world, \(items.rows) × \(items.columns)")
    }

    // MARK: - Comparison

    func compare(vectors: Matrix, queries queryVectors: [[Float]], label: String) async throws {
        var configuration = HNSWIndex.Configuration()
        configuration.m = m
        configuration.efConstruction = efConstruction
        configuration.seed = seed
        configuration.construction = construction == "norm-augmented" ? .normAugmented : .innerProduct
        let clock = ContinuousClock()
        var index: HNSWIndex?
        let build = try clock.measure { index = try HNSWIndex.build(vectors, configuration: configuration) }.indexBenchSeconds
        let built = index!
        let truth = try queryVectors.map { try built.exactSearch($0, count: Self.k).map(\.id) }

        var peer: HnswlibPeer?
        var folder: String?
        defer {
            peer?.stop()
            if let folder { try? FileManager.default.removeItem(atPath: folder) }
        }
        if !python.isEmpty {
            let scratch = NSTemporaryDirectory() + "foryou-bench-index-\(UUID().uuidString)"
            folder = scratch
            try FileManager.default.createDirectory(atPath: scratch, withIntermediateDirectories: true)
            try NumPy.write(vectors.storage, shape: [vectors.rows, vectors.columns], to: scratch + "/vectors.npy")
            try NumPy.write(queryVectors.flatMap { $0 }, shape: [queryVectors.count, vectors.columns], to: scratch + "/queries.npy")
            try NumPy.write(truth.flatMap { $0 }, shape: [truth.count, Self.k], to: scratch + "/truth.npy")
            peer = try HnswlibPeer(
                python: python,
                arguments: [script, "--dir", scratch, "--m", "\(m)", "--ef-construction", "\(efConstruction)", "--k", "\(Self.k)", "--seed", "\(seed)"])
        }

        // Passes alternate between the libraries (which one goes first alternates too), so a burst of
        // load from elsewhere on the machine slows both alike; the fastest pass of each counts.
        var ours: [Run] = []
        var theirs: [Run] = []
        for ef in efValues {
            // A pass covers the queries `laps` times, enough for about --pass-seconds on ForYou's first
            // try, the same for both libraries: a pass of a few milliseconds would be decided by one
            // timer tick or context switch.
            let once = try clock.measure { for query in queryVectors { _ = try built.search(query, count: Self.k, ef: ef) } }.indexBenchSeconds
            let laps = max(1, Int((passSeconds / max(once, 1e-6)).rounded(.up)))
            var best = Double.infinity
            var theirBest = Double.infinity
            var theirRecall = 0.0
            var found: [[Int32]] = []
            for round in 0..<repeats {
                if let peer, round % 2 == 0 {
                    let pass = try peer.pass(ef: ef, laps: laps)
                    theirBest = min(theirBest, pass.seconds)
                    theirRecall = pass.recall
                }
                var results: [[Int32]] = []
                results.reserveCapacity(queryVectors.count)
                let seconds = try clock.measure {
                    for lap in 0..<laps {
                        if lap == laps - 1 {
                            for query in queryVectors { results.append(try built.search(query, count: Self.k, ef: ef).map(\.id)) }
                        } else {
                            for query in queryVectors { _ = try built.search(query, count: Self.k, ef: ef).map(\.id) }
                        }
                    }
                }.indexBenchSeconds
                best = min(best, seconds)
                found = results
                if let peer, round % 2 == 1 {
                    let pass = try peer.pass(ef: ef, laps: laps)
                    theirBest = min(theirBest, pass.seconds)
                    theirRecall = pass.recall
                }
            }
            let searched = Double(queryVectors.count * laps)
            ours.append(Run(ef: ef, qps: searched / best, recall: Self.recall(found, truth)))
            if peer != nil { theirs.append(Run(ef: ef, qps: searched / theirBest, recall: theirRecall)) }
        }
        let hnswlib = peer.map { Side(library: $0.library, buildSeconds: $0.buildSeconds, runs: theirs) }
        printTable(label: label, build: build, ours: ours, hnswlib: hnswlib)
    }

    static func recall(_ found: [[Int32]], _ truth: [[Int32]]) -> Double {
        var hits = 0
        for (approximate, exact) in zip(found, truth) { hits += Set(approximate).intersection(exact).count }
        return Double(hits) / Double(truth.reduce(0) { $0 + $1.count })
    }

    /// hnswlib's QPS at `recall`: the larger of its fastest run reaching that recall and the linear
    /// interpolation between its two runs around it (so ties and noise favour hnswlib); nil when no
    /// run of hnswlib reaches that recall, or when all its runs exceed it (then it is not measured).
    static func qps(at recall: Double, on runs: [Run]) -> Double? {
        let reaching = runs.filter { $0.recall >= recall }
        guard let fastest = reaching.map(\.qps).max(), runs.contains(where: { $0.recall <= recall }) else { return nil }
        let sorted = runs.sorted { $0.recall < $1.recall }
        var interpolated = 0.0
        for (low, high) in zip(sorted, sorted.dropFirst()) where low.recall <= recall && recall <= high.recall && high.recall > low.recall {
            let t = (recall - low.recall) / (high.recall - low.recall)
            interpolated = max(interpolated, low.qps + t * (high.qps - low.qps))
        }
        return max(fastest, interpolated)
    }

    func printTable(label: String, build: Double, ours: [Run], hnswlib: Side?) {
        func f(_ value: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", value) }
        print("### \(label)" + (construction == "inner-product" ? "" : " (ForYou: \(construction) construction)") + "\n")
        print("Build (one thread): ForYou \(f(build, 2)) s" + (hnswlib.map { "; \($0.library) \(f($0.buildSeconds, 2)) s; ForYou ÷ hnswlib \(f(build / $0.buildSeconds, 2))×" } ?? "") + "\n")
        print("| efSearch | ForYou recall@10 | ForYou QPS | hnswlib recall@10 | hnswlib QPS | ForYou ÷ hnswlib at equal efSearch | hnswlib QPS at ForYou's recall | ForYou ÷ hnswlib at equal recall |")
        print("|---|---|---|---|---|---|---|---|")
        for run in ours {
            let theirs = hnswlib?.runs.first { $0.ef == run.ef }
            let equal = hnswlib.flatMap { Self.qps(at: run.recall, on: $0.runs) }
            print(
                "| \(run.ef) | \(f(run.recall, 4)) | \(f(run.qps, 0)) | \(theirs.map { f($0.recall, 4) } ?? "–") | \(theirs.map { f($0.qps, 0) } ?? "–") | "
                    + "\(theirs.map { f(run.qps / $0.qps, 2) + "×" } ?? "–") | "
                    + "\(equal.map { f($0, 0) } ?? "out of range") | \(equal.map { f(run.qps / $0, 2) + "×" } ?? "–") |")
        }
        print("")
    }
}


/// The hnswlib script, kept running: it prints its build as one JSON line, then answers each "EF LAPS"
/// line on its stdin with one timed pass over the queries, LAPS times over.
final class HnswlibPeer {
    private struct Build: Decodable {
        var library: String
        var buildSeconds: Double
    }

    struct Pass: Decodable {
        var seconds: Double
        var recall: Double
    }

    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()
    let library: String
    let buildSeconds: Double

    init(python: String, arguments: [String]) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.standardInput = input
        process.standardOutput = output
        do {
            try process.run()
        } catch {
            throw ValidationError("--python \(python) could not be started: \(error.localizedDescription)")
        }
        let build = try JSONDecoder().decode(Build.self, from: try Self.readLine(from: output.fileHandleForReading, buffer: &buffer))
        library = build.library
        buildSeconds = build.buildSeconds
    }

    /// One timed pass: every query `laps` times at efSearch `ef`.
    func pass(ef: Int, laps: Int) throws -> Pass {
        try input.fileHandleForWriting.write(contentsOf: Data("\(ef) \(laps)\n".utf8))
        return try JSONDecoder().decode(Pass.self, from: try Self.readLine(from: output.fileHandleForReading, buffer: &buffer))
    }

    func stop() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private static func readLine(from handle: FileHandle, buffer: inout Data) throws -> Data {
        while true {
            if let newline = buffer.firstIndex(of: UInt8(ascii: "\n")) {
                let line = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                return Data(line)
            }
            let chunk = handle.availableData
            guard !chunk.isEmpty else {
                throw ValidationError("the hnswlib script stopped without answering (see its error output above)")
            }
            buffer.append(chunk)
        }
    }
}

extension Duration {
    fileprivate var indexBenchSeconds: Double { Double(components.seconds) + Double(components.attoseconds) * 1e-18 }
}

/// Writes arrays as NumPy .npy files (format 1.0), which `numpy.load` reads directly.
enum NumPy {
    static func write(_ values: [Float], shape: [Int], to path: String) throws {
        try write(values.withUnsafeBytes { Data($0) }, descr: "<f4", shape: shape, to: path)
    }

    static func write(_ values: [Int32], shape: [Int], to path: String) throws {
        try write(values.withUnsafeBytes { Data($0) }, descr: "<i4", shape: shape, to: path)
    }

    private static func write(_ payload: Data, descr: String, shape: [Int], to path: String) throws {
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': (\(shape.map(String.init).joined(separator: ", ")),), }"
        // Magic (6) + version (2) + length (2) + header + newline, padded to a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
        let length = UInt16(header.utf8.count)
        data.append(contentsOf: [UInt8(length & 0xFF), UInt8(length >> 8)])
        data.append(contentsOf: Array(header.utf8))
        data.append(payload)
        try data.write(to: URL(fileURLWithPath: path))
    }
}
