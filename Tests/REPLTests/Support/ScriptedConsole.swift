import Synchronization
@testable import REPL

/// A console for tests: lines are typed by the test, everything written is kept, and y/N questions
/// are recorded and answered by a closure.
final class ScriptedConsole: Console {
    private struct State {
        var out = ""
        var err = ""
        /// stdout and stderr interleaved, in write order.
        var all = ""
        var prompts: [String] = []
        var questions: [String] = []
        /// stderr as it was when each question was asked.
        var errAtQuestions: [String] = []
        /// The session's read that waits for the test to type.
        var pendingRead: CheckedContinuation<LineInput, Never>?
        /// The session returned: it reads no more.
        var ended = false
        /// Tests waiting for the session to read or end, by number.
        var idleWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
        var lastWaiter = 0
    }

    let isInteractive: Bool
    let usesStatusLine: Bool
    let usesColor: Bool
    let canConfirm: Bool
    let outputIsTerminal: Bool
    let errorIsTerminal: Bool
    private let answer: @Sendable (_ tool: String, _ arguments: String) -> Bool
    private let state = Mutex(State())

    init(interactive: Bool = true, statusLine: Bool = false, color: Bool = false, canConfirm: Bool = true, terminal: Bool = false,
         answer: @escaping @Sendable (_ tool: String, _ arguments: String) -> Bool = { _, _ in false }) {
        isInteractive = interactive
        usesStatusLine = statusLine
        usesColor = color
        self.canConfirm = canConfirm
        outputIsTerminal = terminal
        errorIsTerminal = terminal
        self.answer = answer
    }

    func readLine(prompt: String) async -> LineInput {
        await withCheckedContinuation { continuation in
            let waiters = state.withLock { s in
                s.prompts.append(prompt)
                s.pendingRead = continuation
                defer { s.idleWaiters = [:] }
                return s.idleWaiters.values
            }
            for waiter in waiters { waiter.resume() }
        }
    }

    func write(_ text: String) {
        state.withLock {
            $0.out += text
            $0.all += text
        }
    }

    func writeError(_ text: String) {
        state.withLock {
            $0.err += text
            $0.all += text
        }
    }

    func confirm(tool: String, arguments: String) async -> Bool {
        state.withLock {
            $0.questions.append("\(tool) \(arguments)")
            $0.errAtQuestions.append($0.err)
        }
        return answer(tool, arguments)
    }

    // MARK: For the test

    var out: String { state.withLock { $0.out } }
    var err: String { state.withLock { $0.err } }
    var all: String { state.withLock { $0.all } }
    var prompts: [String] { state.withLock { $0.prompts } }
    /// Every question asked, as "TOOL ARGUMENTS".
    var questions: [String] { state.withLock { $0.questions } }
    var errAtQuestions: [String] { state.withLock { $0.errAtQuestions } }
    /// The session waits at the prompt.
    var isWaitingForInput: Bool { state.withLock { $0.pendingRead != nil } }

    /// Returns once the session waits at the prompt or has ended; throws when the test is cancelled
    /// (its time limit), so a session that never reads again fails the test instead of hanging it.
    func waitUntilIdle() async throws {
        let id = state.withLock { s in
            s.lastWaiter += 1
            return s.lastWaiter
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { s in
                    if s.pendingRead != nil || s.ended || Task.isCancelled { return true }
                    s.idleWaiters[id] = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            state.withLock { $0.idleWaiters.removeValue(forKey: id) }?.resume()
        }
        try Task.checkCancellation()
    }

    /// The session returned from its loop.
    func sessionEnded() {
        let waiters = state.withLock { s in
            s.ended = true
            defer { s.idleWaiters = [:] }
            return s.idleWaiters.values
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Gives `input` to the waiting read; false if no read waits.
    func type(_ input: LineInput) -> Bool {
        guard let read = state.withLock({ s -> CheckedContinuation<LineInput, Never>? in
            defer { s.pendingRead = nil }
            return s.pendingRead
        }) else { return false }
        read.resume(returning: input)
        return true
    }

    /// Where stdout, stderr and the interleaved transcript end now.
    var marks: (out: Int, err: Int, all: Int) {
        state.withLock { ($0.out.count, $0.err.count, $0.all.count) }
    }
}
