import Synchronization

/// A set of model names that the copies of one client share: the models an endpoint answered in a
/// way that changes how they are asked from then on (`StreamingFallback`, `ResponsesClient`).
final class ModelSet: Sendable {
    private let models = Mutex<Set<String>>([])

    func contains(_ model: String) -> Bool { models.withLock { $0.contains(model) } }

    /// Adds `model`; true when it was not in the set yet.
    @discardableResult
    func insert(_ model: String) -> Bool { models.withLock { $0.insert(model).inserted } }
}
