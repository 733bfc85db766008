import Testing
import Foundation
@testable import JSON

@Test func jsonValueKeepsIntegersApartFromFractions() throws {
    let v = try JSONValue.parse(#"{"a": 1, "b": 1.5, "c": [true, null, "x"]}"#)
    #expect(v["a"] == .int(1))
    #expect(v["b"] == .double(1.5))
    #expect(v["c"] == [true, nil, "x"])
    #expect(v.jsonString == #"{"a":1,"b":1.5,"c":[true,null,"x"]}"#)
}

/// `JSONValue.parse` is `JSONParser` without positions (the printer's tests are in JSONWriterTests).
@Suite struct JSONValueParseTests {
    /// `parse` follows `JSONParser`'s rules (the one parser): strict RFC 8259, duplicate keys refused,
    /// integers kept apart, and a hostile depth refused without a crash.
    @Test func parseFollowsTheParsersRules() throws {
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(#"{"a": 1, "a": 2}"#) }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse("[1,]") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse("  ") }
        #expect(throws: JSONSyntaxError.self) { try JSONValue.parse(String(repeating: "[", count: 100_000)) }
        #expect(try JSONValue.parse("12345678901234567890") == .double(12345678901234567890))
        #expect(try JSONValue.parse("[7, 7.0, -0]") == [.int(7), .double(7), .int(0)])
        #expect(try JSONValue.parse(Data(#"{"k": "v"}"#.utf8)) == ["k": "v"])
    }
}
