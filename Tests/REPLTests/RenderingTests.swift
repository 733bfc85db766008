import Foundation
import Testing
import Agent
import HTTP
import JSON
import LLM
import Tools
@testable import REPL

/// What a session shows: banner, streamed answer, tool progress, colours, errors, one-shot mode.
@Suite(.timeLimit(.minutes(1))) struct RenderingTests {
    private let twoTools = ScriptedModel.callingTools { _ in [call("echo", #"{"n":1}"#, id: "a"), call("fail", id: "b")] }

    /// Any SGR (colour) escape sequence.
    private func hasColour(_ text: String) -> Bool {
        text.contains(#/\x1b\[[0-9;]*m/#)
    }

    @Test func withoutATerminalEachToolIsAPlainLineOnStderr() async throws {
        let console = ScriptedConsole(interactive: false, statusLine: false)
        let repl = REPLHarness(model: twoTools, tools: try TestToolFolder.standard().catalog, console: console)
        let reply = try await repl.enter("go")
        let lines = reply.err.split(separator: "\n").map(String.init)
        #expect(lines.first == "· calling echo, fail")
        #expect(lines.contains { $0.hasPrefix("  ▸ echo started (task ") })
        #expect(lines.contains { $0.hasPrefix("  ▸ fail started (task ") })
        #expect(lines.contains(#"  ✓ echo: {"n":1}"#))
        #expect(lines.contains { $0.hasPrefix("  ✗ fail: ") && $0.contains("3") })
        #expect(!reply.all.contains("\u{1b}"), "no escape sequences at all")
        #expect(reply.out.hasPrefix("done: "))
    }

    @Test func aNoticeFromTheModelClientIsOneLineOnStderrBeforeTheAnswer() async throws {
        let model = ScriptedModel { _ in .noticeThenText("Answers now come whole.", "the answer") }
        let repl = REPLHarness(model: model, console: ScriptedConsole(interactive: false, statusLine: false))
        let reply = try await repl.enter("hi")
        #expect(try #/· Answers now come whole\.\n· \d+\.\d s\n/#.wholeMatch(in: reply.err) != nil, "then the footer: \(reply.err)")
        #expect(reply.out == "the answer\n")
    }

    @Test func onATerminalTheStatusLineIsRedrawnAndColoured() async throws {
        let console = ScriptedConsole(statusLine: true, color: true)
        let repl = REPLHarness(model: twoTools, tools: try TestToolFolder.standard().catalog, console: console)
        let reply = try await repl.enter("go")
        #expect(reply.err.contains("\u{1b}[2m· calling echo, fail\u{1b}[0m"))
        #expect(reply.err.contains("\u{1b}[32m✓\u{1b}[0m echo"))
        #expect(reply.err.contains("\u{1b}[31m✗\u{1b}[0m fail"))
        #expect(!reply.err.contains("started"), "no plain start lines on a terminal")
    }

    @Test func colourOffMeansNoColourSequences() async throws {
        let console = ScriptedConsole(statusLine: true, color: false)
        let repl = REPLHarness(model: twoTools, tools: try TestToolFolder.standard().catalog, console: console)
        let reply = try await repl.enter("go")
        #expect(reply.err.contains("✓ echo"))
        #expect(!hasColour(reply.all), "\(reply.all.debugDescription)")
    }

    @Test func theAnswerGoesToStdoutEndingItsLine() async throws {
        let repl = REPLHarness(model: ScriptedModel { _ in .text("no newline at the end") })
        let reply = try await repl.enter("hi")
        #expect(reply.out == "no newline at the end\n")
        #expect(try #/· \d+\.\d s\n/#.wholeMatch(in: reply.err) != nil, "only the footer, without usage: \(reply.err)")
    }

    @Test func theBannerShowsOnATerminalOnly() async throws {
        let tools = try TestToolFolder.standard().catalog
        let repl = REPLHarness(model: ScriptedModel { _ in .text("x") }, tools: tools) { $0.scheduler.workers = 3 }
        try await repl.waitForPrompt()
        #expect(repl.console.out == "agent-repl \(AgentReplVersion.string) · scripted · 2 tools · mlfq on 3 workers · /help for commands\n")

        let piped = REPLHarness(model: ScriptedModel { _ in .text("x") }, tools: tools, console: ScriptedConsole(interactive: false))
        try await piped.enter("/workers")
        #expect(piped.console.out == "Workers: 8.\n")
        #expect(piped.console.prompts == ["", ""], "no prompt is shown without a terminal")
        #expect(try await piped.close() == 0)
        #expect(piped.console.out == "Workers: 8.\n", "and no newline at the end of input")
    }

    @Test func theBannerSaysHowTheModelWasFound() async throws {
        let repl = REPLHarness(model: ScriptedModel { _ in .text("x") }) { $0.modelNote = "the local server found on port 11434" }
        try await repl.waitForPrompt()
        #expect(repl.console.out.contains(" · scripted (the local server found on port 11434) · 0 tools · "))
    }

    @Test func theDemoModelIsNamedAsSuchAndRunsRealTools() async throws {
        let repl = REPLHarness(model: DemoModel(wordDelay: .zero), tools: try TestToolFolder.standard().catalog)
        try await repl.waitForPrompt()
        #expect(repl.console.out.contains(" · demo model (offline; set OPENAI_API_KEY or --base-url, or start a local server, for a real one) · 2 tools · "))
        let reply = try await repl.enter("echo this please")
        #expect(reply.out.contains("I ran 1 tool in parallel. Results:\n- echo: {}"))
        #expect(try await repl.enter("/model").out == "Model: test-model (demo model (offline; set OPENAI_API_KEY or --base-url, or start a local server, for a real one))\n")
    }

    @Test func brokenToolFilesAreReportedAtTheStart() async throws {
        let folder = try TestToolFolder.standard()
        try "{\"name\": \"x\",".write(toFile: folder.path("broken.json"), atomically: true, encoding: .utf8)
        let repl = REPLHarness(model: ScriptedModel { _ in .text("x") }, tools: folder.catalog)
        try await repl.waitForPrompt()
        #expect(repl.console.err.hasPrefix(folder.path("broken.json") + ":"))
        #expect(try await repl.enter("/tools").out.split(separator: "\n").count == 2, "the other files still load")
    }

    // MARK: Errors

    @Test func aFailedTurnIsASentenceWithTheCommandLineHint() async throws {
        let repl = REPLHarness(model: ScriptedModel { _ in
            .failure(ChatError(.connectionRefused, "Could not connect to http://127.0.0.1:1/v1: connection refused. Is the server running?"))
        })
        let reply = try await repl.enter("hi")
        #expect(reply.err == "Error: Could not connect to http://127.0.0.1:1/v1: connection refused. Is the server running? "
            + "Set the endpoint with --base-url or OPENAI_BASE_URL.\n")
        #expect(reply.out.isEmpty)
    }

    @Test func theStepLimitNamesItsFlag() async throws {
        let looping = ScriptedModel { _ in .calls([call("echo")]) }
        let repl = REPLHarness(model: looping, tools: try TestToolFolder.standard().catalog) { $0.maxSteps = 2 }
        let reply = try await repl.enter("loop")
        // The error, then the footer of the two calls the model answered.
        #expect(try #/(?s).*\nError: Stopped after 2 model calls without a final answer \(the step limit\)\. Raise the limit with --max-steps\.\n· \d+\.\d s \(model [0-9.]+ s, tools [0-9.]+ s\)\n/#
            .wholeMatch(in: reply.err) != nil, "\(reply.err)")
        #expect(looping.requests.count == 2)
    }

    @Test func hintsByErrorCode() {
        func message(_ code: ChatError.Code) -> String { ErrorHint.message(for: ChatError(code, "Sentence.")) }
        #expect(message(.missingAPIKey) == "Sentence. Or run with --demo for the offline demo model.")
        for code in [ChatError.Code.connectionRefused, .hostNotFound, .connectTimeout, .endpointNotFound] {
            #expect(message(code) == "Sentence. Set the endpoint with --base-url or OPENAI_BASE_URL.")
        }
        #expect(message(.modelNotFound) == "Sentence. Choose another with --model or /model.")
        for code in [ChatError.Code.invalidAPIKey, .rateLimited, .serverError, .badRequest, .incompleteResponse] {
            #expect(message(code) == "Sentence.")
        }
        struct Other: Error, CustomStringConvertible { var description: String { "other" } }
        #expect(ErrorHint.message(for: Other()) == "other")
    }

    // MARK: One-shot

    @Test func oneShotAnswersOnStdoutAndFailsWithOne() async throws {
        let console = ScriptedConsole(interactive: false)
        let session = Session(model: ScriptedModel { .text("answer to \($0.prompt)") }, catalog: ToolCatalog(), console: console,
                              options: SessionOptions(modelName: "m"))
        #expect(await session.runOneShot("hi") == 0)
        #expect(console.out == "answer to hi\n")
        #expect(console.prompts.isEmpty)

        let failing = ScriptedConsole(interactive: false)
        let broken = Session(model: ScriptedModel { _ in .failure(ChatError(.invalidAPIKey, "The API key was rejected (401).")) },
                             catalog: ToolCatalog(), console: failing, options: SessionOptions(modelName: "m"))
        #expect(await broken.runOneShot("hi") == 1)
        #expect(failing.err == "Error: The API key was rejected (401).\n")
        #expect(failing.out.isEmpty)
    }
}
