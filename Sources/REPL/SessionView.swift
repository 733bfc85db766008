import Foundation
import JSON
import LLM
import Scheduler
import Store
import Tools

/// Renderings of recorded sessions: `/sessions`, a resumed session's last exchange, and the
/// `logs` subcommands (text and JSON).
public enum SessionView {
    // MARK: Text

    /// "1 turn", "3 turns".
    static func turns(_ n: Int) -> String { n == 1 ? "1 turn" : "\(n) turns" }

    /// The last prompt and the answer to it, as a resumed session shows them.
    static func lastExchange(_ messages: [ChatMessage]) -> String? {
        guard let promptIndex = messages.lastIndex(where: { if case .user = $0 { true } else { false } }),
            case .user(let prompt) = messages[promptIndex]
        else { return nil }
        let answer = messages[promptIndex...].reversed().lazy.compactMap { message -> String? in
            if case .assistant(let content?, _, _) = message, !content.isEmpty { return content }
            return nil
        }.first
        return "> \(prompt)\n" + (answer.map { "\($0)\n" } ?? "")
    }

    public static func sessionList(_ sessions: [StoredSession], current: Int64? = nil) -> String {
        let rows = sessions.map { s in
            let marker = s.id == current ? "*" : " "
            let tokens = s.tokens.map { "\($0) tokens" } ?? "tokens unknown"
            let served = s.chatID == nil ? "" : " (serve)"
            return "\(marker)\(pad(String(s.id), 5)) \(when(s.startedAt))  \(s.folder)\(served)  \(Self.turns(s.turns)), \(tokens)\n      \(s.title)"
        }
        return rows.joined(separator: "\n") + "\n"
    }

