// libFuzzer target: a model server's streamed answer, through the SSE parser into the stream
// accumulator, as OpenAIClient reads it, or (bit 0x20 of byte 0) into the Responses API's
// accumulator, as ResponsesClient reads it. Run by scripts/fuzz.
//
// Input: byte 0 picks the API, the chunk sizes and the parser's line limit; the rest is the response body.
import Foundation
import FuzzDriver
import JSON
import LLM

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let input = UnsafeBufferPointer(start: data, count: size)
    guard let control = input.first else { return 0 }
    let body = Array(input.dropFirst())
    if control & 0x20 != 0 {
        responses(body, control: control)
        return 0
    }
    var accumulator = StreamAccumulator()
    defer { inspect(accumulator.completion) }

    if control & 0x80 != 0 {
        // A server that answers application/json: the whole body is one answer.
        _ = try? accumulator.consumeWholeAnswer(String(decoding: body, as: UTF8.self))
        return 0
    }
    // The network cuts the body anywhere: chunk lengths from a small generator seeded by byte 0.
    do {
        try events(of: body, control: control) { try handle($0, &accumulator) }
    } catch {
        return 0  // a line over the limit, an error event, a payload the accumulator refuses
    }
    return 0
}

/// Cuts `body` the way the network may (chunk lengths from a small generator seeded by `control`)
/// and hands the parser's events to `consume` until it returns true.
private func events(of body: [UInt8], control: UInt8, _ consume: ([SSEEvent]) throws -> Bool) throws {
    var parser = SSEParser(maxEventBytes: control & 0x40 != 0 ? 64 : StreamLimits.maxEventBytes)
    var state = UInt32(control) | 1
    var start = 0
    while start < body.count {
        state = state &* 1_103_515_245 &+ 12_345
        let end = min(body.count, start + 1 + Int(state >> 16) % 97)
        if try consume(parser.feed(body[start..<end])) { return }
        start = end
    }
    _ = try consume(parser.finish())
}

/// The same body as the Responses API reads it, and the answer sent back as the next request's input.
private func responses(_ body: [UInt8], control: UInt8) {
    var accumulator = ResponsesAccumulator()
    if control & 0x80 != 0 {
        _ = try? accumulator.consumeWholeResponse(String(decoding: body, as: UTF8.self))
    } else {
        _ = try? events(of: body, control: control) { events in
            for event in events {
                for case .textDelta(let text) in try accumulator.consume(event.data, eventType: event.event) { _ = text.count }
            }
            return accumulator.isFinished
        }
    }
    let completion = accumulator.completion
    let request = ChatRequest(model: "m", messages: [completion.message, .tool(callID: "c", content: "r")])
    _ = ResponsesRequestBody.data(for: request, stream: true)
    _ = (completion.finishReason, completion.usage, completion.toolCalls)
}

/// Consumes events until `[DONE]` (true) as OpenAIClient does; throws where it would fail the answer.
private func handle(_ events: [SSEEvent], _ accumulator: inout StreamAccumulator) throws -> Bool {
    for event in events {
        if event.isDone { return true }
        if event.event == "error" { throw ChatError(.streamError, event.data) }
        for case .textDelta(let text) in try accumulator.consume(event.data) { _ = text.count }
    }
    return false
}

/// What the agent does with a finished answer: sends it back as the next request's assistant message.
private func inspect(_ completion: ChatCompletion) {
    let message = ChatMessage.assistant(content: completion.content, toolCalls: completion.toolCalls)
    _ = ChatRequestBody.data(for: ChatRequest(model: "m", messages: [message]), stream: true)
    _ = (completion.finishReason, completion.usage)
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in data.map { fuzz($0, size) } ?? 0 })
