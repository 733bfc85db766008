import Testing
@testable import HTTP
import JSON
@testable import LLM

/// Feeds `bytes` split into the given pieces, then finishes.
func parseSSE(_ bytes: [UInt8], cuts: [Int]) throws -> [SSEEvent] {
    var parser = SSEParser()
    var events: [SSEEvent] = []
    var start = 0
    for cut in cuts + [bytes.count] {
        events += try parser.feed(bytes[start..<cut])
        start = cut
    }
    return try events + parser.finish()
}

private let recorded = "data: {\"a\":\"héllo 🌍\"}\n\n: keep-alive\n\nevent: delta\nid: 7\ndata: line one\ndata:line two\n\ndata: [DONE]\n\n"
private let expected = [
    SSEEvent(data: "{\"a\":\"héllo 🌍\"}"),
    SSEEvent(event: "delta", data: "line one\nline two", id: "7"),
    SSEEvent(data: "[DONE]", id: "7"),
]

@Test(arguments: ["\n", "\r\n", "\r"])
func sseSplitAtEveryByteBoundary(lineEnd: String) throws {
    let bytes = Array(recorded.replacing("\n", with: lineEnd).utf8)
    for cut in 0...bytes.count {
        #expect(try parseSSE(bytes, cuts: [cut]) == expected, "cut at \(cut)")
    }
}

@Test(arguments: ["\n", "\r\n", "\r"])
func sseFedOneByteAtATime(lineEnd: String) throws {
    let bytes = Array(recorded.replacing("\n", with: lineEnd).utf8)
    #expect(try parseSSE(bytes, cuts: Array(1..<bytes.count)) == expected)
}

@Test func sseMixedLineEndsAndCRBeforeLFAcrossChunks() throws {
    let bytes = Array("data: a\r\rdata: b\r\n\r\ndata: c\n\r\n".utf8)
    #expect(try parseSSE(bytes, cuts: [8]).map(\.data) == ["a", "b", "c"])
    #expect(try parseSSE(bytes, cuts: [17, 18]).map(\.data) == ["a", "b", "c"])
}

@Test func sseFieldsWithoutSpaceOrValue() throws {
    let events = try parseSSE(Array("data:x\ndata\ndata:  two spaces\nretry: 10\nfoo: bar\n\n".utf8), cuts: [])
    #expect(events == [SSEEvent(data: "x\n\n two spaces")])
}

@Test func sseCommentsAndEmptyEventsProduceNothing() throws {
    #expect(try parseSSE(Array(": hello\n\nevent: ping\n\n\n\n".utf8), cuts: []).isEmpty)
}

@Test func sseUnterminatedLastEventIsDeliveredOnFinish() throws {
    let events = try parseSSE(Array("data: {\"x\":1}\n\ndata: [DONE]".utf8), cuts: [])
    #expect(events.map(\.data) == ["{\"x\":1}", "[DONE]"])
    #expect(events.last?.isDone == true)
}

@Test func sseByteOrderMarkIsSkipped() throws {
    #expect(try parseSSE([0xEF, 0xBB, 0xBF] + Array("data: a\n\n".utf8), cuts: [1]).map(\.data) == ["a"])
}
