import Foundation
import HTTP
import JSON
import TestSupport

/// `agent-repl serve --demo` (or the `model` arguments given) as a process of its own, in a fresh home and
/// working folder with builtins as its tools (`now` and `sleep` unless told) and `files` beside them
/// (name: text), on a free loopback port.
final class ServeProcess: Sendable {
    let process: Process
    let port: Int
    let folder: URL
    let stderrFile: URL

    init(arguments: [String] = [], model: [String] = ["--demo"], tools names: [String] = ["now", "sleep"], files: [String: String] = [:]) async throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-\(UUID().uuidString)")
        let tools = folder.appendingPathComponent("tools")
        try FileManager.default.createDirectory(at: tools, withIntermediateDirectories: true)
        for name in names {
            try #"{"name": "\#(name)", "builtin": "\#(name)", "description": "The builtin \#(name)"}"#
                .write(to: tools.appendingPathComponent("\(name).json"), atomically: true, encoding: .utf8)
        }
        for (name, text) in files {
            try text.write(to: tools.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        port = try LoopbackPort.unused()
        stderrFile = folder.appendingPathComponent("stderr.txt")
        FileManager.default.createFile(atPath: stderrFile.path, contents: nil)
        process = Process()
        process.executableURL = BuiltExecutable.url("agent-repl")
        process.arguments = ["serve"] + model + ["--port", String(port), "--tools-dir", tools.path] + arguments
        process.environment = FreshUser.environment(home: folder)
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = try FileHandle(forWritingTo: stderrFile)
        try process.run()
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline, process.isRunning {
            if (try? await get("/healthz"))?.head.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        process.terminate()
        throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "serve did not start: \(stderr)"])
    }

    /// `agent-repl ARGUMENTS` run to its end as a fresh user whose home is `home`: its exit status, stdout and stderr.
    static func run(_ arguments: [String], home: URL) throws -> (status: Int32, out: String, err: String) {
        let out = home.appendingPathComponent("run-\(UUID().uuidString).out"), err = home.appendingPathComponent("run-\(UUID().uuidString).err")
        for file in [out, err] { FileManager.default.createFile(atPath: file.path, contents: nil) }
        defer { for file in [out, err] { try? FileManager.default.removeItem(at: file) } }
        let process = Process()
        process.executableURL = BuiltExecutable.url("agent-repl")
        process.arguments = arguments
        process.environment = FreshUser.environment(home: home)
        process.currentDirectoryURL = home
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        try process.run()
        process.waitUntilExit()
        return (process.terminationStatus, try String(contentsOf: out, encoding: .utf8), try String(contentsOf: err, encoding: .utf8))
    }

    var url: String { "http://127.0.0.1:\(port)" }
    var stderr: String { (try? String(contentsOf: stderrFile, encoding: .utf8)) ?? "" }

    func get(_ path: String) async throws -> HTTPResponse {
        try await CurlTransport().fetch(HTTPRequest(url: url + path), limit: 1 << 20)
    }

    func post(_ path: String, _ body: String) async throws -> HTTPResponse {
        try await CurlTransport().fetch(
            HTTPRequest(url: url + path, method: "POST", headers: [("Content-Type", "application/json")], body: Data(body.utf8)), limit: 1 << 20)
    }

    /// SIGTERM, then the exit code (nil if it did not exit within a minute, or was killed by a signal).
    func terminate() async -> Int32? {
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            // Foundation's monitor reaps the child and then says how it ended; when it has not reported
            // yet, the kernel tells without reaping (see FixtureServer.stop).
            if !process.isRunning { return process.terminationReason == .exit ? process.terminationStatus : nil }
            var info = siginfo_t()
            if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0, info._sifields._sigchld.si_pid == pid {
                return info.si_code == CLD_EXITED ? info._sifields._sigchld.si_status : nil
            }
            try? await Task.sleep(for: .milliseconds(20))
        }
        kill(pid, SIGKILL)
        return nil
    }

    deinit {
        // Only a child not yet exited (waitid finds it, or it is not reaped yet and still running).
        var info = siginfo_t()
        let pid = process.processIdentifier
        if waitid(P_PID, id_t(pid), &info, WEXITED | WNOWAIT | WNOHANG) == 0, info._sifields._sigchld.si_pid == 0 { kill(pid, SIGKILL) }
        try? FileManager.default.removeItem(at: folder)
    }
}
