import Agent
import Scheduler
import Synchronization

/// Shows a turn as it happens: the answer on stdout as it streams; tool progress on stderr, with a
/// status line of the queue redrawn in place on a terminal, and plain lines otherwise.
final class TurnRenderer: Sendable {
    private struct State {
        var endsWithNewline = true
        var wroteText = false
        var statusShown = false
        /// Running calls by id, in start order.
        var active: [(id: String, name: String)] = []
        var refresher: Task<Void, Never>?
        var chunkLatencies: [Duration] = []
        /// The answer's filter on a terminal, which keeps a sequence split across chunks.
        var textFilter = TerminalTextFilter()
    }

    private let state = Mutex(State())
    private let console: any Console
    private let stats: @Sendable () -> SchedulerStats
    /// True while something else (a y/N question) owns the terminal.
    private let quiet: @Sendable () -> Bool
    private let timing: ChunkTiming?

    init(console: any Console, stats: @escaping @Sendable () -> SchedulerStats, quiet: @escaping @Sendable () -> Bool = { false }, timing: ChunkTiming? = nil) {
        self.console = console
        self.stats = stats
        self.quiet = quiet
        self.timing = timing
    }

    func handle(_ event: TurnEvent) {
        switch event {
        case .text(let text):
            state.withLock { s in
                let shown = console.outputIsTerminal ? s.textFilter.filter(text) : text
                guard !shown.isEmpty else { return }
                clearStatus(&s)
                console.write(shown)
                if let arrival = timing?.lastChunk { s.chunkLatencies.append(ContinuousClock.now - arrival) }
                s.wroteText = true
                // By scalar: "\r\n" is one Character, which hasSuffix("\n") would not match.
                s.endsWithNewline = shown.unicodeScalars.last == "\n"
                // Tools may run while the answer still streams: their status line comes back once the
                // text's line is complete.
                if console.usesStatusLine && !s.active.isEmpty { drawStatus(&s) }
            }
        case .notice(let text):
            state.withLock { s in
                breakLine(&s)
                clearStatus(&s)
                console.writeError(paint("· \(shown(text))", "2") + "\n")
                if console.usesStatusLine && !s.active.isEmpty { drawStatus(&s) }
            }
        case .toolCallsRequested(let calls):
            state.withLock { s in
                breakLine(&s)
                clearStatus(&s)
                console.writeError(paint("· calling \(shown(calls.map(\.name).joined(separator: ", ")))", "2") + "\n")
                if console.usesStatusLine && s.refresher == nil {
                    s.refresher = Task { [weak self] in
                        while !Task.isCancelled {
                            try? await Task.sleep(for: .milliseconds(200))
                            self?.redraw()
                        }
                    }
                }
            }
        case .toolStarted(let call, let taskID):
            state.withLock { s in
                s.active.append((call.id, shown(call.name)))
                if console.usesStatusLine {
                    drawStatus(&s)
                } else {
                    breakTerminalLine(&s)
                    console.writeError("  ▸ \(shown(call.name)) started" + (taskID.map { " (task \($0))" } ?? "") + "\n")
                }
            }
        case .toolFinished(let call, let ok, let summary):
            state.withLock { s in
                s.active.removeAll { $0.id == call.id }
                breakTerminalLine(&s)
                clearStatus(&s)
                let mark = ok ? paint("✓", "32") : paint("✗", "31")
                console.writeError("  \(mark) \(shown(call.name))" + (summary.isEmpty ? "" : ": \(shown(summary))") + "\n")
                if console.usesStatusLine && !s.active.isEmpty { drawStatus(&s) }
            }
        case .modelCallEnded:
            break
        }
    }

    /// The turn's last line on stderr (its tokens and time), dim like the other status lines.
    func footer(_ text: String) {
        state.withLock { s in
            clearStatus(&s)
            breakLine(&s)
            console.writeError(paint(text, "2") + "\n")
        }
    }

    /// Ends the turn's output: stops the status line and ends the answer's line.
    func finish() {
        let latencies = state.withLock { s -> [Duration] in
            s.refresher?.cancel()
            s.refresher = nil
            s.textFilter.finish()
            clearStatus(&s)
            breakLine(&s)
            return s.chunkLatencies
        }
        if timing != nil, !latencies.isEmpty {
            let sorted = latencies.sorted()
            let us = { (d: Duration) in Int(d.milliseconds * 1000) }
            console.writeError("timing: \(sorted.count) text chunks, socket→screen median \(us(sorted[sorted.count / 2])) µs, max \(us(sorted.last!)) µs\n")
        }
    }

    private func redraw() {
        state.withLock { s in
            if console.usesStatusLine && !s.active.isEmpty { drawStatus(&s) }
        }
    }

    /// Draws the status line, only at the start of a line: drawn in the middle of the answer's text
    /// (tools start while it streams), it would erase that line's beginning on the screen.
    private func drawStatus(_ s: inout State) {
        guard !quiet() else { return clearStatus(&s) }
        guard s.endsWithNewline else { return }
        var names: [String] = []
        for entry in s.active where !names.contains(entry.name) { names.append(entry.name) }
        let line = SchedulerView.statusLine(stats(), activeTools: names)
        console.writeError("\r\u{1b}[2K" + paint(line, "2"))
        s.statusShown = true
    }

    private func clearStatus(_ s: inout State) {
        guard s.statusShown else { return }
        console.writeError("\r\u{1b}[2K")
        s.statusShown = false
    }

    /// Ends the answer's line before a tool's line when both share a terminal (a tool may start or end
    /// while the answer still streams); a piped answer keeps its text as the model wrote it.
    private func breakTerminalLine(_ s: inout State) {
        if console.outputIsTerminal { breakLine(&s) }
    }

    private func breakLine(_ s: inout State) {
        if s.wroteText && !s.endsWithNewline { console.write("\n") }
        s.endsWithNewline = true
    }

    /// A tool name or summary (chosen by the model or written by a tool) as stderr may show it.
    private func shown(_ text: String) -> String {
        console.errorIsTerminal ? TerminalTextFilter.clean(text) : text
    }

    private func paint(_ text: String, _ code: String) -> String {
        console.painted(text, code)
    }
}
