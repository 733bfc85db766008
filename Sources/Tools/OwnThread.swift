import Foundation
import Synchronization

/// Runs blocking work (file system calls) on a thread of its own, off Swift's cooperative pool.
///
/// The pool has one thread per core: a few calls blocked in `open` or `read` there would stop every
/// task in the process. Here the caller's task suspends while a new `Thread` runs `body`.
/// Cancelling the task sets the flag `body` is handed (it checks it between steps and throws
/// `CancellationError`); the result comes when `body` returns, so the work is really over by then.
enum OwnThread {
    /// Set when the awaiting task is cancelled; `body` polls it.
    final class Cancellation: Sendable {
        private let flag = Atomic<Bool>(false)
        var isCancelled: Bool { flag.load(ordering: .acquiring) }
        func cancel() { flag.store(true, ordering: .releasing) }
        /// Throws `CancellationError` once cancelled.
        func check() throws(CancellationError) { if isCancelled { throw CancellationError() } }
    }

    static func run<T: Sendable>(name: String, _ body: @escaping @Sendable (Cancellation) throws -> T) async throws -> T {
        let cancellation = Cancellation()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                let thread = Thread {
                    continuation.resume(with: Result { try cancellation.check(); return try body(cancellation) })
                }
                thread.name = name
                thread.start()
            }
        } onCancel: {
            cancellation.cancel()
        }
    }
}
