import Foundation
import JSON
import LLM
import Synchronization
import Scheduler
import Server
import Testing

/// `GET /events` and `POST /chat`, read as a client reads them.
@Suite("ServerStreamTests")
struct ServerStreamTests {
    /// Every transition of a task, in order, and stats ticks; a client that hangs up mid-stream is
    /// forgotten (no subscriber, no poller left behind).
    @Test func eventsCarryEveryTransitionInOrder() async throws {
        let server = try await ServerHarness.start()
        let submitted = Task {
            try await Task.sleep(for: .milliseconds(300))
            return try await server.submit(#"{"name": "watched", "payload": {"tool": "sleep", "arguments": {"seconds": 0.05}}}"#)
        }
        let events = try await server.events("/events") { events in
            events.contains { $0.0 == "task" && $0.1["state"] == "completed" }
        }
        let id = try await submitted.value
        #expect(events.first?.0 == "stats")
        let states = events.filter { $0.0 == "task" && $0.1["id"]?.stringValue == id }.compactMap { $0.1["state"]?.stringValue }
        #expect(states == ["waiting", "running", "completed"])
        let stats = events.last { $0.0 == "stats" }?.1
        #expect(stats?["total"] != nil)
        // The client hung up: the server notices at its next write and forgets it.
        #expect(await Self.eventually { server.server.events.clientCount == 0 })
        #expect(try await server.request("GET", "/healthz").json?["event_clients"] == 0)
        try await server.stop()
    }

    @Test func manyClientsComeAndGo() async throws {
        let server = try await ServerHarness.start()
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<8 {
                group.addTask { try await server.events("/events") { $0.count >= 2 }.count }
            }
            for try await count in group { #expect(count >= 2) }
        }
        #expect(await Self.eventually { server.server.events.clientCount == 0 })
        try await server.stop()
    }

    /// A graceful shutdown ends the event streams (they would hold the server open).
    @Test func shutdownEndsEventStreams() async throws {
        let server = try await ServerHarness.start()
        let reading = Task { try await server.events("/events") { _ in false } }
        #expect(await Self.eventually { server.server.events.clientCount == 1 })
        try await server.stop()
        let events = try await reading.value
        #expect(events.first?.0 == "stats")
    }

    @Test func chatAnswersAndContinuesASession() async throws {
        let server = try await ServerHarness.start()
        let first = try await server.request("POST", "/chat", body: #"{"message": "what time is it now?"}"#)
        #expect(first.status == 200, "\(first.text)")
        let session = try #require(first.json?["session"]?.stringValue)
        #expect(first.json?["answer"]?.stringValue?.isEmpty == false)
        // The demo model called `now`: a task on the server's scheduler.
        #expect(try await server.request("GET", "/stats").json?["tools"]?["now"]?["count"] == 1)
        let before = try #require(try await server.sessions.conversation(session)?.agent.messages.count)
        let second = try await server.request("POST", "/chat", body: #"{"message": "and again", "session": "\#(session)"}"#)
        #expect(second.status == 200)
        #expect(second.json?["session"]?.stringValue == session)
        #expect(try #require(try await server.sessions.conversation(session)?.agent.messages.count) > before)
        // A new conversation without the session.
        let other = try await server.request("POST", "/chat", body: #"{"message": "hello"}"#)
        #expect(other.json?["session"]?.stringValue != session)
        try await server.stop()
    }

    @Test func chatStreamsTheTurnAsEvents() async throws {
        let server = try await ServerHarness.start()
        let events = try await server.events("/chat", method: "POST", body: #"{"message": "what time is it now?"}"#) { events in
            events.contains { $0.0 == "done" || $0.0 == "error" }
        }
        let names = events.map(\.0)
        let started = try #require(names.firstIndex(of: "tool_started"))
        let finished = try #require(names.firstIndex(of: "tool_finished"))
        let done = try #require(names.firstIndex(of: "done"))
        #expect(started < finished && finished < done)
        #expect(names[finished...].contains("text"))
        #expect(events[started].1["name"] == "now")
        #expect(events[done].1["session"]?.stringValue?.isEmpty == false)
        try await server.stop()
    }

    static func eventually(_ condition: @escaping @Sendable () -> Bool) async -> Bool {
        let deadline = ContinuousClock.now + .seconds(30)
        while ContinuousClock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return condition()
    }
}

/// A model whose answers wait until the test lets them go.
private final class GatedModel: ChatModel {
    private let gate = AsyncStream<Void>.makeStream()
    /// Requests received so far.
    let calls = Mutex(0)
    var displayName: String { "gated" }

    func open() { gate.continuation.finish() }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let gate = gate.stream
        calls.withLock { $0 += 1 }
        return AsyncThrowingStream { continuation in
            let task = Task {
                for await _ in gate {}
                continuation.yield(.completed(ChatCompletion(content: "answered")))
                continuation.finish()
            }
            continuation.onTermination = { _ in task.cancel() }
        }
    }
}

@Suite("ServerChatConflictTests", .timeLimit(.minutes(1)))
struct ServerChatConflictTests {
    /// A second message to a conversation whose turn still runs is refused, not raced (without the
    /// refusal the second turn would wait at the gate too, and the time limit ends the test).
    @Test func secondTurnOfABusySessionIs409() async throws {
        let model = GatedModel()
        let server = try await ServerHarness.start(model: model)
        let conversation = try #require(try await server.sessions.conversation(nil))
        let (id, agent) = (conversation.id, conversation.agent)
        let first = Task { try await server.request("POST", "/chat", body: #"{"message": "one", "session": "\#(id)"}"#) }
        // The first turn has asked the model and waits at the gate.
        #expect(await ServerStreamTests.eventually { model.calls.withLock { $0 } == 1 })
        let second = try await server.request("POST", "/chat", body: #"{"message": "two", "session": "\#(id)"}"#)
        #expect(second.status == 409)
        #expect(second.json?["field"] == "/session")
        model.open()
        #expect(try await first.value.status == 200)
        #expect(agent.messages.count == 2)
        // Once answered, the conversation takes the next message.
        #expect(try await server.request("POST", "/chat", body: #"{"message": "three", "session": "\#(id)"}"#).status == 200)
        try await server.stop()
    }
}
