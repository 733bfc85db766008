import Foundation
import Testing
import JSON
@testable import Tools

/// Records what it was asked and answers as told.
final class ScriptedConfirmation: ConfirmationProvider, @unchecked Sendable {
    let answer: Bool
    private let lock = NSLock()
    private var asked: [(String, String)] = []
    init(answer: Bool) { self.answer = answer }
    func confirm(tool: String, arguments: String) async -> Bool {
        lock.withLock { asked.append((tool, arguments)) }
        return answer
    }
    var questions: [String] { lock.withLock { asked.map { "\($0.0) \($0.1)" } } }
}

@Suite struct ConfirmationTests {
    @Test func declinedToolDoesNotRun() async {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let asker = ScriptedConfirmation(answer: false)
        let tool = Fixtures.execTool("sleeper.sh", env: ["PIDFILE": tmp.path + "/pid"], confirm: true)
        let result = await ToolRunner(confirmation: asker).run(tool, arguments: #"{"a": 1}"#)
        #expect(result.outcome == .declined)
        #expect(result.modelContent == "error: the user declined to run this tool")
        #expect(asker.questions == [#"t {"a":1}"#])
        #expect(!FileManager.default.fileExists(atPath: tmp.path + "/pid"))
    }

    @Test func approvedToolRuns() async {
        let result = await ToolRunner(confirmation: ScriptedConfirmation(answer: true)).run(Fixtures.execTool("echo_stdin.sh", confirm: true), arguments: "{}")
        #expect(result.output == "{}\n")
    }

    @Test func toolsWithoutConfirmDoNotAsk() async {
        let asker = ScriptedConfirmation(answer: false)
        let result = await ToolRunner(confirmation: asker).run(Fixtures.execTool("echo_stdin.sh"), arguments: "{}")
        #expect(result.ok)
        #expect(asker.questions.isEmpty)
    }

    @Test func standardProviders() async {
        #expect(await Confirmations.standard(autoApprove: true).confirm(tool: "x", arguments: "{}"))
        #expect(await RefusingConfirmation().confirm(tool: "x", arguments: "{}") == false)
        #expect(TerminalConfirmation.isAvailable(terminalPath: "/nonexistent/tty") == false)
    }

    @Test func terminalConfirmationReadsTheAnswer() async {
        let tmp = TempFolder()
        defer { tmp.remove() }
        let fake = tmp.write("tty", "y\n")
        #expect(await TerminalConfirmation(terminalPath: fake).confirm(tool: "x", arguments: "{}"))
        let no = tmp.write("tty2", "\n")
        #expect(await TerminalConfirmation(terminalPath: no).confirm(tool: "x", arguments: "{}") == false)
    }

    @Test func unknownToolByNameIsAResult() async {
        let catalog = ToolCatalog(tools: [BuiltinTools.declaration("now")!])
        let result = await ToolRunner().start(toolNamed: "nwo", in: catalog, arguments: "{}").result()
        #expect(result.outcome == .invalidArguments)
        #expect(result.error == "there is no tool named 'nwo'. Did you mean 'now'? Available tools: now")
        #expect(catalog.openAITools.first?["function"]?["name"] == "now")
    }

    @Test func unknownToolSuggestsAName() {
        let result = ToolRunner.unknownTool("get_wether", known: ["get_weather", "now"])
        #expect(result.error == "there is no tool named 'get_wether'. Did you mean 'get_weather'? Available tools: get_weather, now")
    }
}
