import Synchronization
import Testing
@testable import Agent
import LLM
import Scheduler
import Tools

/// A model whose answers move a manual clock: each event comes after its wait, and only when the agent
/// asks for it (the stream is lazy), so the times the agent measures are exact.
private final class ClockedModel: ChatModel, Sendable {
    private let answers: Mutex<[[(Duration, ChatEvent)]]>
    private let clock: ManualSchedulerClock

    init(clock: ManualSchedulerClock, _ answers: [[(Duration, ChatEvent)]]) {
        self.clock = clock
        self.answers = Mutex(answers)
    }

    var displayName: String { "clocked" }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let events = EventQueue(answers.withLock { $0.removeFirst() })
        return AsyncThrowingStream { [clock] in
            guard let (wait, event) = events.next() else { return nil }
            clock.advance(by: wait)
            return event
        }
    }
}

private final class EventQueue: Sendable {
    private let events: Mutex<[(Duration, ChatEvent)]>
    init(_ events: [(Duration, ChatEvent)]) { self.events = Mutex(events) }
    func next() -> (Duration, ChatEvent)? { events.withLock { $0.isEmpty ? nil : $0.removeFirst() } }
}

/// Runs each call for `toolTime` of the manual clock, reporting starts and ends as the scheduler's executor does.
private struct ClockedExecutor: ToolCallExecutor {
    let clock: ManualSchedulerClock
    let toolTime: Duration

    func batch(turn: TurnID, events: @escaping @Sendable (TurnEvent) -> Void) -> any ToolCallBatch {
        ClockedBatch(clock: clock, toolTime: toolTime, events: events)
    }
}

/// The calls of one message, all run when their results are awaited.
private final class ClockedBatch: ToolCallBatch {
    let clock: ManualSchedulerClock
    let toolTime: Duration
    let events: @Sendable (TurnEvent) -> Void
    let added = Mutex<[ToolCall]>([])

    init(clock: ManualSchedulerClock, toolTime: Duration, events: @escaping @Sendable (TurnEvent) -> Void) {
        self.clock = clock
        self.toolTime = toolTime
        self.events = events
    }

    func add(_ call: ToolCall) { added.withLock { $0.append(call) } }

    func results() async -> [ToolResult] {
        let calls = added.withLock { $0 }
        for call in calls { events(.toolStarted(call, taskID: nil)) }
        clock.advance(by: toolTime)  // they run in parallel
        for call in calls { events(.toolFinished(call, ok: true, summary: "")) }
        return calls.map { .success("result of \($0.id)") }
    }

    func cancel() async {}
}

@Suite struct ModelUsageTests {
    private let echo = ToolCall(id: "a", name: "echo", arguments: "{}")

