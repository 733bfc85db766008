import Synchronization

/// When the last body chunk came off the socket (the `--debug-timing` probe).
public final class ChunkTiming: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)
    public init() {}
    public var lastChunk: ContinuousClock.Instant? { last.withLock { $0 } }
    public func record(_ instant: ContinuousClock.Instant) { last.withLock { $0 = instant } }
}
