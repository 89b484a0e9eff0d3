// SPDX-License-Identifier: Apache-2.0
//
// The byte format of an index (little-endian, written with BinaryWriter):
//
//   "FYHNSW"            6 bytes, the magic
//   version             UInt32, currently 1
//   dimension, m, efConstruction, efSearch   Int64 each
//   seed                UInt64
//   construction        UInt8 (Construction.rawValue)
//   entryPoint          Int32 (-1 when empty)
//   maxLevel, liveCount, deletedCount         Int64 each
//   maxSquaredNorm      Float
//   levels              [Int32]  per slot, -1 for a free slot
//   vectors             [Float]  slots × dimension (unpadded)
//   links0              [Int32]  slots × (1 + 2M)
//   upperOffset         [Int]    per slot
//   upper               [Int32]
//   augment             [Float]  per slot
//   squaredNorms        [Float]  per slot
//   deleted             [Int]    bitset words
//
// Loading checks every count and link against the header, so a corrupt file throws instead of
// letting the unchecked search loop read out of bounds.

extension HNSWIndex {
    static let magic: [UInt8] = Array("FYHNSW".utf8)
    static let formatVersion: UInt32 = 1

    /// The index as bytes, for ``init(bytes:)``.
    /// - Complexity: O(size of the index).
    public func serialized() -> [UInt8] {
        let storage = storage
        var writer = BinaryWriter()
        writer.writeRaw(Self.magic)
        writer.write(Self.formatVersion)
        for value in [dimension, configuration.m, configuration.efConstruction, configuration.efSearch] { writer.write(Int64(value)) }
        writer.write(configuration.seed)
        writer.write(configuration.construction.rawValue)
        writer.write(storage.entryPoint)
        for value in [storage.maxLevel, storage.liveCount, storage.deletedCount] { writer.write(Int64(value)) }
        writer.write(storage.maxSquaredNorm)
        writer.write(storage.levels.buffer.map(Int32.init))
        var vectors: [Float] = []
        vectors.reserveCapacity(storage.slotCount * dimension)
        for slot in 0..<storage.slotCount {
            vectors.append(contentsOf: UnsafeBufferPointer(start: storage.nodes.vector(slot), count: dimension))
        }
        writer.write(vectors)
        var links0: [Int32] = []
        links0.reserveCapacity(storage.slotCount * storage.linkStride0)
        for slot in 0..<storage.slotCount {
            links0.append(contentsOf: UnsafeBufferPointer(start: storage.nodes.links(slot), count: storage.linkStride0))
        }
        writer.write(links0)
        writer.write(Array(storage.upperOffset.buffer))
        writer.write(Array(storage.upper.buffer))
        writer.write(Array(storage.augment.buffer))
        writer.write(Array(storage.squaredNorms.buffer))
        writer.write(storage.deleted.buffer.map { Int(Int64(bitPattern: $0)) })
        return writer.bytes
    }

