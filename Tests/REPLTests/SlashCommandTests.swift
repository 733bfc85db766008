import Foundation
import Testing
import TestSupport
import JSON
import LLM
import Scheduler
import Tools
@testable import REPL

/// Every slash command, typed at an in-process session.
@Suite(.timeLimit(.minutes(1))) struct SlashCommandTests {
    /// A session whose model calls `echo` with the prompt as `text`, over the standard test tools.
    private func echoSession(configure: (inout SessionOptions) -> Void = { _ in }) throws -> (REPLHarness, ScriptedModel) {
        let model = ScriptedModel.callingTools { prompt in
            prompt.hasPrefix("echo ") ? [call("echo", JSONValue.object(["text": .string(String(prompt.dropFirst(5)))]).jsonString)] : []
        }
        return (REPLHarness(model: model, tools: try TestToolFolder.standard().catalog, configure: configure), model)
    }

    @Test func helpListsEveryCommand() async throws {
        let (repl, _) = try echoSession()
        let help = try await repl.enter("/help").out
        let rows = help.split(separator: "\n").map(String.init)
        for command in ["/help", "/stats [json]", "/tasks [N]", "/task ID", "/strategy [NAME [SLICE]]", "/workers [N]", "/tools",
                        "/jobs", "/cancel [JOB]", "/model [NAME]", "/clear", "/quit"] {
            #expect(rows.contains { $0.hasPrefix("  \(command) ") }, "no row for \(command)")
        }
        #expect(help.contains("end a line with \\ to continue"))
        #expect(help.contains("End a prompt with & to run it in the background."))
    }

    @Test func unknownCommandIsAnErrorAndTheSessionGoesOn() async throws {
        let (repl, _) = try echoSession()
        let reply = try await repl.enter("/bogus now")
        #expect(reply.err == "Unknown command /bogus. Type /help for the list.\n")
        #expect(reply.out.isEmpty)
        #expect(try await repl.enter("/workers").out == "Workers: 8.\n")
    }

    @Test func quitLeavesAndReadsNoMoreLines() async throws {
        let (repl, _) = try echoSession()
        try await repl.enter("/quit")
        #expect(repl.exitCode == 0)
        #expect(!repl.console.isWaitingForInput)
        #expect(repl.console.prompts == ["> "])
    }

    @Test func endOfInputLeavesToo() async throws {
        let (repl, _) = try echoSession()
        #expect(try await repl.close() == 0)
    }

    @Test func statsTableCountsWhatRan() async throws {
        let (repl, _) = try echoSession()
        let before = try await repl.enter("/stats").out
        #expect(before.contains("strategy mlfq · workers 8 · quantum 50.0ms"))
        #expect(before.contains("submitted 0 · completed 0 · failed 0"))
        try await repl.enter("echo one")
        let after = try await repl.enter("/stats").out
        #expect(after.contains("submitted 1 · completed 1 · failed 0 · cancelled 0 · timed out 0"))
        // The core limit is the machine's cores, more while busy work outside lends some (SCHEDULER.md).
        let now = try #require(after.split(separator: "\n").first { $0.hasPrefix("now      running 0 · paused 0 · queued 0 · CPU-bound 0 of ") })
        let limit = try #require(Int(now.split(separator: " ").dropLast().last ?? ""), "a core count: \(now)")
        #expect(now.hasSuffix(" cores") && limit >= SchedulerConfiguration.cores)
        #expect(after.contains("levels   L0 (50.0ms)"))
        #expect(after.split(separator: "\n").contains { $0.hasPrefix("echo ") && $0.contains("      1  ") }, "a row for the echo tool: \(after)")
        #expect(try await repl.enter("/stats bogus").err == "Usage: /stats [json]\n")
    }

    @Test func statsJSONHasEveryDocumentedKey() async throws {
        let (repl, _) = try echoSession()
        try await repl.enter("echo one")
        try await repl.enter("echo two")
        let text = try await repl.enter("/stats json").out
        #expect(text.hasSuffix("}\n") && text.filter { $0 == "\n" }.count == 1, "one line of JSON")
        let stats = try JSONValue.parse(text)
        // SPEC.md and README.md list these.
        for key in StatsKeys.top {
            #expect(stats[key] != nil, "missing key \(key)")
        }
        #expect(Set((stats["model"]?.objectValue ?? [:]).keys) == StatsKeys.model)
        let levels = try #require(stats["levels"]?.arrayValue)
        #expect(levels.count == 3)
        for level in levels {
            for key in StatsKeys.level { #expect(level[key] != nil, "missing levels[].\(key)") }
        }
        #expect(levels.map { $0["quantum_ms"] } == [50, 100, 10000])
        // The machine's cores, more while busy work outside lends some (a loaded test machine).
        #expect((stats["cpu_slots"]?.numberValue).map { $0 >= Double(SchedulerConfiguration.cores) } == true)
        let echo = try #require(stats["tools"]?["echo"])
        for key in StatsKeys.tool { #expect(echo[key] != nil, "missing tools.echo.\(key)") }
        #expect(echo["count"] == 2)
        #expect(stats["submitted"] == 2)
        #expect(stats["completed"] == 2)
        #expect(stats["strategy"] == "mlfq")
        #expect(stats["workers"] == 8)
    }

    @Test func tasksListsTheRecentTasks() async throws {
        let (repl, _) = try echoSession()
        #expect(try await repl.enter("/tasks").out == "No tasks yet.\n")
        try await repl.enter("echo first")
        try await repl.enter("echo second")
        let list = try await repl.enter("/tasks").out.split(separator: "\n").map(String.init)
        #expect(list.count == 3)
        #expect(list[0].contains("id") && list[0].contains("tool") && list[0].contains("state") && list[0].contains("level")
            && list[0].contains("wait") && list[0].contains("run") && list[0].contains("turn"))
        // Newest first, each with its turn.
        #expect(list[1].hasPrefix("    2  echo  completed") && list[1].hasSuffix("turn 0.2"), "\(list[1])")
        #expect(list[2].hasPrefix("    1  echo  completed") && list[2].hasSuffix("turn 0.1"), "\(list[2])")
        #expect(try await repl.enter("/tasks 1").out.split(separator: "\n").count == 2)
    }

    @Test func taskShowsOneTaskOrSaysWhyNot() async throws {
        let (repl, _) = try echoSession()
        try await repl.enter("echo hello there")
        let detail = try await repl.enter("/task 1").out
        #expect(detail.hasPrefix("task 1: echo — completed\n"))
        #expect(detail.contains("turn 0.1"))
        #expect(detail.contains(#"arguments    {"text":"hello there"}"#))
        #expect(detail.contains("  outcome      success\n"))
        #expect(detail.contains("  exit         status 0\n"))
        #expect(detail.split(separator: "\n").contains { $0.hasPrefix("  output") && $0.contains("hello there") }, "\(detail)")
        let unknown = try await repl.enter("/task 99")
        #expect(unknown.err == "No task 99. /tasks lists the recent ones.\n")
        #expect(unknown.out.isEmpty)
        #expect(try await repl.enter("/task one").err == "Usage: /task ID (the ids are in /tasks)\n")
        #expect(try await repl.enter("/task").err == "Usage: /task ID (the ids are in /tasks)\n")
    }

    @Test func strategyShowsAndSwitches() async throws {
        let (repl, _) = try echoSession()
        #expect(try await repl.enter("/strategy").out
            == "Strategy: mlfq, base quantum 50.0ms. Choices: mlfq, preemptive, priority, round_robin, sjf, fifo.\n")
        #expect(try await repl.enter("/strategy fifo").out == "Strategy: fifo.\n")
        #expect(repl.session.scheduler.configuration.strategy == .fifo)
        #expect(repl.session.scheduler.configuration.baseQuantum == .milliseconds(50))
        #expect(try await repl.enter("/strategy round_robin 0.2").out == "Strategy: round_robin, base quantum 200ms.\n")
        #expect(repl.session.scheduler.configuration.strategy == .roundRobin)
        #expect(repl.session.scheduler.configuration.baseQuantum == .milliseconds(200))
        #expect(try await repl.enter("/strategy").out.hasPrefix("Strategy: round_robin, base quantum 200ms."))
        // A tool still runs after the switch.
        #expect(try await repl.enter("echo still").out.contains(#"done: {"text":"still"}"#))
    }

    @Test func strategyRefusesABadNameOrSlice() async throws {
        let (repl, _) = try echoSession()
        let badName = try await repl.enter("/strategy lottery")
        #expect(badName.err == "Unknown strategy 'lottery'. Choices: mlfq, preemptive, priority, round_robin, sjf, fifo.\n")
        for slice in ["0", "-1", "soon", "3601"] {
            #expect(try await repl.enter("/strategy fifo \(slice)").err == "The slice is in seconds, e.g. /strategy round_robin 0.1\n")
        }
        #expect(repl.session.scheduler.configuration.strategy == .mlfq)
        #expect(repl.session.scheduler.configuration.baseQuantum == .milliseconds(50))
    }

    @Test func workersShowsAndChanges() async throws {
        let (repl, _) = try echoSession { $0.scheduler.workers = 4 }
        #expect(try await repl.enter("/workers").out == "Workers: 4.\n")
        #expect(try await repl.enter("/workers 2").out == "Workers: 2.\n")
        #expect(repl.session.scheduler.configuration.workers == 2)
        #expect(try await repl.enter("/workers").out == "Workers: 2.\n")
        for bad in ["0", "257", "many", "-3"] {
            #expect(try await repl.enter("/workers \(bad)").err == "Usage: /workers [N] with N from 1 to 256\n")
        }
        #expect(repl.session.scheduler.configuration.workers == 2)
        #expect(try await repl.enter("/workers 256").out == "Workers: 256.\n")
    }

    @Test func toolsListsWhereEachWasDeclared() async throws {
        let folder = try TestToolFolder.standard()
        let repl = REPLHarness(model: ScriptedModel { _ in .text("hi") }, tools: folder.catalog)
        let lines = try await repl.enter("/tools").out.split(separator: "\n").map(String.init)
        #expect(lines.count == 2)
        #expect(lines[0].hasPrefix("echo  exec") && lines[0].hasSuffix(folder.path("echo.json") + ":1"), "\(lines[0])")
        #expect(lines[1].hasPrefix("fail  exec") && lines[1].hasSuffix(folder.path("fail.json") + ":1"), "\(lines[1])")

        let empty = REPLHarness(model: ScriptedModel { _ in .text("hi") })
        #expect(try await empty.enter("/tools").out == "No tools loaded. Put tool declarations in ./tools.d (see README).\n")
    }

    @Test func jobsWithNoneSaysHowToStartOne() async throws {
        let (repl, _) = try echoSession()
        #expect(try await repl.enter("/jobs").out == "No background jobs. End a prompt with & to start one.\n")
    }

    @Test func cancelWithoutAnythingToCancel() async throws {
        let (repl, _) = try echoSession()
        #expect(try await repl.enter("/cancel").err == "Nothing is running in the background.\n")
        #expect(try await repl.enter("/cancel 3").err == "No running job 3. /jobs lists them.\n")
        #expect(try await repl.enter("/cancel %3").err == "No running job 3. /jobs lists them.\n")
        #expect(try await repl.enter("/cancel three").err == "Usage: /cancel [JOB] (the numbers are in /jobs)\n")
    }

    @Test func modelShowsAndSwitchesForTheNextRequest() async throws {
        let (repl, model) = try echoSession()
        #expect(try await repl.enter("/model").out == "Model: test-model (scripted)\n")
        try await repl.enter("hello")
        #expect(try await repl.enter("/model other-model").out == "Model set to other-model.\n")
        #expect(try await repl.enter("/model").out == "Model: other-model (scripted)\n")
        try await repl.enter("again")
        #expect(model.requests.map(\.model) == ["test-model", "other-model"])
    }

    @Test func clearStartsANewConversation() async throws {
        let (repl, model) = try echoSession()
        try await repl.enter("first")
        try await repl.enter("second")
        #expect(model.requests.last?.messages.count == 3, "the second request carries the first exchange")
        #expect(try await repl.enter("/clear").out == "Started a new conversation.\n")
        try await repl.enter("third")
        #expect(model.requests.last?.messages == [.user("third")])
    }
}
