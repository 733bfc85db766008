import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Agent
import LLM
import Scheduler
import Tools

/// A model whose answers are written by closures, one per request, given the stream's continuation.
private final class StreamingModel: ChatModel, Sendable {
    typealias Script = @Sendable (AsyncThrowingStream<ChatEvent, any Error>.Continuation) async -> Void
    let scripts: [Script]
    let requests = Mutex<[ChatRequest]>([])

    init(_ scripts: [Script]) { self.scripts = scripts }

    var displayName: String { "streaming" }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let index = requests.withLock { $0.append(request); return $0.count - 1 }
        let script = scripts[min(index, scripts.count - 1)]
        return AsyncThrowingStream { continuation in
            let task = Task { await script(continuation) }
            continuation.onTermination = { _ in task.cancel() }
        }
    }

    /// The last request's tool messages: (call id, content).
    var toolMessages: [(String, String)] {
        (requests.withLock { $0.last?.messages } ?? []).compactMap { message in
            if case .tool(let id, let content) = message { (id, content) } else { nil }
        }
    }
}

private func tc(_ id: String) -> ToolCall { ToolCall(id: id, name: "t", arguments: "{}") }

private func text(_ content: String) -> StreamingModel.Script {
    { continuation in
        continuation.yield(.textDelta(content))
        continuation.yield(.completed(ChatCompletion(content: content)))
        continuation.finish()
    }
}

@Suite(.timeLimit(.minutes(1))) struct StreamingDispatchTests {
    @Test func aReadyCallIsAddedWhileTheAnswerStillStreamsAndResultsKeepCallOrder() async throws {
        let executor = CountingExecutor()
        let addedBeforeTheEnd = Mutex<Bool?>(nil)
        let model = StreamingModel([
            { continuation in
                continuation.yield(.toolCallReady(tc("a")))
                // The answer goes on only once the call reached the executor (or after a hang guard).
                let added = await Proc.eventually(within: .seconds(20)) { executor.received.map(\.id) == ["a"] }
                addedBeforeTheEnd.withLock { $0 = added }
                continuation.yield(.textDelta("and more"))
                continuation.yield(.toolCallReady(tc("b")))
                continuation.yield(.completed(ChatCompletion(content: "and more", toolCalls: [tc("a"), tc("b"), tc("c")])))
                continuation.finish()
            },
            text("done"),
        ])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: executor)
        let events = Mutex<[String]>([])
        let answer = try await agent.run(prompt: "go") { event in
            switch event {
            case .toolCallsRequested(let calls): events.withLock { $0.append("requested " + calls.map(\.id).joined(separator: ",")) }
            case .text(let t): events.withLock { $0.append("text " + t) }
            default: break
            }
        }
        #expect(answer == "done")
        #expect(addedBeforeTheEnd.withLock { $0 } == true, "the first call was not started before the answer ended")
        #expect(executor.batches.withLock { $0.count } == 1, "one batch per message")
        #expect(executor.received.map(\.id) == ["a", "b", "c"], "c, not announced early, is added at the end")
        #expect(events.withLock { $0 } == ["requested a", "text and more", "requested b", "requested c", "text done"])
        #expect(model.toolMessages.map(\.0) == ["a", "b", "c"])
        #expect(model.toolMessages.map(\.1) == ["result of a", "result of b", "result of c"])
    }

    @Test func withoutEarlyDispatchEveryCallWaitsForTheEndOfTheAnswer() async throws {
        let executor = CountingExecutor()
        let addedBeforeTheEnd = Mutex<Bool?>(nil)
        let model = StreamingModel([
            { continuation in
                continuation.yield(.toolCallReady(tc("a")))
                // Long enough for a dispatch that did happen to show; the test passes either way in time.
                let added = await Proc.eventually(within: .milliseconds(300)) { !executor.received.isEmpty }
                addedBeforeTheEnd.withLock { $0 = added }
                continuation.yield(.completed(ChatCompletion(content: nil, toolCalls: [tc("a")])))
                continuation.finish()
            },
            text("done"),
        ])
        let agent = Agent(model: model, configuration: .init(model: "m", dispatchesEarly: false), executor: executor)
        #expect(try await agent.run(prompt: "go") == "done")
        #expect(addedBeforeTheEnd.withLock { $0 } == false)
        #expect(executor.received.map(\.id) == ["a"])
    }

    @Test func aStreamThatBreaksAfterACallStartedCancelsTheBatchAndSavesNothing() async throws {
        struct Broken: Error {}
        let executor = CountingExecutor()
        let model = StreamingModel([
            { continuation in
                continuation.yield(.toolCallReady(tc("a")))
                continuation.finish(throwing: Broken())
            },
        ])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: executor)
        await #expect(throws: Broken.self) { try await agent.run(prompt: "go") }
        let batch = try #require(executor.batches.withLock { $0.first })
        #expect(batch.added.withLock { $0.map(\.id) } == ["a"])
        #expect(batch.cancelled.withLock { $0 }, "the started call was stopped")
        #expect(agent.messages.isEmpty)
    }

    @Test func anAnswerWhoseEndListsOtherCallsThanItReportedIsAnError() async throws {
        let executor = CountingExecutor()
        let model = StreamingModel([
            { continuation in
                continuation.yield(.toolCallReady(tc("a")))
                continuation.yield(.completed(ChatCompletion(content: nil, toolCalls: [tc("x"), tc("a")])))
                continuation.finish()
            },
        ])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: executor)
        await #expect(throws: AgentError.inconsistentAnswer) { try await agent.run(prompt: "go") }
        #expect(executor.batches.withLock { $0.first?.cancelled.withLock { $0 } } == true)
        #expect(agent.messages.isEmpty)
    }

    @Test func theCallLimitHoldsForCallsReportedWhileStreaming() async throws {
        let limit = AgentLimits.maxToolCallsPerMessage
        let calls = (0..<(limit + 3)).map { tc("c\($0)") }
        let executor = CountingExecutor()
        let model = StreamingModel([
            { continuation in
                for call in calls { continuation.yield(.toolCallReady(call)) }
                continuation.yield(.completed(ChatCompletion(content: nil, toolCalls: calls)))
                continuation.finish()
            },
            text("done"),
        ])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: executor)
        #expect(try await agent.run(prompt: "go") == "done")
        #expect(executor.received.map(\.id) == calls.prefix(limit).map(\.id))
        #expect(model.toolMessages.map(\.0) == calls.map(\.id))
        #expect(model.toolMessages[limit...].allSatisfy { $0.1.contains("more than \(limit) tool calls in one message") })
    }
}