    /// An index read back from ``serialized()`` bytes.
    /// - Throws: ``ForYouError/Code/invalidArgument`` when the bytes are not an index of a known version,
    ///   are truncated, or are inconsistent.
    public init(bytes: [UInt8]) throws {
        func corrupt(_ rule: String) -> ForYouError { ForYouError(.invalidArgument, "the index bytes are corrupt: \(rule)") }
        var reader = BinaryReader(bytes)
        guard try reader.readRaw(Self.magic.count) == Self.magic else { throw corrupt("they do not start with \"FYHNSW\"") }
        let version = try reader.read(UInt32.self)
        guard version == Self.formatVersion else {
            throw ForYouError(.invalidArgument, "the index format version must be \(Self.formatVersion), got \(version)")
        }
        let dimension = Int(try reader.read(Int64.self))
        var configuration = Configuration()
        configuration.m = Int(try reader.read(Int64.self))
        configuration.efConstruction = Int(try reader.read(Int64.self))
        configuration.efSearch = Int(try reader.read(Int64.self))
        configuration.seed = try reader.read(UInt64.self)
        guard let construction = Construction(rawValue: try reader.read(UInt8.self)) else { throw corrupt("unknown construction") }
        configuration.construction = construction
        try self.init(dimension: dimension, configuration: configuration)
        let storage = storage
        storage.entryPoint = try reader.read(Int32.self)
        storage.maxLevel = Int(try reader.read(Int64.self))
        storage.liveCount = Int(try reader.read(Int64.self))
        storage.deletedCount = Int(try reader.read(Int64.self))
        storage.maxSquaredNorm = try reader.readFloat()
        let levels = try reader.readInt32s()
        let slots = levels.count
        let vectors = try reader.readFloats()
        let links0 = try reader.readInt32s()
        let upperOffset = try reader.readInts()
        let upper = try reader.readInt32s()
        let augment = try reader.readFloats()
        let squaredNorms = try reader.readFloats()
        let deleted = try reader.readInts()
        guard reader.isAtEnd else { throw corrupt("bytes follow the last array") }
        guard vectors.count == slots * dimension, links0.count == slots * storage.linkStride0, upperOffset.count == slots,
            augment.count == slots, squaredNorms.count == slots, deleted.count == (slots + 63) / 64
        else { throw corrupt("array lengths disagree with the slot count") }
        guard vectors.allSatisfy(\.isFinite) else { throw corrupt("a vector holds a non-finite value") }

        if slots > 0 { storage.ensureSlot(Int32(slots - 1)) }
        for slot in 0..<slots {
            guard (-1...32).contains(levels[slot]) else { throw corrupt("level out of range") }
            storage.levels[slot] = Int8(levels[slot])
            vectors.withUnsafeBufferPointer {
                storage.nodes.vector(slot).update(from: $0.baseAddress! + slot * dimension, count: dimension)
            }
            links0.withUnsafeBufferPointer {
                storage.nodes.links(slot).update(from: $0.baseAddress! + slot * storage.linkStride0, count: storage.linkStride0)
            }
            storage.upperOffset[slot] = upperOffset[slot]
            storage.augment[slot] = augment[slot]
            storage.squaredNorms[slot] = squaredNorms[slot]
        }
        upper.withUnsafeBufferPointer { storage.upper.append(contentsOf: $0) }
        for (word, value) in deleted.enumerated() { storage.deleted[word] = UInt64(bitPattern: Int64(value)) }

        // Every list must fit its capacity and name linked slots of at least its level.
        for slot in 0..<slots where levels[slot] >= 0 {
            let level = Int(levels[slot])
            if level > 0 {
                guard upperOffset[slot] >= 0, upperOffset[slot] + level * storage.linkStride <= upper.count else {
                    throw corrupt("an upper-level offset is out of range")
                }
            }
            for layer in 0...level {
                let list = storage.links(Int32(slot), level: layer)
                guard (0...storage.capacity(level: layer)).contains(Int(list[0])) else { throw corrupt("a link count is out of range") }
                for position in 0..<Int(list[0]) {
                    let neighbor = list[1 + position]
                    guard neighbor >= 0, Int(neighbor) < slots, levels[Int(neighbor)] >= layer else { throw corrupt("a link names a missing node") }
                }
            }
        }
        let linked = levels.indices.filter { levels[$0] >= 0 }
        let tombstones = linked.filter { storage.isDeleted(Int32($0)) }.count
        guard storage.liveCount == linked.count - tombstones, storage.deletedCount == tombstones else {
            throw corrupt("the live and removed counts disagree with the nodes")
        }
        if linked.isEmpty {
            guard storage.entryPoint == -1 else { throw corrupt("an empty index has an entry point") }
        } else {
            guard storage.isLinked(storage.entryPoint), Int(levels[Int(storage.entryPoint)]) == storage.maxLevel else {
                throw corrupt("the entry point is not a node of the top level")
            }
        }
    }
}
