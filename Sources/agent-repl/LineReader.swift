import REPL

/// Where prompts come from: libedit on a terminal, plain lines otherwise.
protocol LineReader: Sendable {
    func read(prompt: String) async -> LineInput
    /// Saves what must survive the session (the history).
    func close()
    /// Leaves the terminal usable when exiting in the middle of a read.
    func restoreTerminal()
}
