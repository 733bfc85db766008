import JSON
/// The environment a tool sees: the REPL's own minus secrets, plus the declaration's `env`.
public enum ToolEnvironment {
    static let secretSuffixes = ["_KEY", "_TOKEN", "_SECRET", "_PASSWORD"]

    /// `OPENAI_API_KEY`, and any name ending in `_KEY`, `_TOKEN`, `_SECRET` or `_PASSWORD`.
    public static func isSecret(_ name: String) -> Bool {
        let upper = name.uppercased()
        return upper == "OPENAI_API_KEY" || secretSuffixes.contains { upper.hasSuffix($0) }
    }

    /// `base` without secrets (unless named in `passEnv`), then `extra` on top.
    public static func make(base: [String: String], passEnv: [String], extra: [String: String]) -> [String: String] {
        let allowed = Set(passEnv)
        var result = base.filter { !isSecret($0.key) || allowed.contains($0.key) }
        result.merge(extra) { _, new in new }
        return result
    }
}
