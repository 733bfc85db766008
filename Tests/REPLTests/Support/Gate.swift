import Synchronization

/// Holds a scripted answer back until the test opens it.
final class Gate: Sendable {
    private let open = Mutex(false)
    var isOpen: Bool { open.withLock { $0 } }
    func release() { open.withLock { $0 = true } }
}
