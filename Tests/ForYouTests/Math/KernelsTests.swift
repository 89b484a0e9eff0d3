// SPDX-License-Identifier: Apache-2.0

@testable import ForYou
import Testing

struct KernelsTests {
    @Test func dotAndAxpyMatchPlainLoopsForEveryLengthUpTo40() {
        var random = SplitMix64(seed: 1)
        for count in 0...40 {
            let a = (0..<count).map { _ in Float(random.nextUnit()) - 0.5 }
            var b = (0..<count).map { _ in Float(random.nextUnit()) - 0.5 }
            let naiveDot = zip(a, b).reduce(Float(0)) { $0 + $1.0 * $1.1 }
            let dot = a.withUnsafeBufferPointer { x in b.withUnsafeBufferPointer { y in Kernels.dot(x.baseAddress!, y.baseAddress!, count) } }
            #expect(abs(dot - naiveDot) < 1e-5)
            let expected = zip(a, b).map { 0.3 * $0 + $1 }
            a.withUnsafeBufferPointer { x in b.withUnsafeMutableBufferPointer { y in Kernels.axpy(0.3, x.baseAddress!, y.baseAddress!, count) } }
            for (found, wanted) in zip(b, expected) { #expect(abs(found - wanted) < 1e-6) }
        }
    }
}
