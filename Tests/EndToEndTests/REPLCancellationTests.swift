import Foundation
import Testing
import TestSupport
import Agent
import JSON
import LLM
import Scheduler
import Tools

/// Ctrl-C during a turn, on a real pseudo-terminal: the turn stops, its tools die, the REPL stays.
@Suite struct REPLCancellationTests {
    @Test func ctrlCDuringASlowStreamCancelsItAndTheNextPromptWorks() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            // 60 s of text: the Ctrl-C lands mid-stream however busy the machine is.
            ["text": .string(String(repeating: "slow words ", count: 600)), "pieces": 600, "chunk_delay_ms": 100],
            ["text": "second answer"],
        ])
        let agent = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let terminal = try PseudoTerminal(agent)
        var mark = try await terminal.waitFor("> ")
        terminal.type("tell me slowly\r")
        mark = try await terminal.waitFor("slow words", after: mark)
        terminal.type("\u{03}")
        mark = try await terminal.waitFor("Cancelled", after: mark)
        mark = try await terminal.waitFor("> ", after: mark)
        terminal.type("again\r")
        mark = try await terminal.waitFor("second answer", after: mark)
        terminal.type("/quit\r")
        #expect(try await terminal.waitForExit() == 0)

        let bodies = server.requestBodies()
        #expect(bodies.count == 2)
        #expect(bodies[1]["messages"] == [["role": "user", "content": "again"]], "the cancelled turn left no trace")
    }

    @Test func ctrlCDuringAToolLeavesNoToolProcessBehind() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["tool_calls": [["id": "c1", "name": "work", "arguments": ["id": "long", "seconds": 60]],
                            ["id": "c2", "name": "work", "arguments": ["id": "also", "seconds": 60]]]],
            ["text": "after"],
        ])
        let agent = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let tools = try TestTools(in: agent.workingFolder)
        let terminal = try PseudoTerminal(agent, arguments: ["--tools-dir", tools.folder.path])
        var mark = try await terminal.waitFor("> ")
        terminal.type("run the long tools\r")
        let pids = try await tools.startedPIDs(count: 2)
        #expect(pids.count == 2, "both tools started")
        // The live status line shows both running.
        mark = try await terminal.waitFor("running 2/8", after: mark)
        terminal.type("\u{03}")
        mark = try await terminal.waitFor("Cancelled", after: mark)
        mark = try await terminal.waitFor("> ", after: mark)
        for pid in pids {
            #expect(await processIsGone(pid), "tool process \(pid) is gone")
        }
        #expect(tools.entries().filter { $0.event == "end" }.isEmpty, "no tool ran to its end")
        terminal.type("/stats json\r")
        mark = try await terminal.waitFor("\"cancelled\":2", after: mark)
        terminal.type("/quit\r")
        #expect(try await terminal.waitForExit() == 0)
    }

    @Test func sigtermStopsTheToolsAndExits() async throws {
        let server = try await FakeOpenAIServer.start(script: [
            ["tool_calls": [["id": "c1", "name": "work", "arguments": ["id": "long", "seconds": 60]]]],
        ])
        let agent = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let tools = try TestTools(in: agent.workingFolder)
        let terminal = try PseudoTerminal(agent, arguments: ["--tools-dir", tools.folder.path])
        let mark = try await terminal.waitFor("> ")
        terminal.type("run the long tool\r")
        let pid = try #require(try await tools.startedPIDs(count: 1).first)
        _ = try await terminal.waitFor("running 1/8", after: mark)
        kill(terminal.pid, SIGTERM)
        #expect(try await terminal.waitForExit() == 128 + SIGTERM)
        #expect(await processIsGone(pid), "the tool died with agent-repl")
    }

    /// True once `pid` no longer exists (agent-repl reaps its tools, so no zombie either).
    private func processIsGone(_ pid: Int32) async -> Bool {
        for _ in 0..<1000 {
            if kill(pid, 0) != 0 && errno == ESRCH { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return false
    }
}
