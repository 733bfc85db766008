import Foundation
import JSON
import LLM
import Scheduler
import Tools

/// Reads `.env` files: `KEY=value` lines, `#` comments, optional `export `, single or double quotes.
public enum DotEnv {
    /// The variables of a `.env` text, in file order; malformed lines are skipped.
    public static func parse(_ text: String) -> [(key: String, value: String)] {
        var result: [(key: String, value: String)] = []
        for rawLine in text.split(omittingEmptySubsequences: true, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" }) {
            var line = rawLine.trimmingCharacters(in: .whitespaces)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("export ") { line = String(line.dropFirst(7)).trimmingCharacters(in: .whitespaces) }
            guard let eq = line.firstIndex(of: "=") else { continue }
            let key = line[..<eq].trimmingCharacters(in: .whitespaces)
            guard !key.isEmpty, key.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" }) else { continue }
            var value = line[line.index(after: eq)...].trimmingCharacters(in: .whitespaces)
            if let quote = value.first, quote == "\"" || quote == "'", value.count >= 2, value.last == quote {
                value = String(value.dropFirst().dropLast())
                if quote == "\"" { value = value.replacingOccurrences(of: "\\n", with: "\n") }
            } else if let hash = value.range(of: " #") {
                value = value[..<hash.lowerBound].trimmingCharacters(in: .whitespaces)
            }
            result.append((key, value))
        }
        return result
    }

    /// `environment` with the file's variables added; variables already set are never overridden.
    public static func merged(into environment: [String: String], file: URL) -> [String: String] {
        guard let text = try? String(contentsOf: file, encoding: .utf8) else { return environment }
        var merged = environment
        for (key, value) in parse(text) where merged[key] == nil {
            merged[key] = value
        }
        return merged
    }
}
