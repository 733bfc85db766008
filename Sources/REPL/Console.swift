/// Where a session reads prompts and writes what the user sees: the terminal (or pipes) in the
/// executable, a scripted stand-in in tests.
///
/// `write` is the answer (stdout); `writeError` is progress, the status line and errors (stderr).
/// Writes appear at once, in call order.
public protocol Console: Sendable {
    /// A person types at a terminal: the session shows its banner and prompts.
    var isInteractive: Bool { get }
    /// Progress may be a status line redrawn in place (stderr is a terminal); otherwise plain lines.
    var usesStatusLine: Bool { get }
    /// stdout is a terminal: text from the model, a tool or a file is shown there through
    /// `TerminalTextFilter`. A pipe or a file gets it exactly as it came.
    var outputIsTerminal: Bool { get }
    /// stderr is a terminal: tool names, summaries and errors are filtered there.
    var errorIsTerminal: Bool { get }
    /// Colours (escape sequences) are allowed in progress output.
    var usesColor: Bool { get }
    /// There is a terminal to ask a y/N question on; without one, tools that want confirmation are refused.
    var canConfirm: Bool { get }

    /// Shows `prompt` and waits for a line (without its newline), Ctrl-C or the end of input.
    func readLine(prompt: String) async -> LineInput
    func write(_ text: String)
    func writeError(_ text: String)
    /// Asks `Run tool NAME with ARGS? [y/N]`; true only for a yes.
    func confirm(tool: String, arguments: String) async -> Bool
}

extension Console {
    /// Writes text that came from the model, a tool or a file to stdout: on a terminal without
    /// control characters or escape sequences (`TerminalTextFilter`), elsewhere exactly as it is.
    func show(_ text: String) {
        write(outputIsTerminal ? TerminalTextFilter.clean(text) : text)
    }

    /// `text` in the SGR colour or style `code` (e.g. "2", dim) when colours are allowed, else as it is.
    func painted(_ text: String, _ code: String) -> String {
        usesColor ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text
    }

    /// `show` for stderr.
    func showError(_ text: String) {
        writeError(errorIsTerminal ? TerminalTextFilter.clean(text) : text)
    }
}
