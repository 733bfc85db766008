import CEditLine
import Foundation

/// What the user gave at the prompt.
enum LineInput: Equatable {
    case line(String)
    case interrupted
    case endOfInput
}

/// Where prompts come from: libedit on a terminal, plain lines otherwise.
protocol LineReader: Sendable {
    func read(prompt: String) async -> LineInput
    /// Saves what must survive the session (the history).
    func close()
    /// Leaves the terminal usable when exiting in the middle of a read.
    func restoreTerminal()
}

/// libedit's readline on a dedicated thread, the one thread that receives SIGINT.
///
/// This is the only file that imports CEditLine.
final class EditLineReader: LineReader, @unchecked Sendable {
    private let requests = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var pending: (prompt: String, reply: CheckedContinuation<LineInput, Never>)?
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
            lock.withLock { pending = (prompt, continuation) }
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
            guard let request = lock.withLock({ () -> (prompt: String, reply: CheckedContinuation<LineInput, Never>)? in
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

    nonisolated(unsafe) private static var completionWords: [String] = []
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
}

/// Lines from a pipe or file: each line a prompt or slash command, no prompt printed.
final class PlainLineReader: LineReader, @unchecked Sendable {
    func read(prompt: String) async -> LineInput {
        await withCheckedContinuation { continuation in
            Thread {
                if let line = Swift.readLine(strippingNewline: true) {
                    continuation.resume(returning: .line(line))
                } else {
                    continuation.resume(returning: .endOfInput)
                }
            }.start()
        }
    }

    func close() {}
    func restoreTerminal() {}
}
