import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// Where exec tools' process groups are recorded, so something outside agent-repl can kill them if
/// agent-repl dies without doing it itself (SIGKILL, a crash). The executable sets ``shared`` at
/// start to its watchdog's pipe; library code and tests leave it nil and nothing is recorded.
///
/// `descriptor` is the write end of a pipe taking 4-byte records. A spawned child writes its own
/// pid (its group id) there before its program runs (`cposix_spawn`); ``ended(_:)`` writes the
/// negation once the group has been sent SIGKILL and before the leader is reaped, while its id
/// cannot be reused yet.
public struct ProcessGroupRegistry: Sendable {
    public let descriptor: Int32

    public init(descriptor: Int32) {
        self.descriptor = descriptor
    }

    /// Records that group `pgid` is gone. One 4-byte write to a pipe is atomic, whichever thread
    /// (or child) makes it.
    func ended(_ pgid: Int32) {
        var record = -pgid
        while write(descriptor, &record, 4) < 0 && errno == EINTR {}
    }

    /// The registry every `ChildProcess` records to; nil records nothing.
    public static var shared: ProcessGroupRegistry? {
        get { current.withLock { $0 } }
        set { current.withLock { $0 = newValue } }
    }

    private static let current = Mutex<ProcessGroupRegistry?>(nil)
}
