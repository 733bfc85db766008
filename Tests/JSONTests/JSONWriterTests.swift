import Foundation
import Testing
import TestSupport
@testable import JSON

/// `JSONWriter` replaced Foundation's `JSONEncoder` (sorted keys, unescaped slashes) for
/// `jsonString`: what clients, tests and stored sessions read must not change by a byte.
@Suite struct JSONWriterTests {
    static func foundation(_ value: JSONValue) -> String {
        String(decoding: (try? JSONEncoder.sortedCompact.encode(value)) ?? Data(), as: UTF8.self)
    }

    @Test func writesWhatFoundationWrites() {
        let cases: [JSONValue] = [
            .null, true, false, 0, -1, .int(.min), .int(.max),
            1.0, 0.1, -0.0, 1e20, 1e-7, 1e16, 1e15, 12345.678, 1.2345678901234568e+20, .double(.greatestFiniteMagnitude),
            .double(.leastNonzeroMagnitude), 2.5e-300,
            "", "a/b", "\"\\\n\r\t\u{08}\u{0C}\u{01}\u{1F}\u{7F}\u{2028}é😀", "天气查询",
            [], [:], [nil, [1, [2, [:]]]],
            ["b": 1, "a": 2, "B": 3, "é": 4, "e": 5, "a10": 6, "a9": 7, "Z": 8, "_": 9, "😀": 10, "ﬀ": 11, "": 12, "a b": 13],
        ]
        for value in cases {
            #expect(value.jsonString == Self.foundation(value), "\(value)")
        }
    }

    @Test func writesWhatFoundationWritesForRandomDocuments() {
        var random = SplitMix64(seed: 14)
        for _ in 0..<2000 {
            let value = Self.document(depth: 3, &random)
            let encoded = Self.foundation(value)
            #expect(value.jsonString == encoded)
            // And `parse` reads it back to the same text (a fraction like 3.0 prints as 3 and reads back as an integer).
            #expect((try? JSONValue.parse(value.jsonString))?.jsonString == encoded, "\(encoded)")
        }
    }

    /// Foundation refused the whole document (and `jsonString` printed `null`); the writer keeps the
    /// rest and writes the number that JSON cannot hold as `null`.
    @Test func writesNonFiniteFractionsAsNull() {
        #expect(JSONValue.array([.double(.nan), .double(.infinity), 1]).jsonString == "[null,null,1]")
    }

    @Test func bytesAreTheStringsUTF8() throws {
        let value: JSONValue = ["天气": "北京", "n": 1.5]
        #expect(value.jsonBytes == Array(value.jsonString.utf8))
        #expect(try JSONValue.parse(value.jsonString) == value)
    }

    static func document(depth: Int, _ random: inout SplitMix64) -> JSONValue {
        switch random.next() % (depth > 0 ? 9 : 6) {
        case 0: return .null
        case 1: return .bool(random.next() % 2 == 0)
        case 2: return .int(Int64(bitPattern: random.next()) >> (random.next() % 64))
        case 3:
            let d = Double(bitPattern: random.next())
            return .double(d.isFinite ? d : Double(Int64(bitPattern: random.next() >> 12)) / 1000)
        case 4, 5: return .string(string(&random))
        case 6: return .array((0..<random.next() % 5).map { _ in document(depth: depth - 1, &random) })
        default:
            var members: [String: JSONValue] = [:]
            for _ in 0..<random.next() % 6 { members[string(&random)] = document(depth: depth - 1, &random) }
            return .object(members)
        }
    }

    static func string(_ random: inout SplitMix64) -> String {
        let alphabet: [Unicode.Scalar] = [
            "a", "b", "Z", "0", "9", " ", "/", "\\", "\"", "\n", "\t", "\u{0}", "\u{1}", "\u{1F}", "\u{7F}", "é", "\u{301}",
            "天", "😀", "\u{2028}", "\u{FEFF}", "_", "-",
        ]
        var text = String.UnicodeScalarView()
        for _ in 0..<random.next() % 8 { text.append(alphabet[Int(random.next() % UInt64(alphabet.count))]) }
        return String(text)
    }
}
