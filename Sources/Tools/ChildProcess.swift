import CPosix
import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
import JSON
#endif

/// A child process in its own process group, with its standard streams on pipes.
///
/// Why not swift-subprocess: its output collection waits for end-of-file, which a backgrounded
/// grandchild holding stdout open delays until it dies, and its `Execution` must not outlive the
/// run closure while the scheduler pauses tools from other threads. Here one thread per child moves
/// the bytes with `poll` and, when the child's pidfd says it exited, kills its group while its pid
/// (the group id) is still reserved (`waitid(WNOWAIT)`), then reaps it; signals go to the whole group.
///
/// Invariant: once the child has exited, the group has been sent SIGKILL and no further signal is
/// sent to the (possibly reused) group id.
final class ChildProcess: ExecutionControl, Sendable {
    struct Outcome: Sendable {
        var exitCode: Int32?
        var signal: Int32?
        var stdout: [UInt8]
        var stdoutTotal: Int
        var stderrTail: [UInt8]
        /// User and system CPU time of the child and the descendants it waited for.
        var cpuTime: Duration?
    }

    struct SpawnError: Error, CustomStringConvertible {
        var description: String
    }

    let pid: pid_t
    private let state = Mutex((exited: false, terminating: false))
    private let killGrace: Duration

    private let registry: ProcessGroupRegistry?

    private init(pid: pid_t, killGrace: Duration, registry: ProcessGroupRegistry?) {
        self.pid = pid
        self.killGrace = killGrace
        self.registry = registry
    }

    // MARK: Signals

    func pause() { signalGroup(SIGSTOP) }
    func resume() { signalGroup(SIGCONT) }

    /// SIGTERM (and SIGCONT, so a stopped group receives it), then SIGKILL after the grace period.
    func terminate() {
        let first: Bool = state.withLock { state in
            if state.exited || state.terminating { return false }
            state.terminating = true
            kill(-pid, SIGTERM)
            kill(-pid, SIGCONT)
            return true
        }
        guard first else { return }
        let grace = killGrace
        Thread.detachNewThread { [self] in
            Thread.sleep(forTimeInterval: grace / .seconds(1))
            signalGroup(SIGKILL)
        }
    }

    private func signalGroup(_ signal: Int32) {
        state.withLock { state in
            if !state.exited { _ = kill(-pid, signal) }
        }
    }

    // MARK: Spawning

