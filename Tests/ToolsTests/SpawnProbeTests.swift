import Foundation
import Testing
import JSON
import TestSupport

/// Spawning at the edges, in a process of its own (`Tests/SpawnProbe`): lowering the open-file limit
/// here would make other tests running in parallel fail.
@Suite(.timeLimit(.minutes(1))) struct SpawnProbeTests {
    /// With 0 to 7 descriptors left, the four pipes cannot all be made: every attempt is the same clear
    /// error and closes the pipes it had made. With 8 left, a failing posix_spawn (no program, no
    /// working folder) closes all eight, and a tool that runs leaves none open once it has finished.
    @Test func noDescriptorLeaksWhenSpawningFailsAtTheOpenFileLimit() async throws {
        let lines = try await Self.run("fd-limit")
        let results = try lines.map { try JSONValue.parse($0) }
        #expect(results.count == 11, "\(lines)")
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
                #expect(error.hasPrefix("cannot start /bin/true: "), "\(result.jsonString)")
            default:
                #expect(result["outcome"] == "success", "\(result.jsonString)")
            }
        }
    }

    /// Runs `spawn-probe mode` to its end; its stdout lines. Waits on a thread of its own.
    static func run(_ mode: String) async throws -> [String] {
        try await withCheckedThrowingContinuation { continuation in
            Thread {
                continuation.resume(with: Result {
                    let process = Process()
                    process.executableURL = BuiltExecutable.url("spawn-probe")
                    process.arguments = [mode]
                    let output = Pipe()
                    process.standardOutput = output
                    try process.run()
                    let data = output.fileHandleForReading.readDataToEndOfFile()
                    process.waitUntilExit()
                    guard process.terminationStatus == 0 else {
                        throw ProbeFailure(status: process.terminationStatus, output: String(decoding: data, as: UTF8.self))
                    }
                    return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
                })
            }.start()
        }
    }

    struct ProbeFailure: Error {
        var status: Int32
        var output: String
    }
}
