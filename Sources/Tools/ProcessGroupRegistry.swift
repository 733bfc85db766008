import Synchronization

/// Where exec tools' process groups are reported, so something outside agent-repl can kill them if
/// agent-repl dies without doing it itself (SIGKILL, a crash). The executable sets ``shared`` at
/// start to its watchdog's; library code and tests leave it nil and nothing is reported.
///
/// `started` is called right after a tool is spawned (its pid is its group id); `ended` once the
/// group has been sent SIGKILL and before the leader is reaped, while its id cannot be reused yet.
public struct ProcessGroupRegistry: Sendable {
    public var started: @Sendable (Int32) -> Void
    public var ended: @Sendable (Int32) -> Void

    public init(started: @escaping @Sendable (Int32) -> Void, ended: @escaping @Sendable (Int32) -> Void) {
        self.started = started
        self.ended = ended
    }

    /// The registry every `ChildProcess` reports to; nil reports nothing.
    public static var shared: ProcessGroupRegistry? {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    private static let current = Mutex<ProcessGroupRegistry?>(nil)
}