    /// Starts `argv` (argv[0] an absolute path) with `input` on stdin; `completion` runs once,
    /// after the child is reaped, its group killed and its pipes drained. The group is recorded with
    /// `ProcessGroupRegistry.shared` (agent-repl's watchdog) by the child before its program runs,
    /// and its end once it has been killed.
    static func spawn(
        argv: [String], environment: [String: String], workingDirectory: String?, input: [UInt8],
        outputLimit: Int, stderrLimit: Int = 8192, killGrace: Duration = .milliseconds(500),
        stream: Streaming? = nil,
        completion: @escaping @Sendable (Outcome) -> Void
    ) throws(SpawnError) -> ChildProcess {
        ignoreSIGPIPE
        // The three pipes of the child's streams, or none: a failure (at the open-file limit, say)
        // closes those already made. Only what the child needs is made before it starts; the rest
        // (its pidfd, the thread) after, while its program loads.
        var allFDs: [Int32] = []
        func closeAll() { for fd in allFDs { close(fd) } }
        for _ in 0..<3 {
            do {
                allFDs += try makePipe()
            } catch {
                closeAll()
                throw error
            }
        }
        let stdinPipe = Array(allFDs[0..<2]), stdoutPipe = Array(allFDs[2..<4]), stderrPipe = Array(allFDs[4..<6])

        var cArgv = CStringBlock(), cEnv = CStringBlock()
        for argument in argv { cArgv.add(argument) }
        for (name, value) in environment { cEnv.add(name, equals: value) }
        // The child records its group with the watchdog itself, before its program runs (so no
        // program runs unrecorded, whenever agent-repl dies); `ended` below is ours.
        let registry = ProcessGroupRegistry.shared
        var stage: Int32 = 0, failure: Int32 = 0
        let pid = cArgv.withPointers { cArgv in
            cEnv.withPointers { cEnv in
                cposix_spawn(
                    argv[0], cArgv, cEnv, stdinPipe[0], stdoutPipe[1], stderrPipe[1], workingDirectory,
                    registry?.descriptor ?? -1, &stage, &failure)
            }
        }
        let spawnErrno = errno
        close(stdinPipe[0])
        close(stdoutPipe[1])
        close(stderrPipe[1])
        func closeOurEnds() {
            for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] { close(fd) }
        }
        func reap() {
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
        guard pid > 0 else {
            closeOurEnds()
            throw SpawnError(description: "cannot start \(argv[0]): \(String(cString: strerror(spawnErrno)))")
        }
        guard stage == 0 else {
            registry?.ended(pid)  // the child has exited; its pid stays reserved until it is reaped
            reap()
            closeOurEnds()
            let reason = String(cString: strerror(failure))
            throw SpawnError(description: stage == CPOSIX_SPAWN_FAILED_CHDIR
                ? "cannot use working folder \(workingDirectory ?? "."): \(reason)"
                : "cannot start \(argv[0]): \(reason)")
        }

        let exitFD = cposix_pidfd_open(pid)
        guard exitFD >= 0 else {
            // The program runs already: its group goes as any tool's does when it ends.
            let reason = String(cString: strerror(errno))
            kill(-pid, SIGKILL)
            registry?.ended(pid)
            reap()
            closeOurEnds()
            throw SpawnError(description: "cannot watch \(argv[0]): \(reason)")
        }
        let child = ChildProcess(pid: pid, killGrace: killGrace, registry: registry)
        // Streaming: the caller owns the write end of stdin and gets stdout as it arrives.
        stream?.stdin(stdinPipe[1])
        for fd in [stdinPipe[1], stdoutPipe[0], stderrPipe[0]] {
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        let io = PipePump(
            stdin: stream == nil ? stdinPipe[1] : -1, stdout: stdoutPipe[0], stderr: stderrPipe[0], exit: exitFD,
            input: input, outputLimit: outputLimit, stderrLimit: stderrLimit, stdoutSink: stream?.stdout)
        Thread.detachNewThread {
            let (streams, status) = io.run(reap: child.waitForExit)
            close(exitFD)
            let (code, signal, cpu) = status ?? (nil, nil, nil)
            completion(Outcome(
                exitCode: code, signal: signal, stdout: streams.stdout, stdoutTotal: streams.stdoutTotal, stderrTail: streams.stderrTail,
                cpuTime: cpu))
        }
        return child
    }

    /// A long-running child's streams (an MCP server): `stdin` receives the write end of its stdin (the
    /// receiver closes it) before `spawn` returns; `stdout` gets its output in chunks as it arrives, on
    /// the I/O thread.
    struct Streaming: Sendable {
        var stdin: @Sendable (Int32) -> Void
        var stdout: @Sendable ([UInt8]) -> Void
    }

    /// Waits until the child exits (at once when its pidfd said so); kills its group while its pid is
    /// still reserved, then reaps it (`wait4`, for its CPU time).
    private func waitForExit() -> (Int32?, Int32?, Duration?) {
        var info = siginfo_t()
        while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) != 0 && errno == EINTR {}
        state.withLock { state in
            state.exited = true
            _ = kill(-pid, SIGKILL)  // grandchildren die with the tool
        }
        registry?.ended(pid)  // before the reap, while the group id cannot be reused
        var status: Int32 = 0
        var usage = rusage()
        while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
        func duration(_ t: timeval) -> Duration { .seconds(Int64(t.tv_sec)) + .microseconds(Int64(t.tv_usec)) }
        let cpu = duration(usage.ru_utime) + duration(usage.ru_stime)
        let low = status & 0x7F
        if low == 0 { return ((status >> 8) & 0xFF, nil, cpu) }
        return (nil, low, cpu)
    }

    /// CPU time and time waiting for a CPU so far of the live processes of the child's group, read from
    /// `/proc`; nil once the child has exited or where there is no `/proc`.
    func cpuReading() -> (cpu: Duration, waited: Duration)? {
        guard !state.withLock({ $0.exited }) else { return nil }
        return ProcessGroupCPU.reading(ofGroup: pid)
    }

    private static func makePipe() throws(SpawnError) -> [Int32] {
        var fds: [Int32] = [-1, -1]
        guard cposix_pipe_cloexec(&fds) == 0 else { throw SpawnError(description: "cannot create a pipe: \(String(cString: strerror(errno)))") }
        return fds
    }

    /// A write to a pipe whose reader died must fail with EPIPE, not kill the REPL.
    private static let ignoreSIGPIPE: Void = { _ = signal(SIGPIPE, SIG_IGN) }()
}

/// NUL-terminated strings in one buffer, for argv and envp: one allocation for them all rather than one
/// per string.
private struct CStringBlock {
    private var bytes: [UInt8] = []
    private var starts: [Int] = []

    /// Adds one string.
    mutating func add(_ string: String) {
        starts.append(bytes.count)
        bytes += string.utf8
        bytes.append(0)
    }

    /// Adds "NAME=VALUE".
    mutating func add(_ name: String, equals value: String) {
        starts.append(bytes.count)
        bytes += name.utf8
        bytes.append(UInt8(ascii: "="))
        bytes += value.utf8
        bytes.append(0)
    }

