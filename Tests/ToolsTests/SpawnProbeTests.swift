import Foundation
import Testing
import JSON
import TestSupport

/// Spawning at the edges, in a process of its own (`Tests/SpawnProbe`): lowering the open-file limit
/// here would make other tests running in parallel fail.
@Suite(.timeLimit(.minutes(1))) struct SpawnProbeTests {
    /// With 0 to 5 descriptors left, the child's three pipes cannot all be made: every attempt is the
    /// same clear error and closes the pipes it had made. With 6 left (the wake pipe is made once the
    /// child's ends are closed), a child that cannot exec its program or enter its working folder
    /// leaves all six closed, and a tool that runs leaves none open once it has finished.
    @Test func noDescriptorLeaksWhenSpawningFailsAtTheOpenFileLimit() async throws {
        let (lines, exit) = try await Self.run(["fd-limit"])
        #expect(exit == .exited(0))
        let results = try lines.map { try JSONValue.parse($0) }
        #expect(results.count == 9, "\(lines)")
        for result in results {
            let name = result["name"]?.stringValue ?? "?", free = result["free"].map { "\($0.jsonString)" } ?? "?"
            #expect(result["leaked"] == .int(0), "\(name) with \(free) free descriptors: \(result.jsonString)")
            let error = result["error"]?.stringValue ?? ""
            switch name {
            case "pipes":
                #expect(error == "cannot create a pipe: Too many open files", "\(free) free: \(result.jsonString)")
            case "missing-program":
                #expect(error == "cannot start /nonexistent/program: No such file or directory", "\(result.jsonString)")
            case "missing-folder":
                #expect(error == "cannot use working folder /nonexistent/folder: No such file or directory", "\(result.jsonString)")
            default:
                #expect(result["outcome"] == "success", "\(result.jsonString)")
            }
        }
    }

    /// With the record pipe full, a tool's child is found blocked writing its record while still the
    /// probe's image: the program (`touch MARKER`) has not run. Read, the record is the child's pid
    /// (its group), and then the program runs.
    @Test func aToolsChildRecordsItsGroupBeforeItsProgramRuns() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let marker = tmp.path + "/ran"
        let run = try await Self.run(["record-order", marker])
        #expect(run.exit == .exited(0))
        let result = try JSONValue.parse(run.lines.first ?? "")
        guard case .int(let child) = result["blocked_child"] else {
            Issue.record("the program ran before its group was recorded: \(result.jsonString)")
            return
        }
        #expect(result["record"] == .int(child), "\(result.jsonString)")
        #expect(result["outcome"] == "success" && result["ran"] == true, "\(result.jsonString)")
    }

    enum Exit: Equatable { case exited(Int32), killed(Int32) }

    /// Runs `spawn-probe arguments` to its end: its stdout lines and how it ended. Its stdout is a
    /// file, so a process it leaves behind cannot hold the test up. Waits on a thread of its own.
    static func run(_ arguments: [String]) async throws -> (lines: [String], exit: Exit) {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let file = tmp.write("stdout", "")
        return try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = BuiltExecutable.url("spawn-probe")
                    process.arguments = arguments
                    process.standardOutput = try FileHandle(forWritingTo: URL(fileURLWithPath: file))
                    try process.run()
                    // A probe that hangs fails its test (killed after two minutes) instead of holding up the run.
                    let pid = process.processIdentifier
                    DispatchQueue.global().asyncAfter(deadline: .now() + 120) { if process.isRunning { kill(pid, SIGKILL) } }
                    process.waitUntilExit()
                    let status = process.terminationStatus
                    let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n").map(String.init)
                    return (lines, process.terminationReason == .exit ? .exited(status) : .killed(status))
                })
            }.start()
        }
    }
}
