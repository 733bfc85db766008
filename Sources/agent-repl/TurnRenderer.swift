import Agent
import JSON
import LLM
import Scheduler
import Tools
import Foundation
import Synchronization

/// Shows a turn as it happens: the answer on stdout as it streams; tool progress on stderr, with a
/// status line of the queue redrawn in place on a terminal, and plain lines otherwise.
final class TurnRenderer: Sendable {
    struct Style: Sendable {
        /// stderr is a terminal: redraw a status line in place.
        var live: Bool
        var color: Bool

        static func detect() -> Style {
            let live = isatty(2) == 1 && ProcessInfo.processInfo.environment["TERM"] != "dumb"
            return Style(live: live, color: live && ProcessInfo.processInfo.environment["NO_COLOR"].map(\.isEmpty) ?? true)
        }
    }

    private struct State {
        var endsWithNewline = true
        var wroteText = false
        var statusShown = false
        /// Running calls by id, in start order.
        var active: [(id: String, name: String)] = []
        var refresher: Task<Void, Never>?
        var chunkLatencies: [Duration] = []
    }

    private let state = Mutex(State())
    private let style: Style
    private let stats: @Sendable () -> SchedulerStats
    /// True while something else (a y/N question) owns the terminal.
    private let quiet: @Sendable () -> Bool
    private let timing: ChunkTiming?

    init(style: Style, stats: @escaping @Sendable () -> SchedulerStats, quiet: @escaping @Sendable () -> Bool = { false }, timing: ChunkTiming? = nil) {
        self.style = style
        self.stats = stats
        self.quiet = quiet
        self.timing = timing
    }

    func handle(_ event: TurnEvent) {
        switch event {
        case .text(let text):
            guard !text.isEmpty else { return }
            state.withLock { s in
                clearStatus(&s)
                Output.out(text)
                if let arrival = timing?.lastChunk { s.chunkLatencies.append(ContinuousClock.now - arrival) }
                s.wroteText = true
                s.endsWithNewline = text.hasSuffix("\n")
            }
        case .toolCallsRequested(let calls):
            state.withLock { s in
                breakLine(&s)
                clearStatus(&s)
                Output.err(paint("· calling \(calls.map(\.name).joined(separator: ", "))", "2") + "\n")
                if style.live && s.refresher == nil {
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
                s.active.append((call.id, call.name))
                if style.live {
                    drawStatus(&s)
                } else {
                    Output.err("  ▸ \(call.name) started" + (taskID.map { " (task \($0))" } ?? "") + "\n")
                }
            }
        case .toolFinished(let call, let ok, let summary):
            state.withLock { s in
                s.active.removeAll { $0.id == call.id }
                clearStatus(&s)
                let mark = ok ? paint("✓", "32") : paint("✗", "31")
                Output.err("  \(mark) \(call.name)" + (summary.isEmpty ? "" : ": \(summary)") + "\n")
                if style.live && !s.active.isEmpty { drawStatus(&s) }
            }
        }
    }

    /// Ends the turn's output: stops the status line and ends the answer's line.
    func finish() {
        let latencies = state.withLock { s -> [Duration] in
            s.refresher?.cancel()
            s.refresher = nil
            clearStatus(&s)
            breakLine(&s)
            return s.chunkLatencies
        }
        if timing != nil, !latencies.isEmpty {
            let sorted = latencies.sorted()
            let us = { (d: Duration) in Int(d.milliseconds * 1000) }
            Output.err("timing: \(sorted.count) text chunks, socket→screen median \(us(sorted[sorted.count / 2])) µs, max \(us(sorted.last!)) µs\n")
        }
    }

    private func redraw() {
        state.withLock { s in
            if style.live && !s.active.isEmpty { drawStatus(&s) }
        }
    }

    private func drawStatus(_ s: inout State) {
        guard !quiet() else { return clearStatus(&s) }
        var names: [String] = []
        for entry in s.active where !names.contains(entry.name) { names.append(entry.name) }
        let line = SchedulerView.statusLine(stats(), activeTools: names)
        Output.err("\r\u{1b}[2K" + paint(line, "2"))
        s.statusShown = true
    }

    private func clearStatus(_ s: inout State) {
        guard s.statusShown else { return }
        Output.err("\r\u{1b}[2K")
        s.statusShown = false
    }

    private func breakLine(_ s: inout State) {
        if s.wroteText && !s.endsWithNewline { Output.out("\n") }
        s.endsWithNewline = true
    }

    private func paint(_ text: String, _ code: String) -> String {
        style.color ? "\u{1b}[\(code)m\(text)\u{1b}[0m" : text
    }
}

/// When the last body chunk came off the socket (the `--debug-timing` probe).
final class ChunkTiming: Sendable {
    private let last = Mutex<ContinuousClock.Instant?>(nil)
    var lastChunk: ContinuousClock.Instant? { last.withLock { $0 } }
    func record(_ instant: ContinuousClock.Instant) { last.withLock { $0 = instant } }
}
