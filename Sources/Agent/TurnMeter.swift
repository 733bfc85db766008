import Scheduler
import Synchronization

/// Measures one turn from its events: the model calls it made (`TurnEvent.modelCallEnded`) and the
/// time its tools took, and adds both to the session's ledger as they happen.
///
/// Tool time runs from a step's submission (`toolCallsRequested`) until every call requested so far
/// has its result (`toolFinished`), so calls running in parallel are counted once; calls still
/// without a result when the turn ends (a cancelled turn) are counted until ``finish()``.
public final class TurnMeter: Sendable {
    /// One turn as its footer shows it.
    public struct Summary: Sendable, Equatable {
        public var usage: ModelUsage
        /// From the meter's creation (the turn's start) to ``finish()``.
        public var duration: Duration

        public init(usage: ModelUsage, duration: Duration) {
            self.usage = usage
            self.duration = duration
        }
    }

    private struct State {
        var usage = ModelUsage()
        /// Tool calls requested and not yet finished.
        var unfinishedCalls = 0
        /// When the current run of tools began, while `unfinishedCalls > 0`.
        var toolsSince: Duration?
        var summary: Summary?
    }

    private let clock: any SchedulerClock
    private let ledger: ModelUsageLedger?
    private let started: Duration
    private let state = Mutex(State())

    /// Starts measuring a turn now.
    public init(clock: any SchedulerClock, ledger: ModelUsageLedger? = nil) {
        self.clock = clock
        self.ledger = ledger
        started = clock.now
    }

    /// Takes one event of the turn, in the order they happen.
    public func observe(_ event: TurnEvent) {
        switch event {
        case .modelCallEnded(let call):
            state.withLock { $0.usage.record(call) }
            ledger?.record(call)
        case .toolCallsRequested(let calls) where !calls.isEmpty:
            let now = clock.now
            state.withLock { s in
                if s.unfinishedCalls == 0 { s.toolsSince = now }
                s.unfinishedCalls += calls.count
            }
        case .toolFinished:
            let now = clock.now
            let ended = state.withLock { s -> Duration? in
                guard s.unfinishedCalls > 0 else { return nil }
                s.unfinishedCalls -= 1
                return s.unfinishedCalls == 0 ? endTools(&s, at: now) : nil
            }
            if let ended { ledger?.recordToolTime(ended) }
        case .text, .notice, .toolCallsRequested, .toolStarted:
            break
        }
    }

    /// Ends the turn; later calls return the same summary.
    @discardableResult
    public func finish() -> Summary {
        let now = clock.now
        let (summary, toolTime) = state.withLock { s -> (Summary, Duration?) in
            if let done = s.summary { return (done, nil) }
            let toolTime = s.unfinishedCalls > 0 ? endTools(&s, at: now) : nil
            s.unfinishedCalls = 0
            let summary = Summary(usage: s.usage, duration: now - started)
            s.summary = summary
            return (summary, toolTime)
        }
        if let toolTime { ledger?.recordToolTime(toolTime) }
        return summary
    }

    /// Closes the current run of tools at `now` and returns its length.
    private func endTools(_ s: inout State, at now: Duration) -> Duration {
        let time = now - (s.toolsSince ?? now)
        s.toolsSince = nil
        s.usage.recordToolTime(time)
        return time
    }
}
