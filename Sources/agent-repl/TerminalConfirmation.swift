import Agent
import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Asks `Run tool NAME with ARGS? [y/N]` on the controlling terminal, one question at a time.
/// Only `y` or `yes` (any case) approves.
final class TerminalConfirmation: ConfirmationProvider {
    private let path: String
    private let queue = DispatchQueue(label: "agent-repl.confirmation")  // one question at a time

    init(terminalPath: String = "/dev/tty") {
        self.path = terminalPath
    }

    /// Whether a terminal can be opened to ask on.
    static func isAvailable(terminalPath: String = "/dev/tty") -> Bool {
        let fd = open(terminalPath, O_RDWR | O_CLOEXEC)
        if fd < 0 { return false }
        close(fd)
        return true
    }

    func confirm(tool: String, arguments: String) async -> Bool {
        let path = self.path
        return await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Self.ask(path: path, tool: tool, arguments: arguments))
            }
        }
    }

    private static func ask(path: String, tool: String, arguments: String) -> Bool {
        let shown = arguments.count > 400 ? String(arguments.prefix(400)) + "..." : arguments
        return askYesNo("Run tool \(tool) with \(shown)? [y/N] ", terminalPath: path)
    }

    /// Writes `question` on the terminal and reads one line: true only for `y` or `yes` (any case).
    static func askYesNo(_ question: String, terminalPath path: String) -> Bool {
        guard let tty = FileHandle(forReadingAtPath: path), let out = FileHandle(forWritingAtPath: path) else { return false }
        defer {
            try? tty.close()
            try? out.close()
        }
        _ = try? out.seekToEnd()  // a terminal cannot seek; a plain file (tests) keeps its answer
        try? out.write(contentsOf: Data(question.utf8))
        var line: [UInt8] = []
        while true {
            guard let byte = try? tty.read(upToCount: 1), let b = byte.first else { break }
            if b == UInt8(ascii: "\n") || b == UInt8(ascii: "\r") { break }
            line.append(b)
        }
        let answer = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces).lowercased()
        return answer == "y" || answer == "yes"
    }
}
