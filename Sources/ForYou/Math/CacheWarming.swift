// SPDX-License-Identifier: Apache-2.0
//
// Reading ahead, for loops over random rows of a large catalogue. Such rows are rarely cached, and a
// loop that reads a row inside its work waits for each miss in turn. A first pass that reads one word
// of every row it is about to use, and nothing else, issues loads that do not depend on each other:
// the processor overlaps their misses, and the work pass then finds the rows cached. hnswlib gets the
// same from prefetch instructions, which Swift cannot emit. The words read are summed into a sink, so
// the optimiser cannot drop the reads.

import Synchronization

enum CacheWarming {
    private static let sink = Atomic<UInt64>(0)

    /// Keeps the reads that produced `value`.
    @inline(__always)
    static func keep(_ value: UInt64) {
        sink.store(value, ordering: .relaxed)
    }

    /// Reads each row of `items` in a row-major matrix of `columns` floats per row: the first and the last
    /// float of the row, so every cache line of a short row is fetched.
    /// - Precondition: every item is a row of the matrix at `rows`.
    @inline(__always)
    static func warmRows(_ items: some Sequence<Int32>, of rows: UnsafePointer<Float>, columns: Int) {
        guard columns > 0 else { return }
        var sum: UInt64 = 0
        for item in items {
            let row = UnsafeRawPointer(rows + Int(item) * columns)
            sum &+= UInt64(row.load(as: UInt32.self))
            var offset = 64
            while offset < columns * 4 {
                sum &+= UInt64(row.load(fromByteOffset: offset, as: UInt32.self))
                offset += 64
            }
            sum &+= UInt64(row.load(fromByteOffset: columns * 4 - 4, as: UInt32.self))
        }
        keep(sum)
    }
}
