import Foundation
import Testing
import TestSupport
import Agent
import JSON
import LLM
import Scheduler
import Tools

/// The binary talking to a loopback OpenAI-compatible server through libcurl.
@Suite struct ChatClientTests {
    static let key = "sk-test-secret-0123456789"

    private func agent(_ server: FakeOpenAIServer) throws -> AgentProcess {
        try AgentProcess(environment: ["OPENAI_API_KEY": Self.key, "OPENAI_BASE_URL": server.baseURL, "AGENT_MODEL": "fake-model"])
    }

    @Test func oneShotStreamsTheAnswerAndSendsAProperRequest() async throws {
        let server = try await FakeOpenAIServer.start(script: [["text": "Hello there, friend — ça va? 🌍", "pieces": 7]])
        let result = try await agent(server).run(["-p", "say hello"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == "Hello there, friend — ça va? 🌍\n")

        let request = try #require(server.requests.first)
        #expect(request["path"] == "/v1/chat/completions")
        #expect(request["headers"]?["Authorization"] == .string("Bearer \(Self.key)"))
        let body = try #require(request["body"])
        #expect(body["model"] == "fake-model")
        #expect(body["stream"] == true)
        #expect(body["messages"] == [["role": "user", "content": "say hello"]])
        #expect(body["tools"] == nil, "no tools are loaded in an empty folder")
    }

    @Test func rejectedKeyIsASentenceAndTheKeyIsNeverPrinted() async throws {
        let server = try await FakeOpenAIServer.start(script: [["status": 401, "body": ["error": ["message": .string("Incorrect API key provided: \(Self.key)"), "type": "invalid_request_error", "code": "invalid_api_key"]]]])
        let result = try await agent(server).run(["-p", "hi"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("API key was rejected"))
        #expect(!result.stderr.contains(Self.key) && !result.stdout.contains(Self.key))
        #expect(server.requests.count == 1, "401 is not retried")
    }

    /// The server asks for longer waits than the client's own backoff (at most 0.5 s, then 1 s): the
    /// gaps between the requests show the client waited as asked.
    @Test func rateLimitIsRetriedHonouringRetryAfter() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["status": 429, "headers": ["Retry-After": "2"], "body": ["error": ["message": "slow down"]]],
            ["status": 503, "headers": ["retry-after-ms": "1500"]],
            ["text": "third time lucky"],
        ])
        let result = try await agent(server).run(["-p", "hi"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == "third time lucky\n")
        let times = server.requests.compactMap { $0["time"]?.numberValue }
        try #require(times.count == 3)
        #expect(times[1] - times[0] >= 1.95, "Retry-After: 2 was honoured")
        #expect(times[2] - times[1] >= 1.45, "retry-after-ms: 1500 was honoured")
    }

    @Test func refusedConnectionIsASentence() async throws {
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": Self.key])
        let result = try await process.run(["--base-url", "http://127.0.0.1:1/v1", "-p", "hi"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("Could not connect to http://127.0.0.1:1/v1"))
        #expect(result.stderr.contains("Set the endpoint with --base-url or OPENAI_BASE_URL."), "the front end adds the flag")
        #expect(!result.stderr.contains(Self.key))
    }

    @Test func malformedStreamIsAnErrorAndTheNextPromptStillWorks() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["sse": ["data: {\"choices\": [{\"index\": 0, \"delta\": {\"content\": \"par\"}}]}\n\n", "data: {not json\n\n"]],
            ["text": "recovered"],
        ])
        let result = try await agent(server).run([], stdin: "first\nsecond\n")
        #expect(result.status == 0)
        #expect(result.stderr.contains("Error:"))
        #expect(result.stdout.contains("recovered"))
        // The failed turn left nothing behind: the second request holds only the second prompt.
        let messages = try #require(server.requestBodies().last?["messages"])
        #expect(messages == [["role": "user", "content": "second"]])
    }

    /// A stream event over the 16 MiB limit: the user reads which limit, that the conversation is
    /// kept, and the next prompt goes out with the earlier turn and without the dropped one.
    @Test func anEventOverTheLimitIsExplainedAndTheConversationIsKept() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["text": "first answer"],
            ["text": .string(String(repeating: "a", count: 17 << 20)), "pieces": 1],
            ["text": "third answer"],
        ])
        let result = try await agent(server).run([], stdin: "first\nsecond\nthird\n")
        #expect(result.status == 0)
        let error = result.stderr.split(separator: "\n").first { $0.contains("Error:") }.map(String.init) ?? result.stderr
        #expect(error == "Error: The server at \(server.baseURL) sent one stream event larger than agent-repl's limit of 16 MiB (answers normally stream in small events), so the answer was abandoned. This turn was dropped; the conversation before it is kept: you can ask again.")
        #expect(result.stdout.contains("third answer"))
        let messages = try #require(server.requestBodies().last?["messages"]?.arrayValue)
        #expect(messages.map { $0["content"]?.stringValue } == ["first", "first answer", "third"])
    }
}
