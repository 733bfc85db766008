import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A long-running child (an MCP server over stdio) in its own process group, recorded with the
/// no-orphan watchdog like every tool: lines in on stdin, output handed over as it arrives.
public final class ServerProcess: Sendable {
    /// How the process ended.
    public struct Exit: Sendable, Equatable, CustomStringConvertible {
        public var status: Int32?
        public var signal: Int32?
        /// The end of what it wrote to stderr.
        public var stderrTail: String

        public var description: String {
            let how = signal.map { "was killed by signal \($0)" } ?? "exited with status \(status.map(String.init) ?? "?")"
            let last = stderrTail.split(separator: "\n").last.map { ": \($0)" } ?? ""
            return how + last
        }
    }

    private let child: ChildProcess
    /// The write end of the child's stdin; -1 once closed.
    private let stdin: Mutex<Int32>

    private init(child: ChildProcess, stdin: Int32) {
        self.child = child
        self.stdin = Mutex(stdin)
    }

    /// Starts `argv` (argv[0] an absolute path) with the environment filtered like an exec tool's
    /// (secrets withheld unless in `passEnv`). `output` and `exited` run on the I/O thread.
    public static func start(
        argv: [String], baseEnvironment: [String: String], passEnv: [String], env: [String: String], workingDirectory: String?,
        output: @escaping @Sendable ([UInt8]) -> Void, exited: @escaping @Sendable (Exit) -> Void
    ) throws -> ServerProcess {
        let environment = ToolEnvironment.Base(baseEnvironment).make(passEnv: passEnv, extra: env)
        let stdinFD = Mutex<Int32>(-1)
        let child = try ChildProcess.spawn(
            argv: argv, environment: environment, workingDirectory: workingDirectory, input: [], outputLimit: 0,
            stream: ChildProcess.Streaming(stdin: { fd in stdinFD.withLock { $0 = fd } }, stdout: output)
        ) { outcome in
            exited(Exit(status: outcome.exitCode, signal: outcome.signal, stderrTail: String(decoding: outcome.stderrTail, as: UTF8.self)))
        }
        return ServerProcess(child: child, stdin: stdinFD.withLock { $0 })
    }

    public enum WriteOutcome: Sendable, Equatable {
        case written
        /// Its stdin is closed (stopped, or the child exited).
        case closed
        /// The child did not read for the whole patience (its pipe stayed full).
        case stalled
    }

    /// Writes all of `bytes` to its stdin (non-blocking, waiting for room at most `patience`).
    public func write(_ bytes: [UInt8], patience: Duration = .seconds(5)) -> WriteOutcome {
        let deadline = ContinuousClock.now + patience
        return stdin.withLock { fd in
            guard fd >= 0 else { return .closed }
            var written = 0
            while written < bytes.count {
                let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + written, bytes.count - written) }
                if n > 0 {
                    written += n
                } else if n < 0 && errno == EINTR {
                    continue
                } else if n < 0 && errno == EAGAIN {
                    let left = deadline - .now
                    guard left > .zero else { return .stalled }
                    var p = pollfd(fd: fd, events: Int16(POLLOUT), revents: 0)
                    _ = poll(&p, 1, Int32(max(1, min(left / .milliseconds(1), 60_000))))
                } else {
                    return .closed
                }
            }
            return .written
        }
    }

    /// Stops its group (SIGTERM, SIGKILL after the grace period) and closes its stdin.
    public func stop() {
        child.terminate()
        stdin.withLock { fd in
            if fd >= 0 { close(fd) }
            fd = -1
        }
    }
}
