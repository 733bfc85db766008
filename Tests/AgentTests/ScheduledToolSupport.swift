import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Agent
import JSON
import LLM
import Scheduler
import Tools

/// Real tools through the product path: a ``Scheduler``, a ``ToolRunner`` and the
/// ``ScheduledToolExecutor`` that joins them, as the REPL wires them.
final class ScheduledTools: Sendable {
    let scheduler: ToolScheduler
    let executor: ScheduledToolExecutor
    /// The scheduler's task id of each call that started, by call id.
    let started = Mutex<[String: TaskID]>([:])

    init(_ tools: [ToolDeclaration], configuration: SchedulerConfiguration = SchedulerConfiguration(), killGrace: Duration = .milliseconds(300)) {
        scheduler = ToolScheduler(configuration: configuration)
        executor = ScheduledToolExecutor(
            scheduler: scheduler, catalog: ToolCatalog(tools: tools),
            runner: ToolRunner(environment: ProcessInfo.processInfo.environment, killGrace: killGrace))
    }

    /// Runs one call of `tool` as turn `turn` and returns the text the model would read.
    /// `conversation` 0 is the foreground; others are background jobs (`prompt &`).
    func run(_ tool: String, arguments: String = "{}", turn: Int = 1, conversation: Int = 0) async -> String {
        let call = ToolCall(id: "call-\(turn)-\(tool)", name: tool, arguments: arguments)
        let results = await executor.execute([call], turn: TurnID(conversation: conversation, turn: turn)) { [self] event in
            if case .toolStarted(let call, let id?) = event {
                started.withLock { $0[call.id] = TaskID(id) }
            }
        }
        return results.first?.modelContent ?? "(no result)"
    }

    /// Starts `run` in a task of its own: for calls the test stops, pauses or lets time out.
    func start(_ tool: String, arguments: String = "{}", turn: Int = 1, conversation: Int = 0) -> Task<String, Never> {
        Task { [self] in await run(tool, arguments: arguments, turn: turn, conversation: conversation) }
    }

    /// The task of turn `turn`'s call of `tool`, once it started.
    func taskID(_ tool: String, turn: Int = 1) async -> TaskID? {
        var id: TaskID?
        _ = await Proc.eventually { id = started.withLock { $0["call-\(turn)-\(tool)"] }; return id != nil }
        return id
    }
}

/// The fixture scripts of the Tools tests (Tests/ToolsTests/Fixtures), used here by path.
enum ToolFixtures {
    static let folder = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ToolsTests/Fixtures")

    static func exec(
        _ script: String, name: String, priority: Int = 1, timeout: Double? = nil, env: [String: String] = [:]
    ) -> ToolDeclaration {
        ToolDeclaration(
            name: name, description: "test tool \(name)", parameters: ["type": "object"],
            runner: .exec([folder.appendingPathComponent(script).path]), priority: priority, timeout: timeout, env: env)
    }
}

/// A fresh folder under the system temp folder, removed by `remove()`.
struct TempFolder {
    let path: String

    init() {
        let base = (NSTemporaryDirectory() as NSString).appendingPathComponent("agent-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        path = base
    }

    func file(_ name: String) -> String { (path as NSString).appendingPathComponent(name) }

    func touch(_ name: String) { _ = FileManager.default.createFile(atPath: file(name), contents: Data()) }

    func remove() { try? FileManager.default.removeItem(atPath: path) }
}
