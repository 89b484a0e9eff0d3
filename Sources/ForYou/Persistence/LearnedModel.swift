// SPDX-License-Identifier: Apache-2.0
//
// A trained model as the engine serves it and stores it: the model, the item ids its dense indices
// stand for, and where it came from. It holds item-side weights only, never a user id or vector.
//
// File format (little-endian), version 3 (this build writes it; it reads versions 1 and 2 too):
//   magic "FYMODEL\0" (8 bytes), format version (UInt32 = 3)
//   version string, trained-at (Int64 ms), users (Int64), events (Int64)   -- provenance, counts only
//   item ids (UInt64 count, then strings)
//   transition configuration (window Int64, step decay Float, history length Int64, history decay Float)
//   transition matrix: row starts [Int64], columns [Int32], values [Float], popularity [Float]
//   ALS configuration (factors, iterations, CG steps, fold-in steps, threads as Int64; seed UInt64;
//   regularization, confidence as Float), item factors (rows Int64, columns Int64, [Float]), gramian (same)
//   blend weight (Float)
//   version 3: whether a learned re-ranking stage follows (UInt8 0 or 1); version 2: it always does;
//   version 1: it never does. Then the stage, if any (LearnedBlend+Encoding.swift)
//   version 3 only: the transition rows' totals [Float], then the stage's successors' [Float] if any
//   (what unlearning needs to subtract counts exactly; recovered from the values for versions 1 and 2)
// Decoding rejects a wrong magic, an unknown version and any truncation with `invalid_argument`.

/// A trained, versioned model with its item id map.
public struct LearnedModel: Sendable {
    /// Identifies the model in every feed it serves (`model_version`): `blend-` and 12 hex digits of
    /// a hash of its weights.
    public var version: String
    public var trainedAt: Timestamp
    /// How many users' and events' data it was trained on (counts only).
    public var users: Int
    public var events: Int
    /// Item id of each dense index of the model.
    public var items: [ItemID]
    public var model: BlendModel

    /// The file format's magic bytes and version.
    public static let magic: [UInt8] = Array("FYMODEL".utf8) + [0]
    /// The newest format this build reads and writes (it reads every earlier one too).
    public static let formatVersion: UInt32 = 3

    public init(trainedAt: Timestamp, users: Int, events: Int, items: [ItemID], model: BlendModel) {
        self.trainedAt = trainedAt
        self.users = users
        self.events = events
        self.items = items
        self.model = model
        self.version = ""
        self.version = "blend-" + Self.hex(stableHash(bytes: encodedWeights()))
    }

    // MARK: - Encoding

    /// The model file's bytes.
    public func encoded() -> [UInt8] {
        var writer = BinaryWriter()
        writer.writeRaw(Self.magic)
        writer.write(Self.formatVersion)
        writer.write(version)
        writer.write(trainedAt.milliseconds)
        writer.write(Int64(users))
        writer.write(Int64(events))
        writer.writeRaw(encodedWeights())
        return writer.bytes
    }

    /// Everything but the header and provenance: what the version hash covers.
    private func encodedWeights() -> [UInt8] {
        var writer = BinaryWriter()
        writer.write(UInt64(items.count))
        for item in items { writer.write(item.rawValue) }
        let t = model.transitions.configuration
        writer.write(Int64(t.window))
        writer.write(t.stepDecay)
        writer.write(Int64(t.historyLength))
        writer.write(t.historyDecay)
        model.transitions.encode(into: &writer)
        let a = model.als.configuration
        for value in [a.factors, a.iterations, a.conjugateGradientSteps, a.foldInSteps, a.threads] { writer.write(Int64(value)) }
        writer.write(a.seed)
        writer.write(a.regularization)
        writer.write(a.confidence)
        for matrix in [model.als.itemFactors, model.als.gramian] {
            writer.write(Int64(matrix.rows))
            writer.write(Int64(matrix.columns))
            writer.write(matrix.storage)
        }
        writer.write(model.transitionsWeight)
        writer.write(UInt8(model.reRanker == nil ? 0 : 1))
        model.reRanker?.encodeReRanking(into: &writer)
        writer.write(model.transitions.rowTotals)
        if let stage = model.reRanker { writer.write(stage.successors.rowTotals) }
        return writer.bytes
    }

