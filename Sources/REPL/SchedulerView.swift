import Agent
import Foundation
import JSON
import Scheduler
import Tools

/// Text renderings of the scheduler for `/stats`, `/tasks`, `/task ID` and the live status line.
enum SchedulerView {
    static func statsTable(_ s: SchedulerStats) -> String {
        var lines: [String] = []
        lines.append("strategy \(s.strategy.rawValue) · workers \(s.workers) · quantum \(ms(s.quantumMs)) · boost every \(ms(s.boostPeriodMs))")
        let cores = s.cpuSlots.map { " · CPU-bound \(s.cpuBoundRunning) of \($0) cores" } ?? ""
        lines.append("now      running \(s.running) · paused \(s.paused) · queued \(s.queued)\(cores)")
        let levels = s.levels.map { "L\($0.level) (\(ms($0.quantumMs))): \($0.running) running, \($0.queued) waiting" }
        lines.append("levels   " + levels.joined(separator: " · "))
        lines.append("tasks    submitted \(s.submitted) · completed \(s.completed) · failed \(s.failed) · cancelled \(s.cancelled) · timed out \(s.timedOut)")
        lines.append("events   preemptions \(s.preemptions) · demotions \(s.demotions) · boosts \(s.boosts)")
        lines.append("times    wait avg \(ms(s.avgWaitMs)) p95 \(ms(s.p95WaitMs)) · turnaround avg \(ms(s.avgTurnaroundMs)) p95 \(ms(s.p95TurnaroundMs))")
        if !s.tools.isEmpty {
            let width = max(4, s.tools.keys.map(\.count).max() ?? 0)
            lines.append("")
            lines.append(pad("tool", width) + "  " + lpad("count", 6) + "  " + lpad("avg", 9) + "  " + lpad("p95", 9) + "  cpu")
            for name in s.tools.keys.sorted() {
                let t = s.tools[name]!
                let cpu = t.cpuBound.map { $0 ? "bound" : "light" } ?? "-"
                lines.append(pad(name, width) + "  " + lpad("\(t.count)", 6) + "  " + lpad(ms(t.avgMs), 9) + "  " + lpad(ms(t.p95Ms), 9) + "  " + cpu)
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// `/stats json`: the scheduler's keys and the session's `model` object, in one line.
    static func statsJSON(_ s: SchedulerStats, model: ModelUsage) -> String {
        var object = s.json
        object["model"] = ModelUsageView.json(model)
        return JSONValue.object(object).jsonString + "\n"
    }

    static func taskList(_ records: [TaskRecord]) -> String {
        guard !records.isEmpty else { return "No tasks yet.\n" }
        let width = max(4, records.map(\.name.count).max() ?? 0)
        var lines = [lpad("id", 5) + "  " + pad("tool", width) + "  " + pad("state", 9) + "  level  " + lpad("wait", 9) + "  " + lpad("run", 9) + "  turn"]
        for r in records {
            lines.append(lpad(r.id.description, 5) + "  " + pad(r.name, width) + "  " + pad(r.state.rawValue, 9) + "  "
                + lpad("\(r.level)", 5) + "  " + lpad(ms(r.waitTime.milliseconds), 9) + "  " + lpad(ms(r.runTime.milliseconds), 9)
                + "  " + (r.group ?? "-"))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// One task in full; with the tool's typed result once it has ended (exit status or signal, HTTP
    /// status, stderr tail, why it was refused), else the record's summary.
    static func taskDetail(_ r: TaskRecord, result: ToolResult? = nil) -> String {
        var lines = [
            "task \(r.id): \(r.name) — \(r.state.rawValue)",
            "  turn         \(r.group ?? "-")",
            "  priority     \(r.priority) · level now \(r.level) · preemptible \(r.preemptibility.rawValue)",
            "  arguments    \(r.detail ?? "-")",
            "  wait \(ms(r.waitTime.milliseconds)) · run \(ms(r.runTime.milliseconds)) · paused \(ms(r.pausedTime.milliseconds))"
                + (r.turnaround.map { " · turnaround \(ms($0.milliseconds))" } ?? ""),
            "  preemptions  \(r.preemptions)",
            "  levels       " + r.levelHistory.map { "L\($0.level)@\(ms($0.at.milliseconds - r.submittedAt.milliseconds))" }.joined(separator: " → "),
            "  states       " + r.transitions.map { "\($0.state.rawValue)@\(ms($0.at.milliseconds - r.submittedAt.milliseconds))" }.joined(separator: " → "),
        ]
        if let result {
            lines += toolResultLines(result)
        } else {
            if let output = r.result { lines.append("  result       " + indented(output)) }
            if let error = r.error { lines.append("  error        " + error) }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private static func toolResultLines(_ result: ToolResult) -> [String] {
        var lines = ["  outcome      \(result.outcome.rawValue)"]
        if let signal = result.signal {
            lines.append("  exit         killed by signal \(signal)")
        } else if let code = result.exitCode {
            lines.append("  exit         status \(code)")
        }
        if let status = result.httpStatus { lines.append("  http status  \(status)") }
        if let error = result.error { lines.append("  error        " + indented(error)) }
        if let stderr = result.stderrTail, !stderr.isEmpty { lines.append("  stderr       " + indented(stderr.trimmingCharacters(in: .newlines))) }
        if !result.output.isEmpty {
            let cut = result.output.count > TaskRecord.summaryLimit
            lines.append("  output       " + indented(String(result.output.prefix(TaskRecord.summaryLimit))) + (cut ? " [...]" : ""))
        }
        return lines
    }

    private static func indented(_ text: String) -> String {
        text.replacingOccurrences(of: "\n", with: "\n               ")
    }

    /// One line: what runs, what is paused, what waits at each level.
    static func statusLine(_ s: SchedulerStats, activeTools: [String]) -> String {
        let queued = s.levels.map { "L\($0.level):\($0.queued)" }.joined(separator: " ")
        let tools = activeTools.isEmpty ? "" : " · " + activeTools.joined(separator: ", ")
        return "⏵ running \(s.running)/\(s.workers) · paused \(s.paused) · queued \(queued)\(tools)"
    }

    static func ms(_ value: Double) -> String {
        if value >= 10_000 { return String(format: "%.1fs", value / 1000) }
        if value >= 100 { return String(format: "%.0fms", value) }
        return String(format: "%.1fms", value)
    }

    private static func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
    private static func lpad(_ s: String, _ n: Int) -> String { String(repeating: " ", count: max(0, n - s.count)) + s }
}
