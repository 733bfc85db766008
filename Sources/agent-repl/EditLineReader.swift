import CEditLine
import Foundation
import Store
import REPL
import Synchronization

/// libedit's readline on a dedicated thread, the one thread that receives SIGINT.
///
/// This is the only file that imports CEditLine.
final class EditLineReader: LineReader {
    private typealias Request = (prompt: String, reply: CheckedContinuation<LineInput, Never>)
    private let requests = DispatchSemaphore(value: 0)
    private let pending = Mutex<Request?>(nil)
    private let historyFile: URL?

    init(historyFile: URL?, completions: [String]) {
        self.historyFile = historyFile
        EditLineReader.completionWords = completions
        let thread = Thread { [unowned self] in self.serve() }
        thread.name = "line-editor"
        thread.start()
    }

    func read(prompt: String) async -> LineInput {
        await withCheckedContinuation { continuation in
            pending.withLock { $0 = (prompt, continuation) }
            requests.signal()
        }
    }

    func close() {
        if let historyFile { write_history(historyFile.path) }
    }

    /// Puts the terminal back as libedit found it (before exiting from a signal mid-read).
    func restoreTerminal() {
        rl_deprep_terminal()
    }

    private func serve() {
        SignalRelay.registerLineEditorThread()
        ceditline_set_readline_name("agent-repl")
        ceditline_set_catch_signals(0)
        ceditline_set_completion(EditLineReader.complete)
        if let historyFile {
            try? FileManager.default.createDirectory(at: historyFile.deletingLastPathComponent(), withIntermediateDirectories: true)
            read_history(historyFile.path)
        }
        while true {
            requests.wait()
            guard let request = pending.withLock({ pending -> Request? in
                defer { pending = nil }
                return pending
            }) else { continue }
            let before = SignalRelay.interruptCount
            SignalRelay.setLineEditorReading(true)
            let raw = readline(request.prompt)
            SignalRelay.setLineEditorReading(false)
            let result: LineInput
            if let raw {
                let line = String(cString: raw)
                free(raw)
                if !line.trimmingCharacters(in: .whitespaces).isEmpty {
                    add_history(line)
                    if let historyFile { write_history(historyFile.path) }
                }
                result = .line(line)
            } else if SignalRelay.interruptCount != before {
                result = .interrupted
            } else {
                result = .endOfInput
            }
            request.reply.resume(returning: result)
        }
    }

    // Read by libedit's C completion callback, which can carry no context; set before the editor thread starts.
    nonisolated(unsafe) private static var completionWords: [String] = []
    // Only the editor thread's completion callback touches it.
    nonisolated(unsafe) private static var completionIndex = 0

    /// Completes slash commands at the start of the line.
    private static let complete: ceditline_completion_func = { text, start, _ in
        ceditline_set_attempted_completion_over(1)
        guard start == 0, let text, text.pointee == UInt8(ascii: "/") else { return nil }
        return ceditline_completion_matches(text) { text, state in
            if state == 0 { EditLineReader.completionIndex = 0 }
            let prefix = text.map { String(cString: $0) } ?? ""
            let words = EditLineReader.completionWords
            while EditLineReader.completionIndex < words.count {
                let word = words[EditLineReader.completionIndex]
                EditLineReader.completionIndex += 1
                if word.hasPrefix(prefix) { return strdup(word) }
            }
            return nil
        }
    }

    /// `$XDG_DATA_HOME/agent-repl/history`, or `~/.local/share/agent-repl/history`.
    static func historyFile(environment: [String: String]) -> URL? {
        StoreLocation.dataFolder(environment: environment)?.appendingPathComponent("history")
    }
}
