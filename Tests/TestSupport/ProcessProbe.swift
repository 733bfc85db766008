import Foundation
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// What tests see of real processes: their state in /proc, whether they are gone, pid files.
///
/// Every wait here has a bound, so a test whose stop is broken fails with a message instead of
/// hanging. The bounds are generous (a loaded machine is slow), and far below the natural end of the
/// fixtures they watch (minutes), so "gone within the bound" proves "stopped", not "ended alone".
public enum Proc {
    /// The default bound of a wait: far from any fixture's natural end, ample for a loaded machine.
    public static let patience: Duration = .seconds(30)

    /// The state letter from /proc/PID/stat (R, S, D, T, Z, ...), or nil when there is no such process.
    public static func state(_ pid: Int32) -> Character? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = text.lastIndex(of: ")")
        else { return nil }
        return text[text.index(close, offsetBy: 2)]
    }

    /// Gone, or a zombie waiting to be reaped: either way it no longer runs.
    public static func isDead(_ pid: Int32) -> Bool {
        guard let s = state(pid) else { return true }
        return s == "Z" || s == "X"
    }

    /// Stopped by a signal (state T).
    public static func isStopped(_ pid: Int32) -> Bool { state(pid) == "T" }

    /// Polls `condition` every 20 ms until it holds, `limit` has passed or the test was cancelled
    /// (its time limit).
    public static func eventually(within limit: Duration = patience, _ condition: () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + limit
        while ContinuousClock.now < deadline, !Task.isCancelled {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }

    /// The first pid in `file`, once it exists (fixtures write it), or nil after `limit`.
    public static func readPID(_ file: String, within limit: Duration = patience) async -> Int32? {
        await readPIDs(file, count: 1, within: limit)?.first
    }

    /// The `count` pids in `file` (separated by spaces or newlines), once all are there.
    public static func readPIDs(_ file: String, count: Int, within limit: Duration = patience) async -> [Int32]? {
        var pids: [Int32] = []
        _ = await eventually(within: limit) {
            let text = (try? String(contentsOfFile: file, encoding: .utf8)) ?? ""
            pids = text.split(whereSeparator: { $0 == " " || $0 == "\n" }).compactMap { Int32($0) }
            return pids.count >= count
        }
        return pids.count >= count ? Array(pids.prefix(count)) : nil
    }

    /// Cleanup for a test whose stop failed: SIGKILL to each pid that still runs (and its group, if
    /// it leads one), so a broken build leaves no fixture running for minutes.
    public static func killLeftovers(_ pids: [Int32]) {
        for pid in pids where !isDead(pid) {
            if getpgid(pid) == pid { kill(-pid, SIGKILL) }
            kill(pid, SIGKILL)
        }
    }

    /// Runs `executable` with `arguments` to its end: what it wrote to standard output, and its exit
    /// status. Standard input is empty; standard error is inherited, or thrown away with `discardingErrors`.
    public static func output(of executable: URL, _ arguments: [String], discardingErrors: Bool = false) throws -> (data: Data, status: Int32) {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let out = Pipe()
        process.standardOutput = out
        process.standardInput = FileHandle.nullDevice
        if discardingErrors { process.standardError = FileHandle.nullDevice }
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (data, process.terminationStatus)
    }
}

/// Waits at most `limit` for `operation`'s value; nil if it has not come by then.
///
/// The operation runs in a task of its own and is not cancelled: a test awaiting a result that never
/// comes (a stop that does nothing) gets nil and fails, instead of hanging until the time limit.
public func value<T: Sendable>(within limit: Duration = Proc.patience, of operation: @escaping @Sendable () async -> T) async -> T? {
    let race = FirstAnswer<T?>()
    return await withCheckedContinuation { (continuation: CheckedContinuation<T?, Never>) in
        race.set(continuation)
        let timer = Task {
            try? await Task.sleep(for: limit)
            race.answer(nil)
        }
        Task {
            race.answer(await operation())
            timer.cancel()
        }
    }
}

/// Resumes a continuation with the first answer given; later answers are dropped.
private final class FirstAnswer<T: Sendable>: Sendable {
    private let continuation = Mutex<CheckedContinuation<T, Never>?>(nil)

    func set(_ c: CheckedContinuation<T, Never>) { continuation.withLock { $0 = c } }

    func answer(_ value: T) {
        continuation.withLock { $0.take() }?.resume(returning: value)
    }
}