/// Records, for each question, whether the answer had ended when it was asked; allows every call.
private final class RecordingConfirmation: ConfirmationProvider, Sendable {
    let answerEnded = Mutex(false)
    let askedAfterTheEnd = Mutex<[Bool]>([])
    func confirm(tool: String, arguments: String) async -> Bool {
        let ended = answerEnded.withLock { $0 }
        askedAfterTheEnd.withLock { $0.append(ended) }
        return true
    }
}

@Suite(.timeLimit(.minutes(1))) struct StreamingConfirmationTests {
    @Test func aToolThatWantsConfirmationIsAskedAboutOnlyOnceTheAnswerEnded() async throws {
        let confirmation = RecordingConfirmation()
        let guarded = ToolDeclaration(
            name: "guarded", description: "echoes", runner: .exec([ToolFixtures.folder.appendingPathComponent("echo_stdin.sh").path]), confirm: true)
        let scheduler = ToolScheduler()
        let executor = ScheduledToolExecutor(
            scheduler: scheduler, catalog: ToolCatalog(tools: [guarded]),
            runner: ToolRunner(environment: ProcessInfo.processInfo.environment), confirmation: confirmation)
        let call = ToolCall(id: "g", name: "guarded", arguments: #"{"x":1}"#)
        let model = StreamingModel([
            { continuation in
                continuation.yield(.toolCallReady(call))
                // A question asked while the answer streams would show here (the wait is only a chance for it).
                _ = await Proc.eventually(within: .milliseconds(500)) { !confirmation.askedAfterTheEnd.withLock { $0.isEmpty } }
                continuation.yield(.textDelta("still talking"))
                confirmation.answerEnded.withLock { $0 = true }
                continuation.yield(.completed(ChatCompletion(content: "still talking", toolCalls: [call])))
                continuation.finish()
            },
            text("done"),
        ])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: executor)
        #expect(try await agent.run(prompt: "go") == "done")
        #expect(confirmation.askedAfterTheEnd.withLock { $0 } == [true])
        #expect(model.toolMessages.map(\.1) == ["{\"x\":1}\n"])
        await scheduler.shutdown()
    }
}

/// A call reported whole starts on the thread that reports it: by the time the batch's `add` returns,
/// its task's body has begun (`.toolStarted`, sent just before the tool's process is spawned) when a
/// worker is free, without a hop to another thread; the result comes as before.
@Suite(.timeLimit(.minutes(1))) struct StreamingDispatchStartTests {
    @Test func aCallAddedWithAFreeWorkerHasStartedWhenAddReturns() async throws {
        let echo = ToolDeclaration(
            name: "echo", description: "echoes", runner: .exec([ToolFixtures.folder.appendingPathComponent("echo_stdin.sh").path]))
        let scheduler = ToolScheduler()
        let executor = ScheduledToolExecutor(
            scheduler: scheduler, catalog: ToolCatalog(tools: [echo]), runner: ToolRunner(environment: ProcessInfo.processInfo.environment))
        let started = Mutex<[String]>([])
        let batch = executor.batch(turn: TurnID(conversation: 0, turn: 1)) { event in
            if case .toolStarted(let call, _) = event { started.withLock { $0.append(call.id) } }
        }
        batch.add(ToolCall(id: "a", name: "echo", arguments: #"{"n":1}"#))
        #expect(started.withLock { $0 } == ["a"])
        batch.add(ToolCall(id: "b", name: "echo", arguments: #"{"n":2}"#))
        #expect(started.withLock { $0 } == ["a", "b"])
        let results = await batch.results()
        #expect(results.map(\.output) == ["{\"n\":1}\n", "{\"n\":2}\n"])
        await scheduler.shutdown()
    }
}