    /// The strings' pointers followed by a null pointer, valid inside `body` (which must not write
    /// through them: `execve` does not).
    func withPointers<R>(_ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
        bytes.withUnsafeBytes { buffer in
            var pointers: [UnsafeMutablePointer<CChar>?] = []
            pointers.reserveCapacity(starts.count + 1)
            for start in starts {
                pointers.append(UnsafeMutablePointer(mutating: (buffer.baseAddress! + start).assumingMemoryBound(to: CChar.self)))
            }
            pointers.append(nil)
            return body(pointers)
        }
    }
}

/// Writes stdin and reads stdout and stderr until the child is gone and the pipes are drained.
private struct PipePump: Sendable {
    let stdinFD: Int32, stdoutFD: Int32, stderrFD: Int32, exitFD: Int32
    let input: [UInt8]
    let outputLimit: Int, stderrLimit: Int
    /// Where stdout goes when it is streamed instead of collected.
    let stdoutSink: (@Sendable ([UInt8]) -> Void)?

    /// `stdin` -1: the caller writes the child's stdin itself. `exit`: the child's pidfd.
    init(stdin: Int32, stdout: Int32, stderr: Int32, exit: Int32, input: [UInt8], outputLimit: Int, stderrLimit: Int,
         stdoutSink: (@Sendable ([UInt8]) -> Void)? = nil) {
        (stdinFD, stdoutFD, stderrFD, exitFD) = (stdin, stdout, stderr, exit)
        self.input = input
        self.outputLimit = outputLimit
        self.stderrLimit = stderrLimit
        self.stdoutSink = stdoutSink
    }

    /// `reap` runs once the pidfd says the child exited; its status is returned with the streams (nil
    /// only if the pipes were given up on first, which the loop does not do before the exit).
    func run(reap: () -> (Int32?, Int32?, Duration?)) -> (
        streams: (stdout: [UInt8], stdoutTotal: Int, stderrTail: [UInt8]), status: (Int32?, Int32?, Duration?)?
    ) {
        var status: (Int32?, Int32?, Duration?)?
        var stdinOpen = true, stdoutOpen = true, stderrOpen = true
        var written = 0
        var stdout: [UInt8] = [], stdoutTotal = 0
        var stderr: [UInt8] = []
        var childGone = false
        var drainDeadline: ContinuousClock.Instant?
        var buffer = [UInt8](repeating: 0, count: 65536)

        if stdinFD < 0 {
            stdinOpen = false
        } else if input.isEmpty {
            close(stdinFD)
            stdinOpen = false
        }

        while stdoutOpen || stderrOpen || !childGone {
            var fds: [pollfd] = []
            if stdinOpen { fds.append(pollfd(fd: stdinFD, events: Int16(POLLOUT), revents: 0)) }
            if stdoutOpen { fds.append(pollfd(fd: stdoutFD, events: Int16(POLLIN), revents: 0)) }
            if stderrOpen { fds.append(pollfd(fd: stderrFD, events: Int16(POLLIN), revents: 0)) }
            if !childGone { fds.append(pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)) }
            var timeout: Int32 = -1
            if let drainDeadline {
                let left = drainDeadline - .now
                if left <= .zero { break }  // something outside the group holds the pipes open
                timeout = Int32(max(1, (left / .milliseconds(1)).rounded(.up)))
            }
            let n = poll(&fds, nfds_t(fds.count), timeout)
            if n < 0 && errno == EINTR { continue }
            if n <= 0 { continue }
            for p in fds where p.revents != 0 {
                switch p.fd {
                case stdinFD:
                    let count = input.count - written
                    let w = input.withUnsafeBytes { write(stdinFD, $0.baseAddress! + written, count) }
                    if w > 0 { written += w }
                    if (w < 0 && errno != EAGAIN && errno != EINTR) || written >= input.count {
                        close(stdinFD)  // EOF for the tool, or it stopped reading (EPIPE)
                        stdinOpen = false
                    }
                case stdoutFD, stderrFD:
                    let r = read(p.fd, &buffer, buffer.count)
                    if r > 0 {
                        if p.fd == stdoutFD, let stdoutSink {
                            stdoutSink(Array(buffer[0..<r]))
                        } else if p.fd == stdoutFD {
                            stdoutTotal += r
                            if stdout.count < outputLimit { stdout += buffer[0..<min(r, outputLimit - stdout.count)] }
                        } else {
                            stderr += buffer[0..<r]
                            if stderr.count > stderrLimit { stderr.removeFirst(stderr.count - stderrLimit) }
                        }
                    } else if r == 0 || (errno != EAGAIN && errno != EINTR) {
                        close(p.fd)
                        if p.fd == stdoutFD { stdoutOpen = false } else { stderrOpen = false }
                    }
                default:  // the pidfd: the child exited; its group is killed and it is reaped
                    status = reap()
                    childGone = true
                    drainDeadline = .now + .seconds(2)
                }
            }
        }
        if stdinOpen { close(stdinFD) }
        if stdoutOpen { close(stdoutFD) }
        if stderrOpen { close(stderrFD) }
        return ((stdout, stdoutTotal, stderr), status)
    }
}
