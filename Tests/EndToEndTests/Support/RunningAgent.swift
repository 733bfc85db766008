import Foundation
import TestSupport

/// `agent-repl` with its stdin held open, so a test can type a line, watch what happens (a tool
/// starts, a process dies), and only then type the next one. Ends with ``finish()``.
final class RunningAgent: @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let stdout: ReadAll
    private let stderr: ReadAll

    init(_ agent: AgentProcess, arguments: [String]) throws {
        process.executableURL = Paths.binary
        process.arguments = arguments
        process.environment = agent.environment
        process.currentDirectoryURL = agent.workingFolder
        let output = Pipe(), error = Pipe()
        process.standardInput = input
        process.standardOutput = output
        process.standardError = error
        try process.run()
        stdout = ReadAll(output.fileHandleForReading)
        stderr = ReadAll(error.fileHandleForReading)
    }

    /// agent-repl's process id.
    var pid: Int32 { process.processIdentifier }

    /// Types `text` (end lines with "\n").
    func send(_ text: String) {
        input.fileHandleForWriting.write(Data(text.utf8))
    }

    /// Ends the input and waits (at most `Proc.patience`) for agent-repl to exit; kills it if it
    /// does not. Nil when it had to be killed.
    func finish() async -> AgentProcess.Result? {
        try? input.fileHandleForWriting.close()
        let process = self.process
        let exited = await value {
            await withCheckedContinuation { continuation in
                Thread {
                    process.waitUntilExit()
                    continuation.resume()
                }.start()
            }
            return true
        } ?? false
        if !exited {
            kill(process.processIdentifier, SIGKILL)
            return nil
        }
        return AgentProcess.Result(
            stdout: String(decoding: stdout.wait(), as: UTF8.self),
            stderr: String(decoding: stderr.wait(), as: UTF8.self),
            status: process.terminationStatus)
    }
}

extension AgentProcess {
    /// Starts agent-repl with stdin kept open; see ``RunningAgent``.
    func launch(_ arguments: [String]) throws -> RunningAgent {
        try RunningAgent(self, arguments: arguments)
    }
}
