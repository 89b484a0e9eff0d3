// SPDX-License-Identifier: Apache-2.0

import ArgumentParser
import ForYou
import Foundation

/// `foryou recommend`: the batch interface of PROTOCOL.md, how outsiders evaluate ForYou.
struct RecommendCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recommend",
        abstract: "Train on an interactions file alone and write the top items for each listed user.",
        discussion: """
            The default model, a learned blend of several retrieval models, tunes itself on held-out \
            positions of --interactions (nothing else is read), then is refitted on all of it; what it \
            chose and the held-out scores behind the choice go to standard error. Writes user,rank,item,score with a \
            header, excluding each user's items in --interactions. Users unknown to it get the most \
            popular items. --model picks one of ForYou's models alone, with its defaults, to measure \
            its quality, fit time and memory on its own.
            """
    )

    @Option(help: "Training interactions (CSV user,item,timestamp, or MovieLens u.data / ratings.dat).")
    var interactions: String

    @Option(help: "The users to recommend for, one id a line.")
    var users: String

    @Option(help: "Items per user.")
    var count = 20

    @Option(help: "Where to write user,rank,item,score.")
    var output: String

    @Option(help: "The interactions file's format: auto (from the name), udata, dat or csv.")
    var format = "auto"

    @Option(help: "The model: learned-blend (the default), dlae, ease, rp3beta, slit, als, transitions, itemknn, bpr or popular.")
    var model = "learned-blend"

    /// Each model `--model` names, with its defaults (the learned blend's own components' settings).
    static func makeModel(_ name: String) -> (any SequentialModel)? {
        let blend = LearnedBlendModel.Configuration()
        switch name {
        case "dlae": return EASEModel(configuration: blend.ease)
        case "ease": return EASEModel()
        case "rp3beta": return RP3BetaModel(configuration: blend.rp3)
        case "slit": return SLITModel(configuration: blend.slit)
        case "als": return ALSModel(configuration: blend.als)
        case "transitions": return ItemTransitionModel(configuration: blend.transitions)
        case "itemknn": return ItemKNNModel()
        case "bpr": return BPRModel()
        case "popular": return PopularityModel()
        default: return nil
        }
    }

    func validate() throws {
        guard model == "learned-blend" || Self.makeModel(model) != nil else {
            throw ValidationError("--model must be learned-blend, dlae, ease, rp3beta, slit, als, transitions, itemknn, bpr or popular; got \(model)")
        }
        guard (1...10_000).contains(count) else { throw ValidationError("--count must be in 1...10000, got \(count)") }
        guard format == "auto" || InteractionFormat(rawValue: format) != nil else {
            throw ValidationError("--format must be auto, udata, dat or csv; got \(format)")
        }
    }

    func run() async throws {
        try await reportingErrors {
            let started = ContinuousClock.now
            let all = InteractionSequences(try InteractionFile.read(interactions, format: format))
            guard !all.items.isEmpty else { throw ForYouError(.invalidArgument, "\(interactions) holds no interactions") }
            guard let userText = FileManager.default.contents(atPath: users).map({ String(decoding: $0, as: UTF8.self) }) else {
                throw ForYouError(.invalidArgument, "cannot read the users file \(users)")
            }
            let wanted = userText.split(whereSeparator: \.isNewline).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            printError("\(all.users.count) users and \(all.items.count) items in \(interactions); \(wanted.count) users to recommend for")

            let fitStarted = ContinuousClock.now
            let fitted: any SequentialModel
            if let single = Self.makeModel(model) {
                printError("fitting \(single.name) alone")
                fitted = await Self.fitted(single, on: all)
            } else {
                var blend = LearnedBlendModel()
                printError("fitting the learned blend; it tunes itself on held-out positions of these histories alone")
                await blend.fit(sequences: all.sequences, itemCount: all.items.count) { printError("  \($0)") }
                for line in blend.selection.lines { printError(line) }
                fitted = blend
            }
            let fitSeconds = (ContinuousClock.now - fitStarted).inSeconds
            printError("chose \(fitted.name)")
            printError("fit seconds: \(String(format: "%.3f", fitSeconds)) (tuning and final fit)")
            var popular = PopularityModel()
            await popular.fit(sequences: all.sequences, itemCount: all.items.count)
            let coldStart = popular.recommend(history: [], count: count, itemCount: all.items.count)

            let index = Dictionary(uniqueKeysWithValues: all.users.enumerated().map { ($1, $0) })
            var csv = "user,rank,item,score\n"
            for user in wanted {
                let ranked = index[user].map { fitted.recommend(history: all.sequences[$0], count: count, itemCount: all.items.count) } ?? coldStart
                for (rank, entry) in ranked.enumerated() {
                    csv += "\(CSVText.escape(user)),\(rank + 1),\(CSVText.escape(all.items[Int(entry.item)])),\(entry.score)\n"
                }
            }
            try csv.write(toFile: output, atomically: true, encoding: .utf8)
            printError("wrote \(output) in \(ContinuousClock.now - started)")
        }
    }

    static func fitted<Model: SequentialModel>(_ model: Model, on all: InteractionSequences) async -> Model {
        var model = model
        await model.fit(sequences: all.sequences, itemCount: all.items.count)
        return model
    }
}