    @Test func theAgentTimesEachCallAndTheMeterTheTurn() async throws {
        let clock = ManualSchedulerClock()
        let calls = [echo, ToolCall(id: "b", name: "echo", arguments: "{}")]
        let usage = Usage(promptTokens: 10, completionTokens: 2, totalTokens: 12, cachedPromptTokens: 8, reasoningTokens: 1)
        let model = ClockedModel(clock: clock, [
            // A notice is not a token; the first call ready is.
            [(.milliseconds(50), .notice("Answers now come whole.")), (.milliseconds(100), .toolCallReady(echo)),
             (.milliseconds(200), .completed(ChatCompletion(content: nil, toolCalls: calls, usage: usage)))],
            // Text that comes whole, as a non-streaming answer does; no usage.
            [(.milliseconds(700), .textDelta("done")), (.zero, .completed(ChatCompletion(content: "done")))],
        ])
        let ledger = ModelUsageLedger()
        let meter = TurnMeter(clock: clock, ledger: ledger)
        let seen = Mutex<[TurnEvent]>([])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: ClockedExecutor(clock: clock, toolTime: .milliseconds(400)),
                          clock: clock)
        let answer = try await agent.run(prompt: "go") { event in
            meter.observe(event)
            seen.withLock { $0.append(event) }
        }
        #expect(answer == "done")
        let ended = seen.withLock { $0 }.compactMap { event -> ModelCall? in
            if case .modelCallEnded(let call) = event { return call } else { return nil }
        }
        #expect(ended == [
            ModelCall(usage: usage, duration: .milliseconds(350), timeToFirstToken: .milliseconds(150)),
            ModelCall(usage: nil, duration: .milliseconds(700), timeToFirstToken: .milliseconds(700)),
        ])
        // Each call's record comes after its answer and before the tools it did not start while it
        // streamed: "echo", ready after 150 ms, was requested (and submitted) then.
        let order = seen.withLock { $0 }.map { event -> String in
            switch event {
            case .modelCallEnded: "model"
            case .toolCallsRequested: "requested"
            case .toolFinished: "finished"
            case .text: "text"
            default: "other"
            }
        }.filter { $0 != "other" }
        #expect(order == ["requested", "model", "requested", "finished", "finished", "text", "model"])

        clock.advance(by: .milliseconds(30))
        let turn = meter.finish()
        #expect(turn.duration == .milliseconds(1_480))
        #expect(turn.usage.calls == 2 && turn.usage.callsWithoutUsage == 1)
        #expect(turn.usage.modelTime == .milliseconds(1_050))
        // From echo's submission, 200 ms before the answer ended, to both results: the two parallel
        // tools counted once, the time they overlapped the model's answer included.
        #expect(turn.usage.toolTime == .milliseconds(600), "two parallel tools, counted once")
        #expect(turn.usage.inputTokens == 10 && turn.usage.cachedInputTokens == 8 && turn.usage.outputTokens == 2 && turn.usage.reasoningTokens == 1)
        #expect(ledger.usage == turn.usage, "the session saw the same")
        #expect(meter.finish() == turn, "finishing twice changes nothing")
    }

    /// Without `.toolCallReady` (a client that cannot tell early) the calls arrive with the whole
    /// answer, which is then the first token; an empty text delta is no token.
    @Test func theFirstTokenIsTheFirstTextOrCallWhateverCarriesIt() async throws {
        let clock = ManualSchedulerClock()
        let model = ClockedModel(clock: clock, [
            [(.milliseconds(10), .textDelta("")), (.milliseconds(290), .completed(ChatCompletion(content: nil, toolCalls: [echo])))],
            [(.milliseconds(20), .textDelta("")), (.milliseconds(30), .textDelta("ok")), (.milliseconds(50), .completed(ChatCompletion(content: "ok")))],
        ])
        let ended = Mutex<[ModelCall]>([])
        let agent = Agent(model: model, configuration: .init(model: "m"), executor: ClockedExecutor(clock: clock, toolTime: .zero), clock: clock)
        _ = try await agent.run(prompt: "go") { event in
            if case .modelCallEnded(let call) = event { ended.withLock { $0.append(call) } }
        }
        #expect(ended.withLock { $0 }.map(\.timeToFirstToken) == [.milliseconds(300), .milliseconds(50)])
        #expect(ended.withLock { $0 }.map(\.duration) == [.milliseconds(300), .milliseconds(100)])
    }

    @Test func toolTimeRunsFromSubmissionToTheLastResultOfEachStep() {
        let clock = ManualSchedulerClock()
        let ledger = ModelUsageLedger()
        let meter = TurnMeter(clock: clock, ledger: ledger)
        let b = ToolCall(id: "b", name: "echo", arguments: "{}")
        meter.observe(.toolCallsRequested([echo, b]))
        clock.advance(by: .milliseconds(100))
        meter.observe(.toolFinished(echo, ok: true, summary: ""))
        clock.advance(by: .milliseconds(200))
        meter.observe(.toolFinished(b, ok: true, summary: ""))
        clock.advance(by: .milliseconds(1_000))  // the model's next answer
        meter.observe(.toolCallsRequested([echo]))
        clock.advance(by: .milliseconds(50))
        meter.observe(.toolFinished(echo, ok: true, summary: ""))
        #expect(ledger.usage.toolTime == .milliseconds(350))
        // A step cut short: its unfinished call counts until the turn ends.
        meter.observe(.toolCallsRequested([echo, b]))
        clock.advance(by: .milliseconds(20))
        meter.observe(.toolFinished(echo, ok: false, summary: "cancelled"))
        clock.advance(by: .milliseconds(5))
        let turn = meter.finish()
        #expect(turn.usage.toolTime == .milliseconds(375))
        #expect(ledger.usage.toolTime == .milliseconds(375))
        #expect(turn.duration == .milliseconds(1_375))
    }

    @Test func unknownIsNotZeroAndPercentilesAreNearestRank() {
        var usage = ModelUsage()
        #expect(usage.inputTokens == nil && usage.timeToFirstToken(percentile: 0.5) == nil)
        usage.record(ModelCall(usage: nil, duration: .milliseconds(10), timeToFirstToken: .milliseconds(40)))
        #expect(usage.calls == 1 && usage.callsWithoutUsage == 1 && usage.inputTokens == nil && usage.outputTokens == nil)
        usage.record(ModelCall(usage: Usage(promptTokens: 0, completionTokens: 0, totalTokens: 0, reasoningTokens: 0),
                               duration: .milliseconds(10), timeToFirstToken: nil))
        #expect(usage.inputTokens == 0 && usage.outputTokens == 0 && usage.reasoningTokens == 0 && usage.cachedInputTokens == nil)
        for ms in [10, 30, 20] { usage.record(ModelCall(usage: nil, duration: .zero, timeToFirstToken: .milliseconds(ms))) }
        // 10, 20, 30, 40: rank ⌈0.5·4⌉ = 2 and ⌈0.95·4⌉ = 4.
        #expect(usage.timeToFirstToken(percentile: 0.5) == .milliseconds(20))
        #expect(usage.timeToFirstToken(percentile: 0.95) == .milliseconds(40))
    }

    @Test func theFirstTokenWindowKeepsTheMostRecentCalls() {
        var usage = ModelUsage()
        for ms in 1...(ModelUsage.firstTokenWindow + 5) {
            usage.record(ModelCall(usage: nil, duration: .zero, timeToFirstToken: .milliseconds(ms)))
        }
        #expect(usage.firstTokenTimes.count == ModelUsage.firstTokenWindow)
        #expect(usage.firstTokenTimes.first == .milliseconds(6))
        #expect(usage.calls == ModelUsage.firstTokenWindow + 5)
    }

    /// The demo model counts words as tokens: the request's messages and tool declarations in, its
    /// answer's text and calls out; nothing cached, no reasoning.
    @Test func theDemoModelReportsWordsAsTokens() {
        let now = ToolDefinition(name: "now", description: "Current time", parameters: ["type": "object"])
        let calling = DemoModel.answer(to: ChatRequest(model: "m", messages: [.user("what time is it now")], tools: [now]))
        #expect(calling.toolCalls.map(\.name) == ["now"])
        // 5 prompt words + "now" + "Current time" + "type", "object"; out: "now" and no arguments.
        #expect(calling.usage == Usage(promptTokens: 10, completionTokens: 1, totalTokens: 11))
        let summary = DemoModel.answer(to: ChatRequest(model: "m", messages: [
            .user("what time is it now"), calling.message, .tool(callID: calling.toolCalls[0].id, content: "12:00"),
        ], tools: [now]))
        // "I ran 1 tool in parallel. Results:\n- now: 12:00" is 10 words; the input adds "now", "12", "00".
        #expect(summary.usage == Usage(promptTokens: 13, completionTokens: 10, totalTokens: 23))
    }

    /// Hostile: every count at the accumulator's limit, call after call, saturates instead of trapping.
    @Test func sumsAtTheLimitSaturateRatherThanTrap() {
        var usage = ModelUsage()
        let most = StreamLimits.maxTokenCount
        let call = ModelCall(usage: Usage(promptTokens: most, completionTokens: most, totalTokens: most, cachedPromptTokens: most, reasoningTokens: most),
                             duration: .zero, timeToFirstToken: nil)
        for _ in 0..<1_030 { usage.record(call) }
        #expect(usage.inputTokens == .max && usage.cachedInputTokens == .max && usage.outputTokens == .max && usage.reasoningTokens == .max)
    }
}
