import Foundation
import Testing
import JSON
@testable import Tools

/// The python3 loopback server in Fixtures/http_server.py, stopped when the test ends.
final class LoopbackServer: @unchecked Sendable {
    let process = Process()
    let input = Pipe()
    private(set) var port = 0

    /// Starts the server; waits for its port on a thread of its own, not on the test's.
    static func start() async throws -> LoopbackServer {
        let server = LoopbackServer()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            Thread.detachNewThread {
                do {
                    try server.launch()
                    continuation.resume()
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
        return server
    }

    private func launch() throws {
        let output = Pipe()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", Fixtures.path("http_server.py")]
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        var line = Data()
        while !line.contains(UInt8(ascii: "\n")) {
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line += chunk
        }
        port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) ?? 0
    }

    /// Closing stdin makes the server shut down; SIGTERM in case it does not. (No waitUntilExit:
    /// it can hang on Linux when run from a test's task.)
    func stop() {
        try? input.fileHandleForWriting.close()
        process.terminate()
    }

    func tool(_ method: String = "GET", _ path: String, headers: [String: String] = [:], body: JSONValue? = nil, timeout: Double? = nil, passEnv: [String] = []) -> ToolDeclaration {
        ToolDeclaration(
            name: "web", description: "d", runner: .http(HTTPRequestTemplate(method: method, url: "http://127.0.0.1:\(port)\(path)", headers: headers, body: body)),
            timeout: timeout, passEnv: passEnv)
    }
}

@Suite struct HTTPExecutorTests {
    @Test func getWithURLEncodedPlaceholdersAndEnvironmentHeaders() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let runner = ToolRunner(environment: ["API_USER": "ann", "SERVICE_TOKEN": "t0k"])
        let tool = server.tool("GET", "/echo?q={query}&n={n}", headers: ["X-User": "${API_USER}", "Authorization": "Bearer ${SERVICE_TOKEN}"], passEnv: ["SERVICE_TOKEN"])
        let result = await runner.run(tool, arguments: #"{"query": "a b&c/é", "n": 3}"#)
        #expect(result.outcome == .success, "\(result)")
        #expect(result.httpStatus == 200)
        let echo = try JSONValue.parse(result.output)
        #expect(echo["method"] == "GET")
        #expect(echo["path"] == "/echo?q=a%20b%26c%2F%C3%A9&n=3")
        #expect(echo["headers"]?["x-user"] == "ann")
        #expect(echo["headers"]?["authorization"] == "Bearer t0k")
    }

    @Test func secretsInHeadersNeedPassEnv() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let runner = ToolRunner(environment: ["OPENAI_API_KEY": "sk-secret"])
        let result = await runner.run(server.tool("GET", "/echo", headers: ["X-Key": "${OPENAI_API_KEY}"]), arguments: "{}")
        #expect(!result.output.contains("sk-secret"))
    }

    @Test func postFillsTheJSONBodyTemplate() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let body: JSONValue = ["city": "{city}", "days": "{days}", "note": "weather for {city}", "fixed": true]
        let result = await ToolRunner().run(server.tool("POST", "/echo", body: body), arguments: #"{"city": "Pa\"ris", "days": 3}"#)
        #expect(result.ok)
        let echo = try JSONValue.parse(result.output)
        #expect(echo["method"] == "POST")
        #expect(echo["headers"]?["content-type"] == "application/json")
        let sent = try JSONValue.parse(try #require(echo["body"]?.stringValue))
        #expect(sent == ["city": "Pa\"ris", "days": 3, "note": "weather for Pa\"ris", "fixed": true])
    }

    @Test func errorStatusIsAFailedResult() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/status/404"), arguments: "{}")
        #expect(result.outcome == .failed)
        #expect(result.httpStatus == 404)
        #expect(result.error == "the server answered HTTP 404")
        #expect(result.output == "status 404")
    }

    @Test func bodyOverTheCapIsCut() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/big"), arguments: "{}")
        #expect(result.outcome == .success)
        #expect(result.output.hasSuffix("\n[response cut: showing the first 1048576 bytes]"))
    }

    @Test func cancelStopsASilentRequest() async throws {
        let server = try await LoopbackServer.start()
        defer { server.stop() }
        let execution = ToolRunner().start(server.tool("GET", "/slow"), arguments: "{}")
        try await Task.sleep(for: .milliseconds(200))
        execution.terminate()
        let result = await execution.result()
        #expect(result.outcome == .cancelled)
    }

    @Test func refusedConnectionIsAFailedResult() async {
        let tool = ToolDeclaration(name: "web", description: "d", runner: .http(HTTPRequestTemplate(url: "http://127.0.0.1:1/x")))
        let result = await ToolRunner().run(tool, arguments: "{}")
        #expect(result.outcome == .failed)
        #expect(result.error?.hasPrefix("the HTTP request to http://127.0.0.1:1/x failed: ") == true)
    }

    @Test func templateSubstitution() {
        #expect(HTTPRequestBuilder.substitute("a/{x}/{missing}/{not an id}") { $0 == "x" ? "1" : nil } == "a/1//{not an id}")
        #expect(HTTPRequestBuilder.expandEnvironment("k=${A} ${B}x ${", ["A": "1"]) == "k=1 x ${")
    }
}
