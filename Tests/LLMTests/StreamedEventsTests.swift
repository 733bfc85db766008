import Foundation
import Synchronization
import Testing
import HTTP
@testable import LLM

/// `StreamedEvents`, which reads an answer's events on the transport's thread: once the caller has
/// closed it, nothing more is read or emitted, and closing waits for a chunk being read.
@Suite(.timeLimit(.minutes(1))) struct StreamedEventsTests {
    let head = HTTPResponseHead(status: 200, headers: ["content-type": "text/event-stream"])

    static func chunk(_ text: String) -> Data {
        Data((#"data: {"choices":[{"index":0,"delta":{"content":"\#(text)"}}]}"# + "\n\n").utf8)
    }

    @Test func takesOnlyA2xxStreamAndEachAnswerStartsAFreshReader() throws {
        let emitted = Mutex<[ChatEvent]>([])
        let events = StreamedEvents<ChatStreamReader> { event in emitted.withLock { $0.append(event) } }
        #expect(!events.takesBody(of: HTTPResponseHead(status: 500, headers: ["content-type": "text/event-stream"])))
        #expect(!events.takesBody(of: HTTPResponseHead(status: 200, headers: ["content-type": "application/json"])))
        #expect(events.takesBody(of: head))
        #expect(try Self.chunk("lost").withUnsafeBytes(events.consume))
        // A retried request's answer: what the first one read is forgotten.
        #expect(events.takesBody(of: head))
        #expect(try Self.chunk("kept").withUnsafeBytes(events.consume))
        #expect(try Data("data: [DONE]\n\n".utf8).withUnsafeBytes(events.consume) == false)
        let reader = try events.finish()
        #expect(reader.sawDone)
        #expect(reader.accumulator.completion.content == "kept")
        #expect(emitted.withLock { $0 } == [.textDelta("lost"), .textDelta("kept")])
    }

    @Test func closeWaitsForTheChunkBeingReadAndThenNothingIsEmitted() throws {
        let emitted = Mutex<[ChatEvent]>([])
        let inEmit = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        let events = StreamedEvents<ChatStreamReader> { event in
            inEmit.signal()
            release.wait()
            emitted.withLock { $0.append(event) }
        }
        #expect(events.takesBody(of: head))
        let reading = Thread { _ = try? Self.chunk("one").withUnsafeBytes(events.consume) }
        reading.start()
        inEmit.wait()  // the transport's thread is inside `consume`, emitting

        let closed = DispatchSemaphore(value: 0)
        let closer = Thread {
            events.close()
            closed.signal()
        }
        closer.start()
        #expect(closed.wait(timeout: .now() + 0.1) == .timedOut, "close returned while a chunk was still being read")
        release.signal()
        closed.wait()
        #expect(emitted.withLock { $0 } == [.textDelta("one")])

        // After close: a chunk is refused unread, and finishing reads nothing more.
        #expect(try Self.chunk("two").withUnsafeBytes(events.consume) == false)
        _ = try events.finish()
        #expect(emitted.withLock { $0 } == [.textDelta("one")])
    }
}
