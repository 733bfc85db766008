import Foundation
import Tools

/// The scripted OpenAI-compatible server of `Tests/Fixtures/fake_openai.py`, on 127.0.0.1.
final class FakeServer: @unchecked Sendable {
    let port: Int
    private let process: Process
    private let logFile: URL

    var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Starts the server with `script`: one scripted response per request (see the fixture's docstring).
    init(script: [JSONValue]) throws {
        let dir = try TemporaryFolder.make()
        let scriptFile = dir.appendingPathComponent("script.json")
        logFile = dir.appendingPathComponent("requests.jsonl")
        try JSONValue.array(script).jsonString.write(to: scriptFile, atomically: true, encoding: .utf8)
        process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Paths.fixture("fake_openai.py").path, "--script", scriptFile.path, "--log", logFile.path]
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        guard text.hasPrefix("PORT "), let port = Int(text.dropFirst(5).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            process.terminate()
            throw TestFailure("fake server did not start: \(text)")
        }
        self.port = port
    }

    /// The bodies of the requests received so far, in order.
    func requestBodies() throws -> [JSONValue] {
        try requests().compactMap { $0["body"] }
    }

    /// Every request received so far: method, path, headers, body.
    func requests() throws -> [JSONValue] {
        guard let text = try? String(contentsOf: logFile, encoding: .utf8) else { return [] }
        return try text.split(separator: "\n").map { try JSONValue.parse(String($0)) }
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

enum TemporaryFolder {
    static func make() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("agent-repl-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

enum Paths {
    /// The package's root folder.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func fixture(_ name: String) -> URL {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(name)
    }

    /// The `agent-repl` binary built beside the test bundle.
    static var binary: URL {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        var dir = testBinary.deletingLastPathComponent()
        // The bundle is `.../debug/agent-replPackageTests.xctest` (a file on Linux, a folder elsewhere).
        for _ in 0..<4 {
            let candidate = dir.appendingPathComponent("agent-repl")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
            dir = dir.deletingLastPathComponent()
        }
        return packageRoot.appendingPathComponent(".build/debug/agent-repl")
    }
}
