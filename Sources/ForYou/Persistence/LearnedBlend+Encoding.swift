// SPDX-License-Identifier: Apache-2.0
//
// The learned re-ranking stage in a model file (format versions 2 and 3, see LearnedModel.swift). It follows
// the blend's own transitions and ALS, which it shares and does not repeat:
//   candidates per model (Int64), re-rank depth (Int64)
//   SLIT history length (Int64), SLIT decay (Float)
//   successors (window-1 transitions): row starts [Int64], columns [Int32], values [Float], popularity [Float]
//   SLIT weights, DLAE weights: each modelled items [Int32], then the weights [Float] (modelled² values)
//   RP3beta neighbours: row starts [Int64], items [Int32], weights [Float]
//   popularity (users per item) [Float], linear weights [Float] (one per LearnedBlend.Component)
//   the forest (RegressionForest encoding)
// Decoding checks every shape against the item count, so a corrupt file is refused, never served.

extension LearnedBlendModel {
    /// Writes what the blend does not already hold.
    func encodeReRanking(into writer: inout BinaryWriter) {
        writer.write(Int64(configuration.candidatesPerModel))
        writer.write(Int64(configuration.reRankDepth))
        writer.write(Int64(slit.configuration.historyLength))
        writer.write(slit.configuration.decay)
        successors.encode(into: &writer)
        for matrix in [slit.matrix, ease.matrix] {
            writer.write(matrix.modelled)
            writer.write(matrix.weights.storage)
        }
        var rowStart = [0]
        var items: [Int32] = []
        var weights: [Float] = []
        for row in rp3.neighbours {
            for (item, weight) in row {
                items.append(item)
                weights.append(weight)
            }
            rowStart.append(items.count)
        }
        writer.write(rowStart)
        writer.write(items)
        writer.write(weights)
        writer.write(popularity)
        writer.write(linearWeights)
        forest.encode(into: &writer)
    }

    /// Reads the stage back around the blend's fitted transitions and ALS.
    /// - Throws: ``ForYouError/Code/invalidArgument`` naming the part that is truncated or impossible.
    init(decodingReRankingFrom reader: inout BinaryReader, transitions: ItemTransitionModel, als: ALSModel, itemCount: Int) throws {
        func corrupt(_ detail: String) -> ForYouError {
            ForYouError(.invalidArgument, "the model file is truncated or corrupt: the re-ranking stage has \(detail)")
        }
        var configuration = Configuration()
        configuration.transitions = transitions.configuration
        configuration.als = als.configuration
        configuration.candidatesPerModel = Int(try reader.read(Int64.self))
        configuration.reRankDepth = Int(try reader.read(Int64.self))
        configuration.slit.historyLength = Int(try reader.read(Int64.self))
        configuration.slit.decay = try reader.readFloat()
        guard (1...1000).contains(configuration.candidatesPerModel), (1...10_000).contains(configuration.reRankDepth),
            (1...1000).contains(configuration.slit.historyLength), configuration.slit.decay.isFinite
        else { throw corrupt("an impossible setting") }
        self.init(configuration: configuration)
        self.transitions = transitions
        self.als = als
        successors = try ItemTransitionModel(decodingFrom: &reader, configuration: successors.configuration, itemCount: itemCount)
        var matrices: [DenseItemWeights] = []
        for _ in 0..<2 {
            let modelled = try reader.readInt32s()
            let values = try reader.readFloats()
            guard zip(modelled, modelled.dropFirst()).allSatisfy({ $0 < $1 }), modelled.allSatisfy({ $0 >= 0 && Int($0) < itemCount }),
                values.count == modelled.count * modelled.count, values.allSatisfy(\.isFinite)
            else { throw corrupt("an item-item matrix that does not fit the items") }
            var matrix = DenseItemWeights(modelled: modelled, itemCount: itemCount)
            matrix.weights.storage = values
            matrices.append(matrix)
        }
        slit.matrix = matrices[0]
        ease.matrix = matrices[1]
        let rowStart = try reader.readInts()
        let items = try reader.readInt32s()
        let weights = try reader.readFloats()
        guard rowStart.count == itemCount + 1, rowStart.first == 0, rowStart.last == items.count, weights.count == items.count,
            zip(rowStart, rowStart.dropFirst()).allSatisfy({ $0 <= $1 }), items.allSatisfy({ $0 >= 0 && Int($0) < itemCount }),
            weights.allSatisfy(\.isFinite)
        else { throw corrupt("RP3beta neighbours that are not a valid sparse matrix over the items") }
        rp3.neighbours = (0..<itemCount).map { row in (rowStart[row]..<rowStart[row + 1]).map { (items[$0], weights[$0]) } }
        let popularity = try reader.readFloats()
        let linear = try reader.readFloats()
        guard popularity.count == itemCount, popularity.allSatisfy({ $0.isFinite && $0 >= 0 }),
            linear.count == LearnedBlend.Component.allCases.count, linear.allSatisfy(\.isFinite)
        else { throw corrupt("popularity or blend weights of the wrong length") }
        self.popularity = popularity
        linearWeights = linear
        forest = try RegressionForest(from: &reader)
        guard forest.featureCount == LearnedBlend.featureCount else { throw corrupt("a forest over \(forest.featureCount) features") }
    }
}

extension ItemTransitionModel {
    /// Writes the fitted matrix (compressed sparse rows) and popularity; the configuration is the caller's.
    func encode(into writer: inout BinaryWriter) {
        writer.write(rowStart)
        writer.write(columns)
        writer.write(values)
        writer.write(popularity)
    }

    /// Reads what ``encode(into:)`` wrote, checking it is valid compressed sparse rows over `itemCount` items.
    init(decodingFrom reader: inout BinaryReader, configuration: Configuration, itemCount: Int) throws {
        self.init(configuration: configuration)
        rowStart = try reader.readInts()
        columns = try reader.readInt32s()
        values = try reader.readFloats()
        popularity = try reader.readFloats()
        let c = configuration
        guard (1...1000).contains(c.window), (1...1000).contains(c.historyLength), c.stepDecay.isFinite, c.historyDecay.isFinite,
            rowStart.count == itemCount + 1, rowStart.first == 0, rowStart.last == columns.count,
            values.count == columns.count, popularity.count == itemCount,
            zip(rowStart, rowStart.dropFirst()).allSatisfy({ $0 <= $1 }),
            columns.allSatisfy({ $0 >= 0 && Int($0) < itemCount }), values.allSatisfy(\.isFinite)
        else {
            throw ForYouError(.invalidArgument, "the model file is truncated or corrupt: the transition part is not a valid sparse matrix over the items")
        }
    }
}
