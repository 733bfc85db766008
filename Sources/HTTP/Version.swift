/// agent-repl's version: shown by `--version` and the banner, and sent in the HTTP user agent.
public enum AgentReplVersion { public static let string = "0.1.0" }
