import Agent
import Foundation
import JSON
import Scheduler

/// Text renderings of the model's usage: the model section of `/stats`, its `model` object in
/// `/stats json`, and the footer of each turn.
enum ModelUsageView {
    /// The lines under the scheduler's in `/stats`. A token kind no call reported reads "unknown".
    static func table(_ u: ModelUsage) -> String {
        let without = u.callsWithoutUsage == 0 ? "" : " (\(u.callsWithoutUsage) without usage: their tokens are unknown)"
        var firstToken = "-"
        if let p50 = u.timeToFirstToken(percentile: 0.5), let p95 = u.timeToFirstToken(percentile: 0.95) {
            firstToken = "p50 \(SchedulerView.ms(p50.milliseconds)) p95 \(SchedulerView.ms(p95.milliseconds))"
        }
        return """
            model    calls \(u.calls)\(without)
            tokens   input \(count(u.inputTokens)) · cached input \(count(u.cachedInputTokens)) · output \(count(u.outputTokens)) · reasoning \(count(u.reasoningTokens))
            time     in the model \(SchedulerView.ms(u.modelTime.milliseconds)) · in tools \(SchedulerView.ms(u.toolTime.milliseconds)) · first token \(firstToken)

            """
    }

    /// One turn in one line for stderr, e.g. `· 1 240 in (1 024 cached) · 310 out · 4.2 s`: only the
    /// tokens the server sent, then the turn's time, split into model and tools when tools ran; a
    /// server that sends no usage at all gets the time alone.
    /// Nil when the model never answered in the turn.
    static func footer(_ turn: TurnMeter.Summary) -> String? {
        let u = turn.usage
        guard u.calls > 0 else { return nil }
        var parts: [String] = []
        if let input = u.inputTokens {
            parts.append("\(grouped(input)) in" + (u.cachedInputTokens.map { " (\(grouped($0)) cached)" } ?? ""))
        }
        if let output = u.outputTokens {
            parts.append("\(grouped(output)) out" + (u.reasoningTokens.map { " (\(grouped($0)) reasoning)" } ?? ""))
        }
        if u.callsWithoutUsage > 0 && u.callsWithoutUsage < u.calls {
            parts.append("\(u.callsWithoutUsage) of \(u.calls) calls sent no usage")  // the sums leave them out
        }
        let split = u.toolTime > .zero ? " (model \(seconds(u.modelTime)), tools \(seconds(u.toolTime)))" : ""
        parts.append(seconds(turn.duration) + split)
        return "· " + parts.joined(separator: " · ")
    }

    /// `1240` as `1 240`.
    static func grouped(_ n: Int) -> String {
        let digits = String(n.magnitude)
        var out = ""
        for (i, digit) in digits.enumerated() {
            if i > 0 && (digits.count - i) % 3 == 0 { out.append(" ") }
            out.append(digit)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// `4.2 s` under a minute, `2 min 05 s` above.
    static func seconds(_ d: Duration) -> String {
        let s = d.milliseconds / 1000
        if s < 59.95 { return String(format: "%.1f s", s) }
        let whole = Int(s.rounded())
        return String(format: "%d min %02d s", whole / 60, whole % 60)
    }

    private static func count(_ n: Int?) -> String { n.map(grouped) ?? "unknown" }

    /// The `model` object of `/stats json`: every key present, `null` where unknown.
    static func json(_ usage: ModelUsage) -> JSONValue {
        func count(_ n: Int?) -> JSONValue { n.map { .int(Int64($0)) } ?? .null }
        // Milliseconds of precision: enough for a person, and no binary-fraction noise.
        func ttft(_ q: Double) -> JSONValue { usage.timeToFirstToken(percentile: q).map { .double(($0.milliseconds * 10).rounded() / 10) } ?? .null }
        return [
            "calls": count(usage.calls), "calls_without_usage": count(usage.callsWithoutUsage),
            "input_tokens": count(usage.inputTokens), "cached_input_tokens": count(usage.cachedInputTokens),
            "output_tokens": count(usage.outputTokens), "reasoning_tokens": count(usage.reasoningTokens),
            "model_seconds": .double(usage.modelTime.milliseconds.rounded() / 1000),
            "tool_seconds": .double(usage.toolTime.milliseconds.rounded() / 1000),
            "ttft_p50_ms": ttft(0.5), "ttft_p95_ms": ttft(0.95),
        ]
    }
}
