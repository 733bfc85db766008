import Foundation
import Testing
@testable import JSON

/// Numbers and sizes a model or a tool file may send that once trapped the process or took
/// quadratic time: each is a message now.
@Suite struct SchemaValidatorLimitsTests {
    @Test func hugeLengthAndCountKeywordsAreMessagesNotTraps() {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "s": ["type": "string", "minLength": 1e300],
                "a": ["type": "array", "minItems": 1e300],
                "o": ["type": "object", "minProperties": 1e300],
            ],
        ]
        let errors = SchemaValidator.validate(["s": "x", "a": [], "o": [:]], against: schema)
        #expect(errors.count == 3)
        #expect(errors.allSatisfy { $0.contains("1e+300") }, "\(errors)")
    }

    @Test func lengthAndCountKeywordsBeyondAnyRealSizeAreSchemaProblems() {
        for key in ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"] {
            let problems = SchemaValidator.schemaProblems(["type": "object", key: 1e300])
            #expect(problems.map(\.pointer) == ["/" + key], "\(key)")
        }
        #expect(SchemaValidator.schemaProblems(["type": "object", "maxLength": 1000]).isEmpty)
    }

    @Test func nonFiniteNumbersFailValidation() {
        let schema: JSONValue = ["type": "object", "properties": ["x": ["type": "number"]]]
        let typed = SchemaValidator.parseArguments(#"{"x": 1e999}"#, schema: schema)
        #expect(throws: SchemaValidator.ArgumentError.self) { try typed.get() }
        let untyped = SchemaValidator.parseArguments(#"{"y": [-1e999]}"#, schema: schema)
        #expect(throws: SchemaValidator.ArgumentError.self) { try untyped.get() }
        #expect(SchemaValidator.validate(.double(.infinity), against: ["type": "number"]).count == 1)
    }

    @Test(.timeLimit(.minutes(1))) func repeatedItemsAreOneMessage() {
        let items = JSONValue.array(Array(repeating: ["k": 1], count: 3000))
        let errors = SchemaValidator.validate(items, against: ["type": "array", "uniqueItems": true])
        #expect(errors == [#"arguments must not repeat items ({"k":1} at 0 and 1; 2999 repeats in all)"#])
    }

    @Test func uniqueItemsTreatsEqualNumbersAndKeyOrderAsTheSame() {
        let schema: JSONValue = ["uniqueItems": true]
        #expect(SchemaValidator.validate([1, 1.0], against: schema).count == 1)
        #expect(SchemaValidator.validate([["a": 1, "b": [2]], ["b": [2.0], "a": 1]], against: schema).count == 1)
        #expect(SchemaValidator.validate([1, "1", [1], ["a": 1], true, nil, 1.5, "a"], against: schema).isEmpty)
        #expect(SchemaValidator.validate(["x", "y", "x"], against: schema) == [#"arguments must not repeat items ("x" at 0 and 2)"#])
    }
}
