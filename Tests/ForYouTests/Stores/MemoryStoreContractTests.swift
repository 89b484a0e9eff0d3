// SPDX-License-Identifier: Apache-2.0

import ForYou
import ForYouTesting
import Testing

struct MemoryStoreContractTests {
    @Test(arguments: StoreContract.checks.map(\.name))
    func memoryStoreKeepsTheContract(check: String) async throws {
        let run = StoreContract.checks.first { $0.name == check }!.run
        try await run(MemoryStore())
    }
}
