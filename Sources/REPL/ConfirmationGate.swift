import Agent
import Synchronization

/// The console's y/N question as the agent's `ConfirmationProvider`, knowing while a question owns
/// the terminal so the status line steps aside.
final class ConfirmationGate: ConfirmationProvider {
    private let console: any Console
    private let asking = Mutex(0)

    init(_ console: any Console) {
        self.console = console
    }

    /// True while a question waits for its answer.
    var isAsking: Bool { asking.withLock { $0 > 0 } }

    func confirm(tool: String, arguments: String) async -> Bool {
        asking.withLock { $0 += 1 }
        defer { asking.withLock { $0 -= 1 } }
        if console.usesStatusLine { console.writeError("\r\u{1b}[2K") }
        // The question goes to the terminal: the model chose the arguments.
        return await console.confirm(tool: TerminalTextFilter.clean(tool), arguments: TerminalTextFilter.clean(arguments))
    }
}
