import Testing
@testable import JSON

@Suite struct JSONParserTests {
    @Test func parsesValuesAndKeepsIntegersApart() throws {
        let doc = try JSONParser.parse(#"{"a": [1, -2.5e1, true, null, "x\n\u00e9\ud83d\ude00"], "b": {}}"#)
        #expect(doc.value == ["a": [1, -25.0, true, nil, "x\né😀"], "b": [:]])
    }

    @Test func recordsKeyAndValuePositions() throws {
        let doc = try JSONParser.parse("{\n  \"name\": \"x\",\n  \"tools\": [ {\"a\": 1} ]\n}")
        #expect(doc.keyPositions["/name"] == SourcePosition(line: 2, column: 3))
        #expect(doc.valuePositions["/name"] == SourcePosition(line: 2, column: 11))
        #expect(doc.valuePositions["/tools/0"] == SourcePosition(line: 3, column: 14))
        #expect(doc.keyPositions["/tools/0/a"] == SourcePosition(line: 3, column: 15))
    }

    @Test(arguments: [
        ("{\"a\": 1\n  \"b\": 2}", 2, 3, "expected ',' or '}'"),
        ("[1, 2", 1, 6, "expected ',' or ']'"),
        ("{\"a\": tru}", 1, 7, "invalid literal, expected 'true'"),
        ("{\"a\" 1}", 1, 6, "expected ':' after key 'a'"),
        ("{\"a\": 1,}", 1, 9, "expected a string key, got '}'"),
        ("", 1, 1, "empty document, expected a JSON value"),
        ("{} x", 1, 4, "unexpected 'x' after the JSON value"),
        ("{\"é\": \"unterminated", 1, 7, "unterminated string"),
        ("{\"a\": 1, \"a\": 2}", 1, 10, "duplicate key 'a'"),
        ("[01]", 1, 3, "leading zeros are not allowed in numbers"),
    ])
    func reportsLineAndColumn(text: String, line: Int, column: Int, message: String) {
        #expect(throws: JSONSyntaxError(position: SourcePosition(line: line, column: column), message: message)) {
            try JSONParser.parse(text)
        }
    }
}
