import Foundation
import JSON

/// A Python server from `Tests/Fixtures` as a subprocess on loopback. The fixture prints "PORT <n>" on
/// its first line and appends one JSON object a line to the log file it is given with `--log`.
// @unchecked: `process` is started in `init` and afterwards only signalled and waited for in `stop()`.
public final class FixtureServer: @unchecked Sendable {
    public static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    public let port: Int
    private let process = Process()
    /// A temporary folder for the log and anything the fixture is given; removed by `stop()`.
    public let folder: URL
    private var logURL: URL { folder.appendingPathComponent("log.jsonl") }

    /// Starts `Tests/Fixtures/<fixture>` with `arguments` (and `--log`); waits for its port.
    /// `prepare` writes files the arguments name into the server's folder before it starts.
    public init(fixture: String, arguments: (URL) throws -> [String] = { _ in [] }) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fixture-server-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.folder.appendingPathComponent(fixture).path] + (try arguments(folder))
            + ["--log", folder.appendingPathComponent("log.jsonl").path]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let more = output.fileHandleForReading.availableData
            if more.isEmpty { break }
            line.append(more)
        }
        let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5)) else {
            kill(process.processIdentifier, SIGKILL)
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(fixture) said: \(text)"])
        }
        self.port = port
    }

    /// `Tests/Fixtures/http_server.py` (echo, status, large, slow and dripping answers), started on a
    /// thread of its own so that waiting for its port does not hold one of the test's few threads.
    public static func http() async throws -> FixtureServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try FixtureServer(fixture: "http_server.py") })
            }
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    public func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// Every line the server logged so far.
    public func log() -> [JSONValue] {
        guard let data = try? String(contentsOf: logURL, encoding: .utf8) else { return [] }
        return data.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    /// The logged events named `event` (`request`, `disconnect`, `served`, ...), for `path` when given.
    public func events(_ event: String, path: String? = nil) -> [JSONValue] {
        log().filter { $0["event"] == .string(event) && (path == nil || $0["path"] == .string(path!)) }
    }

    /// Polls the log until `condition` holds or `timeout` passes.
    public func waitForLog(timeout: Duration = .seconds(60), _ condition: ([JSONValue]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(log()) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(log())
    }

    /// Waits for the first logged `event` for `path`; nil when none came within `timeout`.
    public func waitForEvent(_ event: String, path: String, timeout: Duration = .seconds(60)) async -> JSONValue? {
        _ = await waitForLog(timeout: timeout) { _ in !events(event, path: path).isEmpty }
        return events(event, path: path).first
    }

    public func stop() {
        if process.isRunning {
            // SIGKILL: the child may have inherited a signal mask that blocks SIGTERM.
            let pid = process.processIdentifier
            kill(pid, SIGKILL)
            // Waits in the kernel for its death, without reaping it (Foundation's monitor does).
            // Not `waitUntilExit()`: it spins a run loop until Foundation reports the exit through
            // dispatch, and two tests stopping servers at once on Swift concurrency's two threads
            // (a `deinit` runs there) never saw that report: the whole suite hung.
            var info = siginfo_t()
            while waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT) < 0 && errno == EINTR {}
        }
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}
