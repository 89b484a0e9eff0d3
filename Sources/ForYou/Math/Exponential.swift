// SPDX-License-Identifier: Apache-2.0

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// e raised to `x`. The few libm functions the engine needs live here, so no other file imports libc.
@inline(__always)
func exponential(_ x: Double) -> Double { exp(x) }

/// The natural logarithm of `x`.
@inline(__always)
func logarithm(_ x: Double) -> Double { log(x) }

/// `x` raised to `y`.
@inline(__always)
func power(_ x: Double, _ y: Double) -> Double { pow(x, y) }
