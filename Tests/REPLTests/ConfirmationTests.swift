import Foundation
import Synchronization
import Testing
import JSON
import LLM
import Tools
@testable import REPL
@testable import agent_repl

/// `"confirm": true` tools: the console's y/N question, `--yes`, and no terminal.
@Suite(.timeLimit(.minutes(1))) struct ConfirmationTests {
    /// A folder with `guarded` (confirm: true), which writes its arguments to a marker file.
    private func guardedTool() throws -> (TestToolFolder, marker: String) {
        let folder = try TestToolFolder()
        let marker = folder.path("marker")
        try folder.add("guarded", script: "cat > \"$MARKER\"; echo wrote", confirm: true, env: ["MARKER": marker])
        return (folder, marker)
    }

    private let model = ScriptedModel.callingTools { $0 == "guard it" ? [call("guarded", #"{"text":"x"}"#)] : [] }

    @Test func theQuestionIsAskedThroughTheConsoleBeforeTheToolRuns() async throws {
        let (folder, marker) = try guardedTool()
        let ranBeforeTheQuestion = Mutex<Bool?>(nil)
        let console = ScriptedConsole { _, _ in
            ranBeforeTheQuestion.withLock { $0 = FileManager.default.fileExists(atPath: marker) }
            return true
        }
        let repl = REPLHarness(model: model, tools: folder.catalog, console: console)
        let reply = try await repl.enter("guard it")
        #expect(console.questions == [#"guarded {"text":"x"}"#])
        #expect(ranBeforeTheQuestion.withLock { $0 } == false)
        #expect(try String(contentsOfFile: marker, encoding: .utf8).trimmingCharacters(in: .newlines) == #"{"text":"x"}"#)
        #expect(model.requests.last?.toolResults == ["wrote\n"])
        #expect(reply.err.contains("✓ guarded"))
    }

    @Test func noMeansTheToolNeverRunsAndTheModelIsTold() async throws {
        let (folder, marker) = try guardedTool()
        let console = ScriptedConsole { _, _ in false }
        let repl = REPLHarness(model: model, tools: folder.catalog, console: console)
        let reply = try await repl.enter("guard it")
        #expect(console.questions == [#"guarded {"text":"x"}"#])
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(model.requests.last?.toolResults == ["error: the user declined to run this tool"])
        #expect(reply.err.contains("✗ guarded: error: the user declined to run this tool"))
        #expect(repl.session.scheduler.stats.submitted == 0, "a declined call never became a task")
    }

    @Test func autoApprovalNeverAsks() async throws {
        let (folder, marker) = try guardedTool()
        let console = ScriptedConsole { _, _ in false }
        let repl = REPLHarness(model: model, tools: folder.catalog, console: console) { $0.autoApprove = true }
        try await repl.enter("guard it")
        #expect(console.questions.isEmpty)
        #expect(FileManager.default.fileExists(atPath: marker))
        #expect(model.requests.last?.toolResults == ["wrote\n"])
    }

    @Test func withoutATerminalItIsRefusedWithoutAsking() async throws {
        let (folder, marker) = try guardedTool()
        let console = ScriptedConsole(interactive: false, canConfirm: false) { _, _ in true }
        let repl = REPLHarness(model: model, tools: folder.catalog, console: console)
        try await repl.enter("guard it")
        #expect(console.questions.isEmpty)
        #expect(!FileManager.default.fileExists(atPath: marker))
        #expect(model.requests.last?.toolResults == ["error: the user declined to run this tool"])
    }

    @Test func toolsWithoutConfirmDoNotAsk() async throws {
        let console = ScriptedConsole { _, _ in false }
        let model = ScriptedModel.callingTools { _ in [call("echo", #"{"a":1}"#)] }
        let repl = REPLHarness(model: model, tools: try TestToolFolder.standard().catalog, console: console)
        try await repl.enter("go")
        #expect(console.questions.isEmpty)
        #expect(model.requests.last?.toolResults == ["{\"a\":1}\n"])
    }

    @Test func theStatusLineStepsAsideForTheQuestion() async throws {
        let (folder, _) = try guardedTool()
        let console = ScriptedConsole(statusLine: true) { _, _ in true }
        let repl = REPLHarness(model: model, tools: folder.catalog, console: console)
        try await repl.enter("guard it")
        #expect(console.errAtQuestions.count == 1)
        #expect(console.errAtQuestions.first?.hasSuffix("\r\u{1b}[2K") == true, "the line is cleared before asking")
    }

    // MARK: The terminal's question (the executable)

    @Test func standardProviders() async throws {
        let file = try TestToolFolder().path("tty")
        #expect(TerminalConfirmation.isAvailable(terminalPath: "/nonexistent/tty") == false)
        #expect(FileManager.default.createFile(atPath: file, contents: Data()))
        #expect(TerminalConfirmation.isAvailable(terminalPath: file))

        let style = TerminalConsole.Style.detect(stderrIsTerminal: false, environment: ["TERM": "xterm"])
        let withoutTerminal = TerminalConsole(reader: nil, isInteractive: false, style: style, confirmation: nil)
        #expect(!withoutTerminal.canConfirm)
        #expect(await withoutTerminal.confirm(tool: "x", arguments: "{}") == false)
        #expect(await withoutTerminal.readLine(prompt: "> ") == .endOfInput, "one-shot mode reads no lines")
        let withTerminal = TerminalConsole(reader: nil, isInteractive: true, style: style, confirmation: TerminalConfirmation(terminalPath: file))
        #expect(withTerminal.canConfirm)
    }

    @Test func terminalConfirmationReadsTheAnswer() async throws {
        let folder = try TestToolFolder()
        for (answer, approved) in [("y\n", true), ("YES\n", true), (" y \n", true), ("\n", false), ("n\n", false), ("yep\n", false), ("", false)] {
            let file = folder.path("tty-\(approved)-\(answer.count)")
            try answer.write(toFile: file, atomically: true, encoding: .utf8)
            #expect(await TerminalConfirmation(terminalPath: file).confirm(tool: "x", arguments: #"{"a":1}"#) == approved, "answer \(answer.debugDescription)")
            #expect(try String(contentsOfFile: file, encoding: .utf8) == answer + #"Run tool x with {"a":1}? [y/N] "#)
        }
    }

    @Test func terminalStyleFollowsTheTerminalTermAndNoColor() {
        typealias Style = TerminalConsole.Style
        #expect(Style.detect(stderrIsTerminal: true, environment: ["TERM": "xterm"]) == Style(statusLine: true, color: true))
        #expect(Style.detect(stderrIsTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": "1"]) == Style(statusLine: true, color: false))
        #expect(Style.detect(stderrIsTerminal: true, environment: ["TERM": "xterm", "NO_COLOR": ""]) == Style(statusLine: true, color: true))
        #expect(Style.detect(stderrIsTerminal: true, environment: ["TERM": "dumb"]) == Style(statusLine: false, color: false))
        #expect(Style.detect(stderrIsTerminal: false, environment: ["TERM": "xterm"]) == Style(statusLine: false, color: false))
    }
}
