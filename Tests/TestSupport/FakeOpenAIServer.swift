import Foundation
import JSON

/// The scripted fake OpenAI server (`Tests/Fixtures/fake_openai.py`) as a subprocess on loopback,
/// shared by the client tests and the end-to-end tests of the binary.
public final class FakeOpenAIServer: @unchecked Sendable {
    public static let fixture = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/fake_openai.py")

    public let port: Int
    private let process = Process()
    private let folder: URL
    private var logURL: URL { folder.appendingPathComponent("requests.jsonl") }

    /// Starts the server with `script` (a list of responses, see the fixture's docstring).
    public init(script: JSONValue) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("fake-openai-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let scriptURL = folder.appendingPathComponent("script.json")
        try Data(script.jsonString.utf8).write(to: scriptURL)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Self.fixture.path, "--script", scriptURL.path, "--log", folder.appendingPathComponent("requests.jsonl").path]
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
            throw CocoaError(.fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "fake server said: \(text)"])
        }
        self.port = port
    }

    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Every line the server logged: requests (`method`, `path`, `headers`, `body`) and hang-ups (`event`).
    public func log() -> [JSONValue] {
        guard let data = try? String(contentsOf: logURL, encoding: .utf8) else { return [] }
        return data.split(separator: "\n").compactMap { try? JSONValue.parse(String($0)) }
    }

    public var requests: [JSONValue] { log().filter { $0["method"] != nil } }

    /// The bodies of the requests received so far, in order.
    public func requestBodies() -> [JSONValue] { requests.compactMap { $0["body"] } }

    /// Polls the log until `condition` holds or `timeout` passes.
    public func waitForLog(timeout: Duration = .seconds(60), _ condition: ([JSONValue]) -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while ContinuousClock.now < deadline {
            if condition(log()) { return true }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return condition(log())
    }

    public func stop() {
        if process.isRunning {
            // SIGKILL: the child may have inherited a signal mask that blocks SIGTERM.
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: folder)
    }

    deinit { stop() }
}
