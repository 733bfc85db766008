import CPosix
import Foundation
import Tools

/// The no-orphan watchdog: a forked helper (C, `cposix_start_watchdog`) that kills every live tool
/// process group once agent-repl is gone, however it ended (SIGKILL and crashes included).
///
/// agent-repl holds the only write end of a pipe (close-on-exec, so no tool inherits it). Each exec
/// tool's child writes its group id to it before its program runs, and agent-repl the negated id
/// once the group has been killed (`ProcessGroupRegistry`). When agent-repl exits or dies the
/// kernel closes the write end; the watchdog reads end of file, sends SIGKILL to each group still
/// recorded, and exits. It lives in a session of its own
/// with stdin/stdout/stderr on /dev/null and no other descriptor, so the terminal's signals do not
/// reach it and it holds no tool's pipes or the terminal.
enum Watchdog {
    /// Starts the watchdog and points `ProcessGroupRegistry.shared` at it. Call early, before the
    /// `.env` file is read and before any other thread or descriptor exists worth not forking with.
    static func start() throws(Failure) {
        var fd: Int32 = -1
        guard cposix_start_watchdog(&fd) > 0 else { throw Failure(errno: errno) }
        ProcessGroupRegistry.shared = ProcessGroupRegistry(descriptor: fd)
    }

    struct Failure: Error, CustomStringConvertible {
        var errno: Int32
        var description: String {
            "agent-repl could not start its watchdog: \(String(cString: strerror(errno))). Tools may outlive agent-repl if it is killed."
        }
    }
}
