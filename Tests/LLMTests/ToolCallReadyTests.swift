import Testing
import JSON
@testable import LLM

/// When `StreamAccumulator` reports each tool call as ready (`ChatEvent.toolCallReady`).
@Suite struct ToolCallReadyTests {
    /// A stream chunk whose delta holds these tool-call fragments (JSON text), perhaps with a finish reason.
    private func fragments(_ fragments: String..., finish: String? = nil) -> String {
        let reason = finish.map { "\"\($0)\"" } ?? "null"
        return #"{"choices":[{"index":0,"delta":{"tool_calls":[\#(fragments.joined(separator: ","))]},"finish_reason":\#(reason)}]}"#
    }

    private let finishChunk = #"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#

    /// Feeds the payloads one by one, then ends the stream; returns, for each ready call, the number of
    /// payloads consumed when it was reported (`payloads.count + 1` for the end of the stream).
    private func readyMoments(_ payloads: [String]) throws -> (moments: [Int], calls: [ToolCall], completion: ChatCompletion) {
        var accumulator = StreamAccumulator()
        var moments: [Int] = []
        var calls: [ToolCall] = []
        func note(_ events: [ChatEvent], at moment: Int) {
            for case .toolCallReady(let call) in events {
                moments.append(moment)
                calls.append(call)
            }
        }
        for (number, payload) in payloads.enumerated() {
            note(try accumulator.consume(payload), at: number + 1)
        }
        note(accumulator.finishCalls(), at: payloads.count + 1)
        return (moments, calls, accumulator.completion)
    }

