import Foundation

/// What an install script (scripts/install-mcp, install-local-llm, install-schemathesis) wrote for the
/// tests and benchmarks: `KEY=VALUE` lines in `.build/NAME/env`.
public enum Installed {
    /// The env file of install `name`.
    public static func file(_ name: String) -> URL {
        BuiltExecutable.packageRoot.appendingPathComponent(".build/\(name)/env")
    }

    /// `KEY`'s value in install `name`'s env file; nil when the file or the key is missing.
    public static func value(_ key: String, of name: String) -> String? {
        guard let text = try? String(contentsOf: file(name), encoding: .utf8) else { return nil }
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == key { return String(parts[1]) }
        }
        return nil
    }
}
