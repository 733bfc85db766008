import Foundation
import JSON

/// The scripted fake OpenAI server (`Tests/Fixtures/fake_openai.py`: Chat Completions, and the Responses
/// API on `POST /v1/responses`) as a subprocess on loopback,
/// shared by the client tests and the end-to-end tests of the binary.
public final class FakeOpenAIServer: Sendable {
    private let server: FixtureServer

    /// Starts the server with `script` (a list of responses, see the fixture's docstring).
    public init(script: JSONValue) throws {
        server = try FixtureServer(fixture: "fake_openai.py") { folder in
            let scriptURL = folder.appendingPathComponent("script.json")
            try Data(script.jsonString.utf8).write(to: scriptURL)
            return ["--script", scriptURL.path]
        }
    }

    /// `init(script:)` on a thread of its own, so that waiting for the server's port (a Python start,
    /// seconds on a loaded machine) holds none of the test process's few cooperative threads.
    public static func start(script: JSONValue) async throws -> FakeOpenAIServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try FakeOpenAIServer(script: script) })
            }
        }
    }

    public var port: Int { server.port }

    public var baseURL: String { "http://127.0.0.1:\(port)/v1" }

    /// Every line the server logged: requests (`method`, `path`, `headers`, `body`) and hang-ups (`event`).
    public func log() -> [JSONValue] { server.log() }

    public var requests: [JSONValue] { log().filter { $0["method"] != nil } }

    /// The bodies of the requests received so far, in order.
    public func requestBodies() -> [JSONValue] { requests.compactMap { $0["body"] } }

    /// Polls the log until `condition` holds or `timeout` passes.
    public func waitForLog(timeout: Duration = .seconds(60), _ condition: ([JSONValue]) -> Bool) async -> Bool {
        await server.waitForLog(timeout: timeout, condition)
    }

    public func stop() { server.stop() }
}
