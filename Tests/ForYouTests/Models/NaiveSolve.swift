// SPDX-License-Identifier: Apache-2.0

/// The solution x of a · x = b by Gaussian elimination without pivoting, in Double: the naive maths
/// the closed-form models (EASE/DLAE, SLIT) are checked against on tiny, well-conditioned inputs.
func naiveSolve(_ a: [[Double]], _ b: [Double]) -> [Double] {
    let n = b.count
    var m = a
    var rhs = b
    for k in 0..<n {
        for i in (k + 1)..<n {
            let f = m[i][k] / m[k][k]
            for j in k..<n { m[i][j] -= f * m[k][j] }
            rhs[i] -= f * rhs[k]
        }
    }
    var x = [Double](repeating: 0, count: n)
    for i in stride(from: n - 1, through: 0, by: -1) { x[i] = (rhs[i] - ((i + 1)..<n).reduce(0.0) { $0 + m[i][$1] * x[$1] }) / m[i][i] }
    return x
}
