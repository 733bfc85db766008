import Foundation
import Testing

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
}
