// SPDX-License-Identifier: Apache-2.0
//
// Little-endian binary writing and reading for model files. Arrays of numbers are written as a
// UInt64 count followed by the values; strings as a UInt64 byte count followed by UTF-8.

/// Appends values to a byte buffer.
struct BinaryWriter {
    private(set) var bytes: [UInt8] = []

    mutating func write<T: FixedWidthInteger>(_ value: T) {
        withUnsafeBytes(of: value.littleEndian) { bytes.append(contentsOf: $0) }
    }
    mutating func write(_ value: Float) { write(value.bitPattern) }
    mutating func write(_ value: String) {
        write(UInt64(value.utf8.count))
        bytes.append(contentsOf: value.utf8)
    }
    mutating func write(_ values: [Float]) {
        write(UInt64(values.count))
        for value in values { write(value.bitPattern) }
    }
    mutating func write(_ values: [Int32]) {
        write(UInt64(values.count))
        for value in values { write(value) }
    }
    mutating func write(_ values: [Int]) {
        write(UInt64(values.count))
        for value in values { write(Int64(value)) }
    }
    mutating func writeRaw(_ raw: [UInt8]) { bytes.append(contentsOf: raw) }
}

/// Reads values back in the order they were written; every read checks the remaining length.
struct BinaryReader {
    private let bytes: [UInt8]
    private(set) var offset = 0
    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    private static func truncated() -> ForYouError { ForYouError(.invalidArgument, "the model file is truncated or corrupt: it ends too early") }

    mutating func read<T: FixedWidthInteger>(_: T.Type) throws -> T {
        let size = MemoryLayout<T>.size
        guard offset + size <= bytes.count else { throw Self.truncated() }
        var value: T = 0
        for index in 0..<size { value |= T(bytes[offset + index]) << (8 * index) }
        offset += size
        return value
    }
    mutating func readFloat() throws -> Float { Float(bitPattern: try read(UInt32.self)) }
    mutating func readCount(elementSize: Int) throws -> Int {
        let count = try read(UInt64.self)
        guard count <= UInt64((bytes.count - offset) / max(1, elementSize)) else { throw Self.truncated() }
        return Int(count)
    }
    mutating func readString() throws -> String {
        let count = try readCount(elementSize: 1)
        defer { offset += count }
        return String(decoding: bytes[offset..<(offset + count)], as: UTF8.self)
    }
    mutating func readFloats() throws -> [Float] {
        let count = try readCount(elementSize: 4)
        return try (0..<count).map { _ in try readFloat() }
    }
    mutating func readInt32s() throws -> [Int32] {
        let count = try readCount(elementSize: 4)
        return try (0..<count).map { _ in try read(Int32.self) }
    }
    mutating func readInts() throws -> [Int] {
        let count = try readCount(elementSize: 8)
        return try (0..<count).map { _ in Int(try read(Int64.self)) }
    }
    mutating func readRaw(_ count: Int) throws -> [UInt8] {
        guard offset + count <= bytes.count else { throw Self.truncated() }
        defer { offset += count }
        return Array(bytes[offset..<(offset + count)])
    }
}