    /// Reads a model file.
    /// - Throws: ``ForYouError/Code/invalidArgument`` for a file that is not a ForYou model, of an
    ///   unknown format version, or truncated.
    public init(encoded bytes: [UInt8]) throws {
        var reader = BinaryReader(bytes)
        guard (try? reader.readRaw(Self.magic.count)) == Self.magic else {
            throw ForYouError(.invalidArgument, "not a ForYou model file (bad magic bytes)")
        }
        let format = try reader.read(UInt32.self)
        guard (1...Self.formatVersion).contains(format) else {
            throw ForYouError(.invalidArgument, "model file format \(format) is not supported (this build reads formats 1 to \(Self.formatVersion))")
        }
        version = try reader.readString()
        trainedAt = Timestamp(milliseconds: try reader.read(Int64.self))
        users = Int(try reader.read(Int64.self))
        events = Int(try reader.read(Int64.self))
        let itemCount = try reader.readCount(elementSize: 8)
        items = try (0..<itemCount).map { _ in ItemID(trusted: try reader.readString()) }
        guard Set(items).count == items.count else { throw Self.corrupt("an item id appears twice") }
        var t = ItemTransitionModel.Configuration()
        t.window = Int(try reader.read(Int64.self))
        t.stepDecay = try reader.readFloat()
        t.historyLength = Int(try reader.read(Int64.self))
        t.historyDecay = try reader.readFloat()
        let transitions = try ItemTransitionModel(decodingFrom: &reader, configuration: t, itemCount: itemCount)
        var a = ALSModel.Configuration()
        a.factors = Int(try reader.read(Int64.self))
        a.iterations = Int(try reader.read(Int64.self))
        a.conjugateGradientSteps = Int(try reader.read(Int64.self))
        a.foldInSteps = Int(try reader.read(Int64.self))
        a.threads = Int(try reader.read(Int64.self))
        a.seed = try reader.read(UInt64.self)
        a.regularization = try reader.readFloat()
        a.confidence = try reader.readFloat()
        var matrices: [Matrix] = []
        for _ in 0..<2 {
            let rows = try reader.read(Int64.self)
            let columns = try reader.read(Int64.self)
            let storage = try reader.readFloats()
            guard rows >= 0, columns >= 0, rows <= Int64(Int32.max), columns <= Int64(Int32.max), Int64(storage.count) == rows * columns else {
                throw Self.corrupt("a matrix's shape does not match its values")
            }
            var matrix = Matrix(rows: Int(rows), columns: Int(columns))
            matrix.storage = storage
            matrices.append(matrix)
        }
        var als = ALSModel(configuration: a)
        als.itemFactors = matrices[0]
        als.gramian = matrices[1]
        var model = BlendModel(transitions: t, als: a, transitionsWeight: try reader.readFloat())
        model.transitions = transitions
        model.als = als
        guard (1...1024).contains(a.factors), (0...1000).contains(a.foldInSteps), (0...1000).contains(a.conjugateGradientSteps),
            (1...256).contains(a.threads), a.regularization.isFinite, a.confidence.isFinite,
            als.itemFactors.rows == itemCount, als.itemFactors.columns == a.factors,
            als.gramian.rows == a.factors, als.gramian.columns == a.factors
        else { throw Self.corrupt("the ALS part has an impossible shape or setting") }
        guard model.transitionsWeight.isFinite, (0...1).contains(model.transitionsWeight) else {
            throw Self.corrupt("the blend weight is not in 0...1")
        }
        let hasStage: Bool
        switch format {
        case 1: hasStage = false
        case 2: hasStage = true
        default:
            let flag = try reader.read(UInt8.self)
            guard flag <= 1 else { throw Self.corrupt("the re-ranking stage flag is neither 0 nor 1") }
            hasStage = flag == 1
        }
        if hasStage {
            model.reRanker = try LearnedBlendModel(decodingReRankingFrom: &reader, transitions: transitions, als: als, itemCount: itemCount)
        }
        if format >= 3 {
            func totals() throws -> [Float] {
                let totals = try reader.readFloats()
                guard totals.count == itemCount, totals.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw Self.corrupt("row totals that do not fit the items") }
                return totals
            }
            model.transitions.rowTotals = try totals()
            if model.reRanker != nil { model.reRanker!.successors.rowTotals = try totals() }
        } else {
            model.transitions.recoverRowTotals()
            model.reRanker?.successors.recoverRowTotals()
        }
        if model.reRanker != nil { model.reRanker!.transitions = model.transitions }
        self.model = model
        guard reader.isAtEnd else { throw Self.corrupt("bytes follow the model") }
    }

    private static func corrupt(_ detail: String) -> ForYouError {
        ForYouError(.invalidArgument, "the model file is truncated or corrupt: \(detail)")
    }

    static func hex(_ value: UInt64) -> String {
        let digits = Array("0123456789abcdef")
        return String((0..<12).map { digits[Int((value >> (60 - 4 * UInt64($0))) & 0xF)] })
    }
}

/// FNV-1a over bytes.
func stableHash(bytes: [UInt8]) -> UInt64 {
    var hash: UInt64 = 0xcbf2_9ce4_8422_2325
    for byte in bytes {
        hash ^= UInt64(byte)
        hash &*= 0x100_0000_01b3
    }
    return hash
}
