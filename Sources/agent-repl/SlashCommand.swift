/// The REPL's commands, for `/help` and tab completion.
struct SlashCommand {
    let name: String
    let usage: String
    let summary: String

    static let all: [SlashCommand] = [
        SlashCommand(name: "/help", usage: "/help", summary: "list the commands"),
        SlashCommand(name: "/model", usage: "/model [NAME]", summary: "show or switch the model"),
        SlashCommand(name: "/clear", usage: "/clear", summary: "start a new conversation"),
        SlashCommand(name: "/quit", usage: "/quit", summary: "leave (also Ctrl-D)"),
    ]

    static var helpText: String {
        let width = all.map(\.usage.count).max() ?? 0
        let rows = all.map { "  " + $0.usage.padding(toLength: width + 2, withPad: " ", startingAt: 0) + $0.summary }
        return (["Commands:"] + rows + [
            "Enter sends the prompt; end a line with \\ to continue on the next one.",
            "Ctrl-C clears the line or cancels the running turn; Ctrl-D or /quit leaves.",
        ]).joined(separator: "\n") + "\n"
    }
}
