// SPDX-License-Identifier: Apache-2.0

/// Durable storage of model files: algorithm packages (see `AlgorithmPackage`), or bare `LearnedModel`
/// files written by earlier versions. Model files hold
/// item-side weights only — no user id or user vector — but those weights are computed from users'
/// events, so erasing a user deletes every stored model (``deleteModels()``).
public protocol ModelStore: Sendable {
    /// Stores a model file durably, replacing any with the same version; keeps at least the latest.
    func saveModel(_ bytes: [UInt8], version: String) async throws
    /// The saved model files, newest first (at least the latest one).
    func savedModels() async throws -> [[UInt8]]
    /// Deletes every stored model file.
    func deleteModels() async throws
}
