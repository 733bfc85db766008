import HTTP
import Synchronization

/// Reads one streamed answer event by event: the Chat Completions and the Responses accumulators.
protocol AnswerEventReader: Sendable {
    /// A reader that has seen nothing.
    init()
    /// Takes one event. Returns what goes to the caller now, and `more` false once the answer is
    /// complete (the rest of the body is not read).
    mutating func read(_ event: SSEEvent) throws -> (events: [ChatEvent], more: Bool)
}

/// Cuts an answer's event stream and reads it on the transport's own thread, as each chunk arrives
/// (`HTTPBodyConsumer`): a tool call complete in the stream reaches `emit`, and through it the agent's
/// scheduler, with no thread to wake on the way (through two async streams there were two).
///
/// It takes a 2xx body that is not JSON (a whole JSON answer is read by the caller). Each answer it
/// takes starts a fresh reader, so a retried request does not inherit what a failed one read. The
/// caller waits for the body's end and then calls `finish()`, or `close()` when it gives up: both wait
/// for a chunk being read to be done, and from then on nothing more is read or emitted (a turn that
/// stops its tool calls after a broken answer can be sure no new one starts behind it).
final class StreamedEvents<Reader: AnswerEventReader>: HTTPBodyConsumer {
    private struct State {
        var parser = SSEParser()
        var reader = Reader()
        /// False once the answer is complete, finished or closed.
        var reading = true
    }

    private let state = Mutex(State())
    private let emit: @Sendable (ChatEvent) -> Void
    private let delivered = Atomic(false)

    /// - Parameter emit: the caller's, handed every event of the answer: those read here and those
    ///   the client reads itself (a whole JSON answer), all through `pass`.
    init(emit: @escaping @Sendable (ChatEvent) -> Void) {
        self.emit = emit
    }

    /// Hands `event` to the caller. From then on a failure of the answer is final, never retried.
    func pass(_ event: ChatEvent) {
        delivered.store(true, ordering: .relaxed)
        emit(event)
    }

    /// Whether any event has reached the caller.
    var hasDelivered: Bool { delivered.load(ordering: .relaxed) }

    static func takes(_ head: HTTPResponseHead) -> Bool {
        (200..<300).contains(head.status) && !OpenAIEndpoint.isJSON(head)
    }

    func takesBody(of head: HTTPResponseHead) -> Bool {
        guard Self.takes(head) else { return false }
        state.withLock { state in
            if state.reading { state = State() }
        }
        return true
    }

    func consume(_ chunk: UnsafeRawBufferPointer) throws -> Bool {
        try state.withLock { state in
            guard state.reading else { return false }
            return try read(state.parser.feed(chunk), &state)
        }
    }

    /// After the body ended: reads what a last unclosed event holds, stops, and returns the reader.
    func finish() throws -> Reader {
        try state.withLock { state in
            if state.reading { _ = try read(state.parser.finish(), &state) }
            state.reading = false
            return state.reader
        }
    }

    /// Stops: nothing more is read or emitted.
    func close() {
        state.withLock { $0.reading = false }
    }

    private func read(_ events: [SSEEvent], _ state: inout State) throws -> Bool {
        for event in events {
            let (outputs, more) = try state.reader.read(event)
            outputs.forEach(pass)
            if !more {
                state.reading = false
                return false
            }
        }
        return true
    }
}
