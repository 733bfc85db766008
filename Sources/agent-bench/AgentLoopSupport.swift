import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import Synchronization
import TestSupport

/// Files of this repository the agent-loop benchmarks use.
enum BenchPaths {
    /// The package root: this file is `Sources/agent-bench/AgentLoopSupport.swift`.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func file(_ relative: String) -> URL { root.appendingPathComponent(relative) }

    static func temporaryFolder() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("agent-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}

extension FakeOpenAIServer {
    /// A scripted answer calling `calls` = [(id, tool name, arguments)].
    static func toolCalls(_ calls: [(String, String, JSONValue)]) -> JSONValue {
        .object(["tool_calls": .array(calls.map { .object(["id": .string($0.0), "name": .string($0.1), "arguments": $0.2]) })])
    }

    static func text(_ text: String) -> JSONValue { .object(["text": .string(text)]) }
}

struct BenchFailure: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Forwards to a `ChatModel` and adds up the time each stream takes as its consumer sees it: from the
/// `stream` call to the stream's end (request encoding, HTTP, the server, SSE parsing - the model's part).
final class TimedChatModel: ChatModel, Sendable {
    let base: any ChatModel
    private let total = Mutex<Duration>(.zero)

    init(_ base: any ChatModel) { self.base = base }

    var displayName: String { base.displayName }

    /// Time spent in streams since the last call; resets it.
    func takeStreamTime() -> Duration { total.withLock { t in defer { t = .zero }; return t } }

    func answer(_ request: ChatRequest, events: @escaping @Sendable (ChatEvent) -> Void) async throws -> ChatCompletion {
        let start = ContinuousClock.now
        defer { total.withLock { $0 += ContinuousClock.now - start } }
        return try await base.answer(request, events: events)
    }

    func stream(_ request: ChatRequest) -> AsyncThrowingStream<ChatEvent, any Error> {
        let start = ContinuousClock.now
        let inner = base.stream(request)
        let (stream, continuation) = AsyncThrowingStream<ChatEvent, any Error>.makeStream()
        let task = Task { [self] in
            do {
                for try await event in inner { continuation.yield(event) }
                total.withLock { $0 += ContinuousClock.now - start }
                continuation.finish()
            } catch {
                total.withLock { $0 += ContinuousClock.now - start }
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in task.cancel() }
        return stream
    }
}

/// Timestamps of one turn's events.
final class TurnClock: Sendable {
    private struct Marks {
        var requested: ContinuousClock.Instant?
        var lastFinished: ContinuousClock.Instant?
        var finished = 0
        var failed = 0
        var taskIDs: [UInt64] = []
    }
    private let marks = Mutex(Marks())

    var events: @Sendable (TurnEvent) -> Void {
        { [self] event in
            let now = ContinuousClock.now
            marks.withLock { m in
                switch event {
                case .toolCallsRequested: m.requested = m.requested ?? now  // the first: calls may come one by one
                case .toolStarted(_, let id): if let id { m.taskIDs.append(id) }
                case .toolFinished(_, let ok, _):
                    m.lastFinished = now
                    m.finished += 1
                    if !ok { m.failed += 1 }
                default: break
                }
            }
        }
    }

    /// From the first `.toolCallsRequested` to the last `.toolFinished`.
    var toolPhase: Duration? {
        marks.withLock { m in m.requested.flatMap { r in m.lastFinished.map { $0 - r } } }
    }
    var finished: Int { marks.withLock { $0.finished } }
    var failed: Int { marks.withLock { $0.failed } }
    var taskIDs: [UInt64] { marks.withLock { $0.taskIDs } }
}

extension Duration {
    var ms: Double { seconds * 1000 }
}
