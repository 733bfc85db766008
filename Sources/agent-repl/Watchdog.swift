import CPosix
import Foundation
import Tools

/// The no-orphan watchdog: a forked helper (C, `cposix_start_watchdog`) that kills every live tool
/// process group once agent-repl is gone, however it ended (SIGKILL and crashes included).
///
/// agent-repl holds the only write end of a pipe (close-on-exec, so no tool inherits it) and writes
/// each exec tool's group id to it when the tool starts, and the negated id once the group has been
/// killed. When agent-repl exits or dies the kernel closes the write end; the watchdog reads end of
/// file, sends SIGKILL to each group still recorded, and exits. It lives in a session of its own
/// with stdin/stdout/stderr on /dev/null and no other descriptor, so the terminal's signals do not
/// reach it and it holds no tool's pipes or the terminal.
enum Watchdog {
    /// Starts the watchdog and points `ProcessGroupRegistry.shared` at it. Call early, before the
    /// `.env` file is read and before any other thread or descriptor exists worth not forking with.
    static func start() throws(Failure) {
        var fd: Int32 = -1
        guard cposix_start_watchdog(&fd) > 0 else { throw Failure(errno: errno) }
        let writeEnd = fd
        ProcessGroupRegistry.shared = ProcessGroupRegistry(
            started: { send(writeEnd, $0) },
            ended: { send(writeEnd, -$0) })
    }

    /// One 4-byte record: a write this small to a pipe is atomic, whichever thread makes it.
    private static func send(_ fd: Int32, _ record: Int32) {
        var value = record
        while write(fd, &value, 4) < 0 && errno == EINTR {}
    }

    struct Failure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String {
            "agent-repl could not start its watchdog: \(String(cString: strerror(errno))). Tools may outlive agent-repl if it is killed."
        }
    }
}
