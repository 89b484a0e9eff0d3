// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import Foundation

/// `foryou eval`: the offline protocol of PROTOCOL.md on an interaction file.
struct EvalCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Evaluate ForYou's sequence-aware model under the leave-last-out, full-ranking protocol.",
        discussion: """
            Splits the interactions (last item per user: test; the one before: validation), chooses the \
            model's hyperparameters on train → validation only, refits on train + validation and ranks \
            the whole catalogue for the test targets. Prints Recall@10/20, NDCG@10/20, Coverage@10, fit \
            time, threads and peak memory, with MostPopular beside it.
            """
    )

    @Option(help: "Interactions: MovieLens u.data or ratings.dat, or a CSV with user, item and timestamp columns.")
    var data: String

    @Option(help: "The file's format: auto (from the name), udata, dat or csv.")
    var format = "auto"

    @Option(help: "Threads for fitting (ALS, ItemKNN, EASE) and ranking.")
    var threads = 2

    @Option(help: "Also write the test rankings (user,rank,item,score) to this file, for reference_eval.py score.")
    var recommendations: String?

    func validate() throws {
        guard format == "auto" || InteractionFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be auto, udata, dat or csv; got \(format)")
        }
        guard (1...64).contains(threads) else { throw ValidationError("--threads must be in 1...64") }
    }

    func run() async throws {
        try await reportingErrors {
            let interactions = try InteractionFile.read(data, format: format)
            let split = LeaveLastOutSplit(interactions)
            guard !split.users.isEmpty else {
                throw ForYouError(.invalidArgument, "no user in \(data) has 3 or more distinct items; the protocol needs train, validation and test items")
            }
            printError("\(interactions.count) interactions, \(split.users.count) users with 3 or more, \(split.items.count) items")
            let results = await OfflineEvaluation.run(on: split, threads: threads) { printError($0) }
            for line in results.last?.selection?.lines ?? [] { printError(line) }
            if let path = recommendations, let final = results.last {
                var csv = "user,rank,item,score\n"
                for (user, ranking) in zip(split.users, final.rankings) {
                    for (rank, item) in ranking.enumerated() {
                        csv += "\(CSVText.escape(user)),\(rank + 1),\(CSVText.escape(split.items[Int(item)])),\(20 - rank)\n"
                    }
                }
                try csv.write(toFile: path, atomically: true, encoding: .utf8)
            }
            var table = """
                | model | Recall@10 | NDCG@10 | Recall@20 | NDCG@20 | Coverage@10 | fit s | threads |
                |---|---:|---:|---:|---:|---:|---:|---:|

                """
            for result in results {
                table += "| \(result.name) | \(result.test.row) | \(String(format: "%.2f", result.fitSeconds)) | \(result.threads) |\n"
            }
            table += "\nPeak resident memory: \(PeakMemory.mebibytes) MiB. The default model's fit time includes choosing its hyperparameters on the validation targets."
            print(table)
        }
    }
}

extension RankingMetrics {
    fileprivate var row: String {
        [recallAt10, ndcgAt10, recallAt20, ndcgAt20, coverageAt10].map(\.formatted4).joined(separator: " | ")
    }
}

/// Reads interaction files for `eval` and `recommend`.
enum InteractionFile {
    static func read(_ path: String, format: String) throws -> [Interaction] {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ForYouError(.invalidArgument, "cannot read the interactions file \(path)")
        }
        let chosen = InteractionFormat(rawValue: format) ?? InteractionFormat.guess(fromFileName: path)
        return try Interaction.parse(String(decoding: data, as: UTF8.self), format: chosen)
    }
}

/// The process's peak resident memory.
enum PeakMemory {
    static var mebibytes: Int {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return usage.ru_maxrss / 1024  // kilobytes on Linux
    }
}
