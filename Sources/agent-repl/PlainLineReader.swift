import Foundation
import REPL

/// Lines from a pipe or file: each line a prompt or slash command, no prompt printed.
///
/// Each read blocks a thread of its own, never one of Swift concurrency's few cooperative threads.
final class PlainLineReader: LineReader {
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
