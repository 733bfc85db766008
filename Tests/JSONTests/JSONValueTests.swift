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

/// `jsonString` writes JSON itself; it must print exactly what `JSONEncoder.sortedCompact` prints
/// (stored sessions, logs and tests compare those bytes), and `parse` must read it back.
@Suite struct JSONValueTextTests {
    /// Seeded values with what is easy to get wrong: control characters, quotes, backslashes, slashes,
    /// non-ASCII, integers at their bounds, fractions large and small, keys that sort by case.
    private static func randomValue(_ seed: inout UInt64, depth: Int = 0) -> JSONValue {
        func next(_ bound: UInt64) -> UInt64 {
            seed = seed &* 6364136223846793005 &+ 1442695040888963407
            return (seed >> 33) % bound
        }
        let pieces = ["a", "Z", "/", "\"", "\\", "\n", "\t", "\r", "\u{08}", "\u{0C}", "\u{01}", "\u{1F}", "\u{7F}", "é", "😀", "\u{2028}", " ", "0"]
        func text() -> String { (0..<next(6)).map { _ in pieces[Int(next(UInt64(pieces.count)))] }.joined() }
        switch next(depth > 3 ? 5 : 7) {
        case 0: return .null
        case 1: return .bool(next(2) == 0)
        case 2: return .int([0, 1, -1, Int64.max, Int64.min, 42, -987654321][Int(next(7))])
        case 3:
            let d = [0.5, -2.0, 0.1, 1e20, 1e21, 1e-7, 1.5e300, 123456.789, 3.0, 100.0, 2.5e-308][Int(next(11))]
            return .double(d)
        case 4: return .string(text())
        case 5: return .array((0..<next(4)).map { _ in randomValue(&seed, depth: depth + 1) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<next(5) { members[text()] = randomValue(&seed, depth: depth + 1) }
            return .object(members)
        }
    }

    @Test func printsWhatTheEncoderPrintsAndParsesItBack() throws {
        var seed: UInt64 = 11
        for _ in 0..<2000 {
            let value = Self.randomValue(&seed)
            let encoded = String(decoding: try JSONEncoder.sortedCompact.encode(value), as: UTF8.self)
            #expect(value.jsonString == encoded)
            let again = try JSONValue.parse(value.jsonString).jsonString
            #expect(again == encoded, "\(encoded) read back as \(again)")  // 3.0 prints as 3 and reads back as .int
        }
    }

    @Test func aNumberThatIsNotFiniteIsNull() throws {
        // -0.0 prints as the encoder prints it (and reads back as the integer 0, as before).
        #expect(JSONValue.double(-0.0).jsonString == String(decoding: try JSONEncoder.sortedCompact.encode(JSONValue.double(-0.0)), as: UTF8.self))
        #expect(JSONValue.array([.double(.infinity), .double(.nan), 1]).jsonString == "[null,null,1]")
    }

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
