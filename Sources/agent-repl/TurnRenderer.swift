import AgentRuntime
import Foundation
import Synchronization

/// Shows a turn as it happens: answer text on stdout as it streams, tool progress on stderr.
final class TurnRenderer: Sendable {
    private struct State {
        var endsWithNewline = true
        var wroteText = false
    }
    private let state = Mutex(State())
    private let debugTiming: Bool

    init(debugTiming: Bool) {
        self.debugTiming = debugTiming
    }

    func handle(_ event: TurnEvent) {
        switch event {
        case .text(let text):
            guard !text.isEmpty else { return }
            Output.out(text)
            state.withLock {
                $0.wroteText = true
                $0.endsWithNewline = text.hasSuffix("\n")
            }
        case .toolCallsRequested(let calls):
            breakLine()
            Output.err("· calling \(calls.map(\.name).joined(separator: ", "))\n")
        case .toolStarted(let call, _):
            Output.err("  ▸ \(call.name) started\n")
        case .toolFinished(let call, let ok, let summary):
            Output.err("  \(ok ? "✓" : "✗") \(call.name): \(summary)\n")
        case .modelCalled:
            break
        }
    }

    /// Ends the answer with a newline so the next prompt starts on its own line.
    func finish() {
        breakLine()
    }

    private func breakLine() {
        let needsNewline = state.withLock { s -> Bool in
            defer { s.endsWithNewline = true }
            return s.wroteText && !s.endsWithNewline
        }
        if needsNewline { Output.out("\n") }
    }
}
