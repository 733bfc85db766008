import Testing
import Agent
import LLM
import Scheduler
@testable import REPL

/// Tools start and end while the answer's text still streams (streaming dispatch): on a terminal the
/// tool lines and the status line must neither cut into nor erase the text.
@Suite struct ToolLinesWhileTextStreamsTests {
    /// What a terminal shows for `output`: "\r\u{1b}[2K" clears the current line, "\n" ends it.
    /// Returns the finished lines and the line the cursor is on.
    private func screen(_ output: String) -> (lines: [String], current: String) {
        let clear = Array("\r\u{1b}[2K".unicodeScalars)
        let scalars = Array(output.unicodeScalars)
        var lines: [String] = []
        var line = String.UnicodeScalarView()
        var i = 0
        while i < scalars.count {
            if scalars[i...].starts(with: clear) {
                line = String.UnicodeScalarView()
                i += clear.count
            } else if scalars[i] == "\n" {
                lines.append(String(line))
                line = String.UnicodeScalarView()
                i += 1
            } else {
                line.append(scalars[i])
                i += 1
            }
        }
        return (lines, String(line))
    }

    @Test func textAfterAToolLineKeepsItsLinesAndTheStatusLineWaitsForALineEnd() async {
        let scheduler = ToolScheduler()
        let console = ScriptedConsole(statusLine: true, terminal: true)
        let renderer = TurnRenderer(console: console, stats: { scheduler.stats })
        let echo = call("echo", id: "a"), slow = call("slow", id: "b")
        renderer.handle(.text("Let me look"))
        renderer.handle(.toolCallsRequested([echo]))
        renderer.handle(.toolStarted(echo, taskID: 1))
        renderer.handle(.text("ing at"))
        renderer.handle(.toolStarted(slow, taskID: 2))  // a status line drawn now would erase "ing at"
        renderer.handle(.text(" both.\n"))
        let statusAfterTheLine = screen(console.all).current
        renderer.handle(.toolFinished(echo, ok: true, summary: "ok"))
        renderer.handle(.text("Still"))
        renderer.handle(.toolFinished(slow, ok: true, summary: "fine"))  // mid-line: on a line of its own
        renderer.handle(.text(" going.\n"))
        renderer.finish()
        #expect(statusAfterTheLine.hasPrefix("⏵ running"), "the status line is back once the text's line ended")
        let shown = screen(console.all)
        #expect(shown.lines == ["Let me look", "· calling echo", "ing at both.", "  ✓ echo: ok", "Still", "  ✓ slow: fine", " going."])
        #expect(shown.current == "", "no status line left behind")
        await scheduler.shutdown()
    }

    @Test func aPipedAnswerKeepsItsTextWhenAToolEndsMidLine() async {
        let scheduler = ToolScheduler()
        let console = ScriptedConsole(interactive: false, statusLine: false)
        let renderer = TurnRenderer(console: console, stats: { scheduler.stats })
        let echo = call("echo", id: "a")
        renderer.handle(.toolCallsRequested([echo]))
        renderer.handle(.toolStarted(echo, taskID: 1))
        renderer.handle(.text("half"))
        renderer.handle(.toolFinished(echo, ok: true, summary: "ok"))
        renderer.handle(.text(" whole"))
        renderer.finish()
        #expect(console.out == "half whole\n")
        #expect(console.err == "· calling echo\n  ▸ echo started (task 1)\n  ✓ echo: ok\n")
        await scheduler.shutdown()
    }
}
