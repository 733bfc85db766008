import Synchronization

/// The session's running ``ModelUsage``: every turn's ``TurnMeter``, foreground or background job,
/// adds to it as its calls and tools end, so `/stats` is current while a job still runs.
public final class ModelUsageLedger: Sendable {
    private let totals = Mutex(ModelUsage())

    public init() {}

    public var usage: ModelUsage { totals.withLock { $0 } }

    func record(_ call: ModelCall) { totals.withLock { $0.record(call) } }

    func recordToolTime(_ time: Duration) { totals.withLock { $0.recordToolTime(time) } }
}
