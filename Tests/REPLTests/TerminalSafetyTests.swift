import Foundation
import Testing
import Tools
@testable import REPL

/// Text from the model, a tool or a tools.d file reaches a terminal without control characters or
/// escape sequences; the session's own colours still do, and a pipe gets the model's text exactly.
@Suite(.timeLimit(.minutes(1))) struct TerminalSafetyTests {
    static let clipboard = "\u{1b}]52;c;ZWNobyBwd25lZA==\u{07}"
    static let clipboardST = "\u{1b}]52;c;cm0gLXJmIH4=\u{1b}\\"
    static let clear = "\u{1b}[2J"
    static let title = "\u{1b}]0;owned\u{07}"

    /// Anything a terminal would act on: ESC, C1 controls, and C0 controls other than newline and tab.
    private func controls(_ text: String) -> [Unicode.Scalar] {
        text.unicodeScalars.filter { ($0.value < 0x20 && $0 != "\n" && $0 != "\t") || (0x7F...0x9F).contains($0.value) }
    }

    /// What is left once the session's own colour and status-line sequences are taken out.
    private func withoutOwnSequences(_ text: String) -> String {
        text.replacing(#/\x1b\[[0-9;]*m/#, with: "").replacing("\r\u{1b}[2K", with: "")
    }

    private func hostileModel() -> ScriptedModel {
        ScriptedModel { request in
            if !request.toolResults.isEmpty {
                return .text("Here\(Self.clipboard) is\(Self.clear) the \u{9b}8manswer\(Self.title)\r\n")
            }
            return .calls([call("echo", #"{"say":"x"}"#, id: "a"), call("evil\(Self.title)name", id: "b")])
        }
    }

    @Test func onATerminalModelAndToolTextLoseTheirEscapesButOwnColoursStay() async throws {
        let tools = try TestToolFolder()
            .add("echo", script: "printf 'tool\\033]52;c;dG9vbA==\\033\\\\ out\\033[2J\\n'")
        let console = ScriptedConsole(statusLine: true, color: true, terminal: true)
        let repl = REPLHarness(model: hostileModel(), tools: tools.catalog, console: console)
        let reply = try await repl.enter("go")
        #expect(reply.out == "Here is the answer\n")
        #expect(reply.err.contains("\u{1b}[32m✓\u{1b}[0m echo: tool out"), "\(reply.err.debugDescription)")
        #expect(reply.err.contains("evilname"), "the model's tool name, shown without its escapes")
        #expect(controls(withoutOwnSequences(reply.all)).isEmpty, "\(reply.all.debugDescription)")

        let tasks = try await repl.enter("/tasks")
        let detail = try await repl.enter("/task 1")
        #expect(detail.out.contains("tool out"), "\(detail.all.debugDescription)")
        #expect(controls(tasks.all + detail.all).isEmpty, "\(detail.all.debugDescription)")
    }

    @Test func aBackgroundJobsAnswerIsFilteredToo() async throws {
        let console = ScriptedConsole(terminal: true)
        let repl = REPLHarness(model: ScriptedModel { _ in .text("job\(Self.clipboardST) done") }, console: console)
        try await repl.enter("work &")
        try await repl.waitForJobs()
        let reply = try await repl.enter("/jobs")
        #expect(reply.out.contains("job done"), "\(reply.all.debugDescription)")
        #expect(controls(console.all).isEmpty, "\(console.all.debugDescription)")
    }

    @Test func aToolsFileNameIsFilteredInTheToolList() async throws {
        let tools = try TestToolFolder().add("echo", script: "cat")
        try FileManager.default.moveItem(atPath: tools.path("echo.json"), toPath: tools.path("e\(Self.title)cho.json"))
        let repl = REPLHarness(model: ScriptedModel { _ in .text("x") }, tools: tools.catalog, console: ScriptedConsole(terminal: true))
        let reply = try await repl.enter("/tools")
        #expect(reply.out.contains("echo.json"), "\(reply.all.debugDescription)")
        #expect(controls(reply.all).isEmpty, "\(reply.all.debugDescription)")
    }

    @Test func theQuestionOnTheTerminalIsFiltered() async throws {
        let tools = try TestToolFolder().add("echo", script: "cat", confirm: true)
        let console = ScriptedConsole(terminal: true) { _, _ in true }
        let model = ScriptedModel.callingTools { _ in [call("echo", #"{"a":"\u009b2Jb\u001b]0;t\u0007"}"#)] }
        let repl = REPLHarness(model: model, tools: tools.catalog, console: console)
        try await repl.enter("go")
        let question = try #require(console.questions.first)
        #expect(controls(question).isEmpty, "\(question.debugDescription)")
    }

    @Test func aPipeGetsTheModelsTextExactly() async throws {
        let text = "Here\(Self.clipboard) is\(Self.clear) the\r\u{9b}8m answer"
        let console = ScriptedConsole(interactive: false)
        let repl = REPLHarness(model: ScriptedModel { _ in .text(text) }, console: console)
        let reply = try await repl.enter("go")
        #expect(reply.out == text + "\n")
    }
}
