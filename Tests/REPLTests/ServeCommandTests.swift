import Foundation
import HTTP
import JSON
import LLM
import Testing
import TestSupport
@testable import REPL

/// `/serve`: the running session's own scheduler over HTTP.
@Suite(.timeLimit(.minutes(1))) struct ServeCommandTests {
    @Test func servesTheSessionsSchedulerUntilStopped() async throws {
        let model = ScriptedModel.callingTools { prompt in
            prompt.hasPrefix("echo ") ? [call("echo", JSONValue.object(["text": .string(String(prompt.dropFirst(5)))]).jsonString)] : []
        }
        let repl = REPLHarness(model: model, tools: try TestToolFolder.standard().catalog)
        let started = try await repl.enter("/serve 0").out
        let port = try #require(started.firstMatch(of: /127\.0\.0\.1:(\d+)\//).map { String($0.1) })
        func get(_ path: String) async throws -> JSONValue {
            let response = try await CurlTransport().fetch(HTTPRequest(url: "http://127.0.0.1:\(port)\(path)"), limit: 1 << 20)
            return try JSONValue.parse(response.body)
        }
        // The same scheduler: a change typed in the chat shows in the API, a turn's tool in its tasks.
        try await repl.enter("/workers 3")
        #expect(try await get("/stats")["workers"] == 3)
        try await repl.enter("echo one")
        let tasks = try #require(try await get("/tasks").arrayValue)
        #expect(tasks.first?["tool"] == "echo")
        #expect(tasks.first?["status"] == "completed")
        #expect(try await repl.enter("/serve").out.contains(":\(port)/"))

        #expect(try await repl.enter("/serve stop").out == "Stopped serving.\n")
        await #expect(throws: (any Error).self) { _ = try await get("/stats") }
        // The session's scheduler goes on after the server stopped.
        try await repl.enter("echo two")
        #expect(try await repl.enter("/stats json").out.contains("\"completed\":2"))
        #expect(try await repl.enter("/serve stop").out == "Not serving.\n")
    }

    @Test func badPortIsAUsageError() async throws {
        let repl = REPLHarness(model: ScriptedModel.callingTools { _ in [] }, tools: try TestToolFolder.standard().catalog)
        #expect(try await repl.enter("/serve 70000").err.hasPrefix("Usage: /serve [PORT]"))
    }
}
