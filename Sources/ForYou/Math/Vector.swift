// SPDX-License-Identifier: Apache-2.0
//
// Dense float kernels over contiguous rows of a row-major matrix: SIMD8 lanes with plain multiply-add
// (a fused `addProduct` compiles to a libm call at the default target, see SWIFT-NOTES.md), reduced by
// halves. The models call them with pointers into their own `Matrix` storage, inside
// `withUnsafe…BufferPointer` scopes, after checking shapes.

/// A row-major matrix of Float in one contiguous array.
public struct Matrix: Sendable, Equatable {
    public let rows: Int
    public let columns: Int
    public var storage: [Float]

    public init(rows: Int, columns: Int, repeating value: Float = 0) {
        self.rows = rows
        self.columns = columns
        storage = [Float](repeating: value, count: rows * columns)
    }

    /// Small random values in ±scale/2, from a seeded generator.
    public init(rows: Int, columns: Int, randomScale scale: Float, seed: UInt64) {
        var random = SplitMix64(seed: seed)
        self.rows = rows
        self.columns = columns
        storage = (0..<(rows * columns)).map { _ in (Float(random.nextUnit()) - 0.5) * scale }
    }

    public subscript(row: Int, column: Int) -> Float {
        get { storage[row * columns + column] }
        set { storage[row * columns + column] = newValue }
    }
}

enum Kernels {
    /// Σ a[i] · b[i] over `count` floats.
    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ count: Int) -> Float {
        var sum = SIMD8<Float>()
        var i = 0
        while i + 8 <= count {
            sum += UnsafeRawPointer(a + i).loadUnaligned(as: SIMD8<Float>.self) * UnsafeRawPointer(b + i).loadUnaligned(as: SIMD8<Float>.self)
            i += 8
        }
        let half = sum.lowHalf + sum.highHalf
        let quarter = half.lowHalf + half.highHalf
        var total = quarter[0] + quarter[1]
        while i < count {
            total += a[i] * b[i]
            i += 1
        }
        return total
    }

    /// y[i] += alpha · x[i] over `count` floats.
    @inline(__always)
    static func axpy(_ alpha: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ count: Int) {
        let a = SIMD8<Float>(repeating: alpha)
        var i = 0
        while i + 8 <= count {
            let result = UnsafeRawPointer(y + i).loadUnaligned(as: SIMD8<Float>.self) + a * UnsafeRawPointer(x + i).loadUnaligned(as: SIMD8<Float>.self)
            UnsafeMutableRawPointer(y + i).storeBytes(of: result, as: SIMD8<Float>.self)
            i += 8
        }
        while i < count {
            y[i] += alpha * x[i]
            i += 1
        }
    }
}
