import Foundation
import Testing
import TestSupport

/// The REPL on a real pseudo-terminal: prompt, streamed answer, line editing keys, history.
@Suite struct REPLTerminalTests {
    @Test func promptAnswerCtrlCUpAndCtrlD() async throws {
        let agent = try AgentProcess()
        let terminal = try PseudoTerminal(agent)
        var mark = try await terminal.waitFor("> ")
        #expect(terminal.output.contains("demo model"))

        terminal.type("héllo wörld\r")
        mark = try await terminal.waitFor("can't really answer \"héllo wörld\"", after: mark)
        mark = try await terminal.waitFor("> ", after: mark)

        // Ctrl-C at the prompt clears the line and the REPL stays.
        terminal.type("half typed")
        mark = try await terminal.waitFor("half typed", after: mark)
        terminal.type("\u{03}")
        mark = try await terminal.waitFor("^C", after: mark)
        mark = try await terminal.waitFor("> ", after: mark)

        // Tab completes slash commands.
        terminal.type("/he\t\r")
        mark = try await terminal.waitFor("list the commands", after: mark)

        // Up recalls the previous prompt.
        terminal.type("\u{1b}[A")
        mark = try await terminal.waitFor("/help", after: mark)
        terminal.type("\u{15}")  // Ctrl-U clears the recalled line

        // Ctrl-D leaves cleanly.
        terminal.type("\u{04}")
        #expect(try await terminal.waitForExit() == 0)

        let history = try String(contentsOf: URL(fileURLWithPath: agent.environment["XDG_DATA_HOME"]!)
            .appendingPathComponent("agent-repl/history"), encoding: .utf8)
        #expect(history.contains("h\\351llo") || history.contains("héllo"))
    }

    @Test func historySurvivesARestart() async throws {
        let agent = try AgentProcess()
        do {
            let terminal = try PseudoTerminal(agent)
            let mark = try await terminal.waitFor("> ")
            terminal.type("remember this line\r")
            try await terminal.waitFor("> ", after: await terminal.waitFor("remember this line", after: mark))
            terminal.type("/quit\r")
            #expect(try await terminal.waitForExit() == 0)
        }
        let terminal = try PseudoTerminal(agent)
        let mark = try await terminal.waitFor("> ")
        terminal.type("\u{1b}[A\u{1b}[A")
        try await terminal.waitFor("remember this line", after: mark)
        terminal.type("\u{15}/quit\r")
        #expect(try await terminal.waitForExit() == 0)
    }

    @Test func demoFlagWinsOverAKeyAndTheBannerSaysSo() async throws {
        let agent = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": "http://127.0.0.1:1/v1"])
        let terminal = try PseudoTerminal(agent, arguments: ["--demo"])
        var mark = try await terminal.waitFor("> ")
        #expect(terminal.output.contains(" · demo model (offline; set OPENAI_API_KEY or --base-url, or start a local server, for a real one) · "))
        terminal.type("hello\r")
        mark = try await terminal.waitFor("can't really answer \"hello\"", after: mark)
        terminal.type("/quit\r")
        #expect(try await terminal.waitForExit() == 0)
        #expect(!terminal.output.contains("Could not connect"))
    }

    @Test func noColorLeavesColourOutOfTheTerminal() async throws {
        var transcripts: [String] = []
        for noColor in [false, true] {
            let server = try await FakeOpenAIServer.start(script: [toolCalls([("work", ["id": "a"])]), text("all done")])
            var environment = ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL]
            if noColor { environment["NO_COLOR"] = "1" }
            let agent = try AgentProcess(environment: environment)
            let tools = try TestTools(in: agent.workingFolder)
            let terminal = try PseudoTerminal(agent, arguments: ["--tools-dir", tools.folder.path])
            var mark = try await terminal.waitFor("> ")
            terminal.type("go\r")
            mark = try await terminal.waitFor("all done", after: mark)
            try await terminal.waitFor("> ", after: mark)
            terminal.type("/quit\r")
            #expect(try await terminal.waitForExit() == 0)
            transcripts.append(terminal.output)
        }
        let colour = #/\x1b\[[0-9;]*m/#
        #expect(transcripts[0].contains(colour), "colour on a terminal by default")
        #expect(transcripts[0].contains("\u{1b}[32m✓\u{1b}[0m work"))
        #expect(!transcripts[1].contains(colour), "no colour with NO_COLOR: \(transcripts[1].debugDescription)")
        #expect(transcripts[1].contains("✓ work: done a"))
    }

    @Test func sighupExitsWith129AndRestoresTheTerminal() async throws {
        let agent = try AgentProcess()
        let terminal = try PseudoTerminal(agent)
        try await terminal.waitFor("> ")
        #expect(terminal.mode != terminal.initialMode, "the line editor changed the mode while reading")
        kill(terminal.pid, SIGHUP)
        #expect(try await terminal.waitForExit() == 128 + SIGHUP)
        #expect(terminal.mode == terminal.initialMode)
    }
}
