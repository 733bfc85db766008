import Foundation
import REPL

/// The console of the real process: stdout and stderr, lines from libedit (a terminal) or a pipe,
/// and the y/N question on the controlling terminal.
final class TerminalConsole: Console {
    let isInteractive: Bool
    let usesStatusLine: Bool
    let usesColor: Bool
    let outputIsTerminal = isatty(1) == 1
    let errorIsTerminal = isatty(2) == 1
    /// nil in one-shot mode, which reads no lines.
    private let reader: (any LineReader)?
    private let confirmation: TerminalConfirmation?

    init(reader: (any LineReader)?, isInteractive: Bool, style: Style, confirmation: TerminalConfirmation?) {
        self.reader = reader
        self.isInteractive = isInteractive
        self.usesStatusLine = style.statusLine
        self.usesColor = style.color
        self.confirmation = confirmation
    }

    /// The console for this process: libedit when stdin is a terminal, plain lines otherwise, none
    /// for a one-shot prompt.
    static func standard(oneShot: Bool, environment: [String: String]) -> TerminalConsole {
        let interactive = !oneShot && isatty(0) == 1
        let reader: (any LineReader)?
        if oneShot {
            reader = nil
        } else if interactive {
            reader = EditLineReader(historyFile: EditLineReader.historyFile(environment: environment), completions: SlashCommand.all.map(\.name))
        } else {
            reader = PlainLineReader()
        }
        return TerminalConsole(
            reader: reader, isInteractive: interactive,
            style: Style.detect(stderrIsTerminal: isatty(2) == 1, environment: environment),
            confirmation: TerminalConfirmation.isAvailable() ? TerminalConfirmation() : nil)
    }

    struct Style: Equatable {
        /// Redraw a status line in place.
        var statusLine: Bool
        var color: Bool

        /// A status line on a terminal that can redraw (not `TERM=dumb`); colour there unless `NO_COLOR` is set.
        static func detect(stderrIsTerminal: Bool, environment: [String: String]) -> Style {
            let live = stderrIsTerminal && environment["TERM"] != "dumb"
            return Style(statusLine: live, color: live && (environment["NO_COLOR"] ?? "").isEmpty)
        }
    }

    var canConfirm: Bool { confirmation != nil }

    func readLine(prompt: String) async -> LineInput {
        await reader?.read(prompt: prompt) ?? .endOfInput
    }

    func write(_ text: String) { Output.out(text) }
    func writeError(_ text: String) { Output.err(text) }

    func confirm(tool: String, arguments: String) async -> Bool {
        await confirmation?.confirm(tool: tool, arguments: arguments) ?? false
    }

    /// Saves the line history.
    func close() {
        reader?.close()
    }

    /// Saves the history and puts the terminal back as it was (exiting on a signal mid-read).
    func restoreTerminal() {
        reader?.close()
        reader?.restoreTerminal()
    }
}
