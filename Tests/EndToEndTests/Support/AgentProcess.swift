import Foundation
import TestSupport

/// Runs the built `agent-repl` as a user would, in a fresh working folder and home.
struct AgentProcess {
    struct Result {
        var stdout: String
        var stderr: String
        var status: Int32
    }

    let workingFolder: URL
    var environment: [String: String]

    init(environment extra: [String: String] = [:]) throws {
        workingFolder = try TemporaryFolder.make()
        let home = workingFolder.appendingPathComponent("home")
        try FileManager.default.createDirectory(at: home, withIntermediateDirectories: true)
        environment = FreshUser.environment(home: home)
        environment["TERM"] = "xterm-256color"
        environment.merge(extra) { _, new in new }
    }

    /// Lists the working folder in `$XDG_CONFIG_HOME/agent-repl/trusted-folders`, so its ./.env and
    /// ./tools.d are read.
    func trustWorkingFolder() throws {
        let list = URL(fileURLWithPath: environment["XDG_CONFIG_HOME"]!).appendingPathComponent("agent-repl/trusted-folders")
        try FileManager.default.createDirectory(at: list.deletingLastPathComponent(), withIntermediateDirectories: true)
        try (workingFolder.path + "\n").write(to: list, atomically: true, encoding: .utf8)
    }

    /// Runs without a controlling terminal (in a session of its own, through setsid), so nothing can
    /// be asked on /dev/tty whatever terminal the tests run in.
    var withoutTerminal = false

    /// As root, runs through `setpriv` with every capability dropped (bounding and inheritable
    /// sets), so the process and its tools have the powers of a normal user: root's CAP_SYS_PTRACE
    /// would read any process's memory and environment. Other users run as they are.
    var withoutCapabilities = false

    /// Runs to the end with `stdin` piped in. The waiting happens on a thread of its own, so the
    /// test does not hold one of Swift concurrency's few cooperative threads (the tests share them).
    /// agent-repl is killed (SIGKILL, a non-zero status) if it runs longer than `limit`, so a run that
    /// hangs fails the test instead of hanging it.
    func run(_ arguments: [String], stdin: String = "", limit: Duration = .seconds(50)) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Swift.Result { try runBlocking(arguments, stdin: stdin, limit: limit) })
            }.start()
        }
    }

    private func runBlocking(_ arguments: [String], stdin: String, limit: Duration) throws -> Result {
        let process = Process()
        var command = [Paths.binary.path] + arguments
        if withoutTerminal { command = ["/usr/bin/setsid", "--wait"] + command }
        if withoutCapabilities && getuid() == 0 { command = ["/usr/bin/setpriv", "--bounding-set=-all", "--inh-caps=-all"] + command }
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        process.environment = environment
        process.currentDirectoryURL = workingFolder
        let input = Pipe(), output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let exited = DispatchSemaphore(value: 0)
        let pid = process.processIdentifier
        Thread {
            if exited.wait(timeout: .now() + .milliseconds(Int(limit.components.seconds * 1000))) == .timedOut {
                kill(pid, SIGKILL)
            }
        }.start()
        defer { exited.signal() }
        input.fileHandleForWriting.write(Data(stdin.utf8))
        try input.fileHandleForWriting.close()
        // Read both pipes concurrently so neither fills up and blocks the child.
        let errData = ReadAll(error.fileHandleForReading)
        let outData = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Result(stdout: String(decoding: outData, as: UTF8.self),
                      stderr: String(decoding: errData.wait(), as: UTF8.self),
                      status: process.terminationStatus)
    }
}

/// Reads a file handle to its end on a thread of its own.
final class ReadAll: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }.start()
    }

    func wait() -> Data {
        done.wait()
        return data
    }
}
