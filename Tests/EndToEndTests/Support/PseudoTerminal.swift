import Foundation
import Synchronization

/// Runs `agent-repl` on a real pseudo-terminal, as its session leader, so line editing, Ctrl-C
/// (the terminal sends SIGINT) and Ctrl-D behave as they do for a user.
final class PseudoTerminal: @unchecked Sendable {
    let pid: pid_t
    /// The terminal's mode before agent-repl started.
    let initialMode: Mode
    private let master: Int32
    private let transcript = Transcript()
    /// Set once the child is reaped: its pid may then belong to another process.
    private let reaped = Mutex(false)

    init(_ agent: AgentProcess, arguments: [String] = []) throws {
        // posix_openpt/unlockpt/ptsname are not visible from Swift here: their ioctls do the same.
        master = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC)
        var unlock: Int32 = 0
        var number: UInt32 = 0
        var size = winsize(ws_row: 40, ws_col: 120, ws_xpixel: 0, ws_ypixel: 0)
        guard master >= 0,
              ioctl(master, PseudoTerminal.unlockRequest, &unlock) == 0,
              ioctl(master, PseudoTerminal.numberRequest, &number) == 0,
              ioctl(master, UInt(TIOCSWINSZ), &size) == 0
        else {
            throw TestFailure("no pseudo-terminal: errno \(errno)")
        }
        let slavePath = "/dev/pts/\(number)"
        initialMode = Mode(master)

        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        // POSIX_SPAWN_SETSID: a new session, whose first terminal opened becomes its controlling one.
        posix_spawnattr_setflags(&attributes, Int16(0x80))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, slavePath, O_RDWR, 0)
        posix_spawn_file_actions_adddup2(&actions, 0, 1)
        posix_spawn_file_actions_adddup2(&actions, 0, 2)

        // env -C sets the working folder (posix_spawn_file_actions_addchdir_np is not visible either).
        let argv = ["/usr/bin/env", "-C", agent.workingFolder.path, Paths.binary.path] + arguments
        let envp = agent.environment.map { "\($0.key)=\($0.value)" }
        var child: pid_t = 0
        let status = withCStrings(argv) { cArgv in
            withCStrings(envp) { cEnv in
                posix_spawn(&child, argv[0], &actions, &attributes, cArgv, cEnv)
            }
        }
        guard status == 0 else { throw TestFailure("posix_spawn failed: \(status)") }
        pid = child

        let fd = master
        Thread { [transcript] in
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let n = read(fd, &buffer, buffer.count)
                if n > 0 {
                    transcript.bytes.withLock { $0.append(contentsOf: buffer[0..<n]) }
                } else if n < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }.start()
    }

    /// TIOCSPTLCK and TIOCGPTN (asm-generic ioctl numbers), which Swift cannot import as macros.
    private static let unlockRequest = UInt(0x4004_5431)
    private static let numberRequest = UInt(0x8004_5430)

    /// The terminal's settings (what `stty -g` prints), read through the master side.
    struct Mode: Equatable {
        var input: UInt32
        var output: UInt32
        var control: UInt32
        var local: UInt32
        var characters: [UInt8]

        init(_ fd: Int32) {
            var t = termios()
            tcgetattr(fd, &t)
            input = t.c_iflag
            output = t.c_oflag
            control = t.c_cflag
            local = t.c_lflag
            characters = withUnsafeBytes(of: t.c_cc) { Array($0) }
        }
    }

    /// The terminal's mode now.
    var mode: Mode { Mode(master) }

    /// Everything the terminal showed so far, escape sequences included.
    var output: String { transcript.bytes.withLock { String(decoding: $0, as: UTF8.self) } }

    /// Types `text` (use "\r" for Enter, "\u{03}" for Ctrl-C, "\u{04}" for Ctrl-D, "\u{1b}[A" for Up).
    func type(_ text: String) {
        var bytes = Array(text.utf8)
        _ = write(master, &bytes, bytes.count)
    }

    /// Waits until the output after `offset` contains `text`; returns the offset just past it.
    @discardableResult
    func waitFor(_ text: String, after offset: String.Index? = nil, timeout: Duration = .seconds(20)) async throws -> String.Index {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            let current = output
            let start = offset.map { min($0, current.endIndex) } ?? current.startIndex
            if let range = current.range(of: text, range: start..<current.endIndex) { return range.upperBound }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("timed out waiting for \(text.debugDescription); the terminal shows:\n\(output)")
    }

    /// Waits for the process to exit and returns its exit status.
    func waitForExit(timeout: Duration = .seconds(20)) async throws -> Int32 {
        let deadline = ContinuousClock.now + timeout
        var status: Int32 = 0
        while ContinuousClock.now < deadline {
            if waitpid(pid, &status, WNOHANG) == pid {
                reaped.withLock { $0 = true }
                return (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        throw TestFailure("agent-repl did not exit; the terminal shows:\n\(output)")
    }

    deinit {
        if !reaped.withLock({ $0 }) {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            waitpid(pid, &status, 0)
        }
        close(master)
    }
}

private func withCStrings<R>(_ strings: [String], _ body: (UnsafePointer<UnsafeMutablePointer<CChar>?>) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { pointers.forEach { free($0) } }
    return pointers.withUnsafeBufferPointer { body($0.baseAddress!) }
}

private final class Transcript: Sendable {
    let bytes = Mutex(Data())
}