    /// One session in full: each turn's prompt, tool tasks with their times, answer or error, model calls.
    public static func transcript(_ session: StoredSession, turns: [StoredTurn]) -> String {
        var lines = ["session \(session.id) · \(when(session.startedAt)) · \(session.folder) · \(session.model) (\(session.api))"
            + (session.chatID.map { " · served: POST /chat session \($0)" } ?? "")]
        for turn in turns {
            lines.append("")
            lines.append("> \(turn.prompt)" + (turn.job.map { "  [job \($0)]" } ?? ""))
            for task in turn.tasks {
                lines.append("  · \(task.tool) \(task.arguments) — \(task.state.rawValue), wait \(SchedulerView.ms(task.wait.milliseconds)), "
                    + "run \(SchedulerView.ms(task.run.milliseconds)), \(task.preemptions) preemptions, levels \(task.levels.map(String.init).joined(separator: "→"))")
            }
            switch turn.state {
            case .answered: lines.append(turn.answer ?? "")
            default: lines.append("[\(turn.state.rawValue)]" + (turn.error.map { " \($0)" } ?? ""))
            }
            for call in turn.modelCalls {
                let tokens = call.call.usage.map { "\($0.promptTokens) in, \($0.completionTokens) out" } ?? "tokens unknown"
                lines.append("  model \(call.model): \(tokens), \(SchedulerView.ms(call.call.duration.milliseconds))"
                    + (call.call.timeToFirstToken.map { " (first token \(SchedulerView.ms($0.milliseconds)))" } ?? "")
                    + (call.call.httpRetries > 0 ? ", \(call.call.httpRetries) retries" : ""))
            }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    public static func searchResults(_ hits: [SearchHit]) -> String {
        if hits.isEmpty { return "Nothing found.\n" }
        return hits.map { "session \($0.sessionID) · turn \($0.turnID) · \(when($0.at)) · \($0.role)\n  \($0.snippet.replacingOccurrences(of: "\n", with: " "))" }
            .joined(separator: "\n") + "\n"
    }

    public static func taskList(_ tasks: [(session: Int64, task: StoredToolTask)]) -> String {
        if tasks.isEmpty { return "No tool tasks recorded.\n" }
        return tasks.map { session, t in
            "session \(pad(String(session), 4)) \(pad(t.tool, 16)) \(pad(t.state.rawValue, 9)) run \(pad(SchedulerView.ms(t.run.milliseconds), 9)) "
                + "wait \(pad(SchedulerView.ms(t.wait.milliseconds), 9)) preempted \(t.preemptions)x  \(when(t.endedAt))"
        }.joined(separator: "\n") + "\n"
    }

    // MARK: JSON

    public static func sessionsJSON(_ sessions: [StoredSession]) -> String {
        JSONValue.array(sessions.map(json)).jsonString + "\n"
    }

    public static func transcriptJSON(_ session: StoredSession, turns: [StoredTurn]) -> String {
        var object = json(session).objectValue ?? [:]
        object["turns"] = .array(turns.map(json))
        return JSONValue.object(object).jsonString + "\n"
    }

    public static func searchJSON(_ hits: [SearchHit]) -> String {
        JSONValue.array(hits.map { hit in
            ["session": .int(hit.sessionID), "turn": .int(hit.turnID), "role": .string(hit.role), "snippet": .string(hit.snippet), "at": .double(hit.at.timeIntervalSince1970)]
        }).jsonString + "\n"
    }

    public static func tasksJSON(_ tasks: [(session: Int64, task: StoredToolTask)]) -> String {
        JSONValue.array(tasks.map { session, task in
            var object = json(task).objectValue ?? [:]
            object["session"] = .int(session)
            return .object(object)
        }).jsonString + "\n"
    }

    static func json(_ s: StoredSession) -> JSONValue {
        [
            "id": .int(s.id), "folder": .string(s.folder), "model": .string(s.model), "api": .string(s.api),
            "started_at": .double(s.startedAt.timeIntervalSince1970), "title": .string(s.title), "turns": .int(Int64(s.turns)),
            "tokens": s.tokens.map { .int(Int64($0)) } ?? .null, "chat_session": s.chatID.map(JSONValue.string) ?? .null,
        ]
    }

    static func json(_ t: StoredTurn) -> JSONValue {
        [
            "id": .int(t.id), "job": t.job.map { .int(Int64($0)) } ?? .null, "prompt": .string(t.prompt), "state": .string(t.state.rawValue),
            "error": t.error.map(JSONValue.string) ?? .null, "answer": t.answer.map(JSONValue.string) ?? .null,
            "started_at": .double(t.startedAt.timeIntervalSince1970), "ended_at": t.endedAt.map { .double($0.timeIntervalSince1970) } ?? .null,
            "messages": .array(t.messages.map(json)), "model_calls": .array(t.modelCalls.map(json)), "tool_tasks": .array(t.tasks.map(json)),
        ]
    }

    static func json(_ m: ChatMessage) -> JSONValue {
        switch m {
        case .system(let text): ["role": "system", "content": .string(text)]
        case .user(let text): ["role": "user", "content": .string(text)]
        case .assistant(let content, let calls, _):
            [
                "role": "assistant", "content": content.map(JSONValue.string) ?? .null,
                "tool_calls": .array(calls.map { ["id": .string($0.id), "name": .string($0.name), "arguments": .string($0.arguments)] }),
            ]
        case .tool(let id, let content): ["role": "tool", "tool_call_id": .string(id), "content": .string(content)]
        }
    }

    static func json(_ c: StoredModelCall) -> JSONValue {
        let u = c.call.usage
        return [
            "model": .string(c.model), "duration_ms": .double(c.call.duration.milliseconds),
            "ttft_ms": c.call.timeToFirstToken.map { .double($0.milliseconds) } ?? .null,
            "input_tokens": u.map { .int(Int64($0.promptTokens)) } ?? .null, "output_tokens": u.map { .int(Int64($0.completionTokens)) } ?? .null,
            "cached_input_tokens": u?.cachedPromptTokens.map { .int(Int64($0)) } ?? .null,
            "reasoning_tokens": u?.reasoningTokens.map { .int(Int64($0)) } ?? .null,
            "http_retries": .int(Int64(c.call.httpRetries)),
        ]
    }

    static func json(_ t: StoredToolTask) -> JSONValue {
        var result: JSONValue = .null
        if let r = t.result {
            result = [
                "outcome": .string(r.outcome.rawValue), "output": .string(r.output), "error": r.error.map(JSONValue.string) ?? .null,
                "exit_code": r.exitCode.map { .int(Int64($0)) } ?? .null, "signal": r.signal.map { .int(Int64($0)) } ?? .null,
                "http_status": r.httpStatus.map { .int(Int64($0)) } ?? .null,
            ]
        }
        return [
            "task_id": .int(Int64(clamping: t.taskID)), "call_id": .string(t.callID), "tool": .string(t.tool), "arguments": .string(t.arguments),
            "state": .string(t.state.rawValue), "priority": .int(Int64(t.priority)), "levels": .array(t.levels.map { .int(Int64($0)) }),
            "preemptions": .int(Int64(t.preemptions)), "wait_ms": .double(t.wait.milliseconds), "run_ms": .double(t.run.milliseconds),
            "paused_ms": .double(t.paused.milliseconds), "ended_at": .double(t.endedAt.timeIntervalSince1970), "result": result,
        ]
    }

    // MARK: Helpers

    private static func when(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.dateFormat = "yyyy-MM-dd HH:mm"
        return formatter.string(from: date)
    }

    private static func pad(_ s: String, _ n: Int) -> String { s.padding(toLength: max(n, s.count), withPad: " ", startingAt: 0) }
}