    @Test func aCallIsReadyWhenTheNextIndexAppearsAndTheLastAtFinishReason() throws {
        let (moments, calls, completion) = try readyMoments([
            fragments(#"{"index":0,"id":"a","type":"function","function":{"name":"one","arguments":""}}"#),
            fragments(#"{"index":0,"function":{"arguments":"{\"x\":"}}"#),
            fragments(#"{"index":0,"function":{"arguments":"1}"}}"#),
            fragments(#"{"index":1,"id":"b","type":"function","function":{"name":"two","arguments":"{\"y\""}}"#),
            fragments(#"{"index":1,"function":{"arguments":":2}"}}"#),
            fragments(#"{"index":2,"id":"c","function":{"name":"three","arguments":"{}"}}"#),
            finishChunk,
        ])
        #expect(moments == [4, 6, 7])
        #expect(calls == [
            ToolCall(id: "a", name: "one", arguments: #"{"x":1}"#),
            ToolCall(id: "b", name: "two", arguments: #"{"y":2}"#),
            ToolCall(id: "c", name: "three", arguments: "{}"),
        ])
        #expect(completion.toolCalls == calls, "the completion lists the calls exactly as reported")
    }

    @Test func idsAndNamesRepeatedInEveryFragment() throws {
        let (moments, calls, _) = try readyMoments([
            fragments(#"{"index":0,"id":"a","type":"function","function":{"name":"one","arguments":"{\"x\""}}"#),
            fragments(#"{"index":0,"id":"a","type":"function","function":{"name":"one","arguments":":1}"}}"#),
            fragments(#"{"index":1,"id":"b","type":"function","function":{"name":"two","arguments":"{}"}}"#),
            fragments(#"{"index":1,"id":"b","type":"function","function":{"name":"two","arguments":""}}"#),
            finishChunk,
        ])
        #expect(moments == [3, 5])
        #expect(calls.map(\.id) == ["a", "b"])
        #expect(calls[0].arguments == #"{"x":1}"#)
    }

    @Test func withoutIndexANewIdStartsTheNextCallAndARepeatedIdContinuesItsOwn() throws {
        let (moments, calls, completion) = try readyMoments([
            fragments(#"{"id":"a","function":{"name":"one","arguments":"{\"x\""}}"#),
            fragments(#"{"id":"a","function":{"name":"one","arguments":":1}"}}"#),
            fragments(#"{"id":"b","function":{"name":"two","arguments":"{\"y\":"}}"#),
            fragments(#"{"function":{"arguments":"2}"}}"#),  // neither index nor id: the last call's
            fragments(#"{"id":"c","function":{"name":"three","arguments":"{}"}}"#),
            finishChunk,
        ])
        #expect(moments == [3, 5, 6])
        #expect(calls.map(\.arguments) == [#"{"x":1}"#, #"{"y":2}"#, "{}"])
        #expect(completion.toolCalls == calls)
    }

    @Test func twoWholeCallsInOneChunkMakeTheFirstReady() throws {
        let (moments, _, _) = try readyMoments([
            fragments(#"{"index":0,"id":"a","function":{"name":"one","arguments":"{}"}}"#,
                      #"{"index":1,"id":"b","function":{"name":"two","arguments":"{}"}}"#),
            finishChunk,
        ])
        #expect(moments == [1, 2])
    }

    @Test func interleavedFragmentsWaitForTheEndInIndexOrder() throws {
        // The second call's header comes before the first call's arguments: the first is not whole yet,
        // and nothing after it may be reported before it.
        let (moments, calls, completion) = try readyMoments([
            fragments(#"{"index":0,"id":"a","function":{"name":"one","arguments":""}}"#),
            fragments(#"{"index":1,"id":"b","function":{"name":"two","arguments":null}}"#),
            fragments(#"{"index":0,"function":{"arguments":"{\"x\":1"}}"#),
            fragments(#"{"index":1,"function":{"arguments":"{}"}}"#),
            fragments(#"{"index":2,"id":"c","function":{"name":"three","arguments":"{}"}}"#),
            fragments(#"{"index":0,"function":{"arguments":"}"}}"#),
            finishChunk,
        ])
        #expect(moments == [7, 7, 7])
        #expect(calls.map(\.id) == ["a", "b", "c"])
        #expect(completion.toolCalls == calls)
    }

    @Test func aGapInTheIndicesWaitsForTheEnd() throws {
        let (moments, _, _) = try readyMoments([
            fragments(#"{"index":1,"id":"a","function":{"name":"one","arguments":"{}"}}"#),
            fragments(#"{"index":2,"id":"b","function":{"name":"two","arguments":"{}"}}"#),
            finishChunk,
        ])
        #expect(moments == [3, 3])
    }

    @Test func aStreamWithoutFinishReasonReportsItsCallsAtTheEnd() throws {
        let (moments, calls, _) = try readyMoments([
            fragments(#"{"index":0,"id":"a","function":{"name":"one","arguments":"{}"}}"#),
        ])
        #expect(moments == [2])
        #expect(calls.map(\.id) == ["a"])
    }

    @Test func eachCallIsReportedOnceEvenWhenTheEndIsSignalledTwice() throws {
        var accumulator = StreamAccumulator()
        _ = try accumulator.consume(fragments(#"{"index":0,"id":"a","function":{"name":"one","arguments":"{}"}}"#))
        let atFinish = try accumulator.consume(finishChunk)
        #expect(atFinish == [.toolCallReady(ToolCall(id: "a", name: "one", arguments: "{}"))])
        #expect(try accumulator.consume(finishChunk).isEmpty)
        #expect(accumulator.finishCalls().isEmpty)
    }

    @Test func aReadyCallNeverChanges() throws {
        var accumulator = StreamAccumulator()
        _ = try accumulator.consume(fragments(#"{"index":0,"id":"a","function":{"name":"one","arguments":"{}"}}"#))
        _ = try accumulator.consume(fragments(#"{"index":1,"id":"b","function":{"name":"two","arguments":""}}"#))
        // Whitespace after a whole value is dropped, the repeated id and name ignored.
        _ = try accumulator.consume(fragments(#"{"index":0,"id":"a","function":{"name":"one","arguments":" \n"}}"#))
        #expect(accumulator.completion.toolCalls.first == ToolCall(id: "a", name: "one", arguments: "{}"))
        #expect {
            _ = try accumulator.consume(fragments(#"{"index":0,"function":{"arguments":"x"}}"#))
        } throws: { error in
            (error as? ChatError)?.code == .malformedResponse && "\(error)".contains("after it was complete")
        }
    }

    @Test func aReadyCallKeepsTheIdItWasReportedWithAndTheCompletionAgrees() throws {
        let (moments, calls, completion) = try readyMoments([
            fragments(#"{"index":0,"function":{"name":"one","arguments":"{}"}}"#),  // no id: call_0
            fragments(#"{"index":1,"id":"call_0","function":{"name":"two","arguments":"{}"}}"#),
            fragments(#"{"index":0,"id":"late","function":{"arguments":""}}"#),  // too late to rename it
            finishChunk,
        ])
        #expect(moments == [2, 4])
        #expect(calls.map(\.id) == ["call_0", "call_0_1"], "made unique, in index order")
        #expect(completion.toolCalls == calls)
    }

    @Test func aWholeAnswerReportsEveryCallAtOnceInOrder() throws {
        var accumulator = StreamAccumulator()
        let events = try accumulator.consumeWholeAnswer(#"""
            {"choices":[{"index":0,"message":{"role":"assistant","content":"Let me look.","tool_calls":[
              {"id":"x","type":"function","function":{"name":"one","arguments":"{}"}},
              {"id":"y","type":"function","function":{"name":"two","arguments":"{\"a\":1}"}}]},
              "finish_reason":"tool_calls"}]}
            """#)
        #expect(events == [
            .textDelta("Let me look."),
            .toolCallReady(ToolCall(id: "x", name: "one", arguments: "{}")),
            .toolCallReady(ToolCall(id: "y", name: "two", arguments: #"{"a":1}"#)),
        ])
        #expect(accumulator.finishCalls().isEmpty)
    }
}
