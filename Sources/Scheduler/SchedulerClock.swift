import Synchronization

/// The scheduler's source of time: a duration since the clock's own epoch, and a way to wait.
public protocol SchedulerClock: Sendable {
    /// Time elapsed since this clock's epoch; never decreases.
    var now: Duration { get }
    /// Returns once `now >= deadline`; throws `CancellationError` if the calling task is cancelled.
    func sleep(until deadline: Duration) async throws
}

/// Real monotonic time (`ContinuousClock`), with the epoch at the clock's creation.
public struct ContinuousSchedulerClock: SchedulerClock {
    private let epoch: ContinuousClock.Instant

    public init() { epoch = .now }

    public var now: Duration { ContinuousClock.now - epoch }

    public func sleep(until deadline: Duration) async throws {
        try await ContinuousClock().sleep(until: epoch + deadline, tolerance: nil)
    }
}

extension SchedulerClock where Self == ContinuousSchedulerClock {
    /// Real monotonic time.
    public static var continuous: ContinuousSchedulerClock { ContinuousSchedulerClock() }
}

/// A clock that moves only when told to, for tests: ``advance(by:)`` wakes the sleepers it passes.
public final class ManualSchedulerClock: SchedulerClock {
    private struct Sleeper {
        var deadline: Duration
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now: Duration = .zero
        var sleepers: [UInt64: Sleeper] = [:]
        var nextSleeper: UInt64 = 0
    }

    private let state = Mutex(State())

    public init(now: Duration = .zero) {
        state.withLock { $0.now = now }
    }

    public var now: Duration { state.withLock { $0.now } }

    /// Sleepers currently waiting (lets tests wait until the driver armed its timer).
    public var sleeperCount: Int { state.withLock { $0.sleepers.count } }

    /// The earliest deadline anyone sleeps until.
    public var nextDeadline: Duration? { state.withLock { $0.sleepers.values.map(\.deadline).min() } }

    /// Moves time forward and wakes every sleeper whose deadline has passed.
    public func advance(by duration: Duration) {
        advance(to: now + duration)
    }

    /// Moves time to `time` (if later) and wakes every sleeper whose deadline has passed.
    public func advance(to time: Duration) {
        let woken: [CheckedContinuation<Void, any Error>] = state.withLock { state in
            if time > state.now { state.now = time }
            let due = state.sleepers.filter { $0.value.deadline <= state.now }
            for key in due.keys { state.sleepers[key] = nil }
            return due.values.map(\.continuation)
        }
        for continuation in woken { continuation.resume() }
    }

    public func sleep(until deadline: Duration) async throws {
        let id = state.withLock { state -> UInt64 in
            state.nextSleeper += 1
            return state.nextSleeper
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let resumeNow: Result<Void, any Error>? = state.withLock { state in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= state.now { return .success(()) }
                    state.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let resumeNow { continuation.resume(with: resumeNow) }
            }
        } onCancel: {
            let continuation = state.withLock { $0.sleepers.removeValue(forKey: id)?.continuation }
            continuation?.resume(throwing: CancellationError())
        }
    }
}
