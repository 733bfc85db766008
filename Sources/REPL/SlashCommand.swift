/// The REPL's commands, for `/help` and tab completion.
public struct SlashCommand: Sendable {
    public let name: String
    public let usage: String
    public let summary: String

    public static let all: [SlashCommand] = [
        SlashCommand(name: "/help", usage: "/help", summary: "list the commands"),
        SlashCommand(name: "/stats", usage: "/stats [json]", summary: "the scheduler's state and counters, the model's calls, tokens and times"),
        SlashCommand(name: "/tasks", usage: "/tasks [N]", summary: "recent tasks: id, tool, state, level, wait, run"),
        SlashCommand(name: "/task", usage: "/task ID", summary: "one task in full"),
        SlashCommand(name: "/strategy", usage: "/strategy [NAME [SLICE]]", summary: "show or switch: mlfq, priority, preemptive, round_robin, sjf, fifo"),
        SlashCommand(name: "/workers", usage: "/workers [N]", summary: "show or change the number of workers"),
        SlashCommand(name: "/tools", usage: "/tools", summary: "the loaded tools and where each was declared"),
        SlashCommand(name: "/mcp", usage: "/mcp", summary: "MCP servers: state, tools, calls, errors, restarts"),
        SlashCommand(name: "/jobs", usage: "/jobs", summary: "background turns (end a prompt with & to start one)"),
        SlashCommand(name: "/cancel", usage: "/cancel [JOB]", summary: "cancel a background job and its tasks"),
        SlashCommand(name: "/model", usage: "/model [NAME]", summary: "show or switch the model"),
        SlashCommand(name: "/serve", usage: "/serve [PORT|stop]", summary: "serve this session's scheduler over HTTP on loopback: the dashboard, the API"),
        SlashCommand(name: "/trust", usage: "/trust", summary: "trust this folder: read its tools.d and .env from the next start"),
        SlashCommand(name: "/clear", usage: "/clear", summary: "start a new conversation (a new session)"),
        SlashCommand(name: "/sessions", usage: "/sessions", summary: "recent sessions: id, when, folder, title, turns, tokens"),
        SlashCommand(name: "/resume", usage: "/resume ID", summary: "continue an earlier session"),
        SlashCommand(name: "/quit", usage: "/quit", summary: "leave (also Ctrl-D)"),
    ]

    public static var helpText: String {
        let width = all.map(\.usage.count).max() ?? 0
        let rows = all.map { "  " + $0.usage.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
        return (["Commands:"] + rows + [
            "Enter sends the prompt; end a line with \\ to continue on the next one.",
            "End a prompt with & to run it in the background.",
            "Ctrl-C clears the line or cancels the running turn; Ctrl-D or /quit leaves.",
        ]).joined(separator: "\n") + "\n"
    }
}
