import Synchronization
@testable import Scheduler

/// A one-way latch: bodies wait for it, the test opens it.
final class Gate: Sendable {
    private let state = Mutex<(open: Bool, waiters: [CheckedContinuation<Void, Never>])>((false, []))

    var isOpen: Bool { state.withLock { $0.open } }

    func open() {
        let waiters = state.withLock { state in
            state.open = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Waits until open; ignores cancellation on purpose (tests use it for bodies that misbehave).
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let openNow = state.withLock { state -> Bool in
                if state.open { return true }
                state.waiters.append(continuation)
                return false
            }
            if openNow { continuation.resume() }
        }
    }
}

/// A shared value the test and a body both touch.
final class Box<Value: Sendable>: Sendable {
    private let state: Mutex<Value>
    init(_ value: Value) { state = Mutex(value) }
    var value: Value { state.withLock { $0 } }
    func set(_ value: Value) { state.withLock { $0 = value } }
    func update<R>(_ body: (inout Value) -> R) -> R { state.withLock { body(&$0) } }
}

/// Polls `condition` until it holds; gives up after many tries (a safety net, not a time budget).
func eventually(_ condition: () -> Bool) async -> Bool {
    for _ in 0..<4000 {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return condition()
}

/// A task's value in the scheduler's tests: text that succeeded, or an error.
enum Reply: TaskResult, Equatable, ExpressibleByStringInterpolation {
    case ok(String)
    case failed(String)

    init(stringLiteral value: String) { self = .ok(value) }

    var succeeded: Bool { if case .ok = self { true } else { false } }
    var summary: String {
        switch self {
        case .ok(let text), .failed(let text): text
        }
    }
}

typealias TestScheduler = Scheduler<Reply>
