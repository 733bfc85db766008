import Testing
@testable import JSON

@Suite struct SchemaValidatorTests {
    let weather: JSONValue = [
        "type": "object",
        "properties": [
            "location": ["type": "string", "minLength": 2, "maxLength": 20, "pattern": "^[A-Za-z ]+$"],
            "count": ["type": "integer", "minimum": 1, "maximum": 10],
            "ratio": ["type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1],
            "unit": ["enum": ["c", "f"]],
            "version": ["const": 2],
            "tags": ["type": "array", "items": ["type": "string"], "maxItems": 2],
            "options": [
                "type": "object",
                "properties": ["depth": ["type": "integer"]],
                "required": ["depth"],
                "additionalProperties": false,
            ],
        ],
        "required": ["location"],
        "additionalProperties": ["type": "boolean"],
    ]

    func errors(_ value: JSONValue) -> [String] { SchemaValidator.validate(value, against: weather) }

    @Test func acceptsConformingArguments() {
        #expect(errors(["location": "Paris", "count": 3, "ratio": 0.5, "unit": "c", "version": 2, "tags": ["a"],
                        "options": ["depth": 1], "extra": true]) == [])
        #expect(errors(["location": "Paris", "count": 2.0]) == [], "an integer-valued double counts as an integer")
        #expect(errors(["location": "Paris", "version": 2.0]) == [])
    }

    @Test func namesWhatIsWrong() {
        #expect(errors([:]) == ["missing required property 'location'"])
        #expect(errors(["location": "Paris", "count": "3"]) == ["property 'count' must be an integer, got string"])
        #expect(errors(["location": "Paris", "count": 2.5]) == ["property 'count' must be an integer, got number"])
        #expect(errors(["location": "Paris", "count": 11]) == ["property 'count' must be at most 10, got 11"])
        #expect(errors(["location": "Paris", "count": 0]) == ["property 'count' must be at least 1, got 0"])
        #expect(errors(["location": "Paris", "ratio": 1]) == ["property 'ratio' must be less than 1, got 1"])
        #expect(errors(["location": "Paris", "ratio": 0]) == ["property 'ratio' must be greater than 0, got 0"])
        #expect(errors(["location": "P"]) == ["property 'location' must be at least 2 characters long, got 1"])
        #expect(errors(["location": .string(String(repeating: "a", count: 21))]) == ["property 'location' must be at most 20 characters long, got 21"])
        #expect(errors(["location": "Paris 75"]) == ["property 'location' must match the pattern ^[A-Za-z ]+$"])
        #expect(errors(["location": "Paris", "unit": "k"]) == [#"property 'unit' must be one of "c", "f", got "k""#])
        #expect(errors(["location": "Paris", "version": 3]) == ["property 'version' must be 2, got 3"])
        #expect(errors(["location": "Paris", "tags": ["a", 1, "c"]]) == [
            "property 'tags' must have at most 2 items, got 3", "property 'tags[1]' must be a string, got integer",
        ])
        #expect(errors(["location": "Paris", "extra": "yes"]) == ["property 'extra' must be a boolean, got string"])
    }

    @Test func nestedObjectsHaveAPath() {
        #expect(errors(["location": "Paris", "options": ["depth": "deep", "colour": 1]]) == [
            "unknown property 'options.colour' (allowed: depth)", "property 'options.depth' must be an integer, got string",
        ])
        #expect(errors(["location": "Paris", "options": [:]]) == ["missing required property 'options.depth'"])
        #expect(SchemaValidator.validate([1], against: weather) == ["arguments must be an object, got array"])
    }

    @Test func anyOfAndOneOf() {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "id": ["anyOf": [["type": "integer"], ["type": "string", "pattern": "^[a-z]+$"]]],
                "n": ["oneOf": [["type": "integer"], ["type": "number", "minimum": 5]]],
            ],
        ]
        #expect(SchemaValidator.validate(["id": 3], against: schema) == [])
        #expect(SchemaValidator.validate(["id": "abc"], against: schema) == [])
        #expect(SchemaValidator.validate(["id": "A1"], against: schema) == [
            "property 'id' matches none of the allowed forms (property 'id' must be an integer, got string | property 'id' must match the pattern ^[a-z]+$)"
        ])
        #expect(SchemaValidator.validate(["n": 2], against: schema) == [])
        #expect(SchemaValidator.validate(["n": 5.5], against: schema) == [])
        #expect(SchemaValidator.validate(["n": 6], against: schema) == ["property 'n' matches 2 of the forms where exactly one is allowed"])
    }

    @Test func allOfAndNot() {
        let schema: JSONValue = [
            "type": "object",
            "properties": [
                "user": ["allOf": [["type": "string", "minLength": 2], ["pattern": "^[a-z]+$"]], "not": ["enum": ["root", "admin"]]],
                "port": ["allOf": [["type": "integer"], ["minimum": 1024]], "not": ["const": 8080]],
            ],
        ]
        #expect(SchemaValidator.validate(["user": "ann", "port": 8081], against: schema) == [])
        // allOf: every subschema applies.
        #expect(SchemaValidator.validate(["user": "a"], against: schema) == ["property 'user' must be at least 2 characters long, got 1"])
        #expect(SchemaValidator.validate(["user": "Ann"], against: schema) == ["property 'user' must match the pattern ^[a-z]+$"])
        #expect(SchemaValidator.validate(["user": "A"], against: schema) == [
            "property 'user' must be at least 2 characters long, got 1", "property 'user' must match the pattern ^[a-z]+$",
        ])
        #expect(SchemaValidator.validate(["port": 80], against: schema) == ["property 'port' must be at least 1024, got 80"])
        #expect(SchemaValidator.validate(["port": "80"], against: schema) == ["property 'port' must be an integer, got string"])
        // not: a value matching the subschema is refused.
        #expect(SchemaValidator.validate(["user": "root"], against: schema) == [#"property 'user' must not match {"enum":["root","admin"]}"#])
        #expect(SchemaValidator.validate(["port": 8080], against: schema) == [#"property 'port' must not match {"const":8080}"#])
        // Both keywords are checked as schemas when a tool is loaded.
        #expect(SchemaValidator.schemaProblems(["type": "object", "allOf": [], "not": ["type": "text"]]).map(\.pointer) == ["/allOf", "/not/type"])
    }

    @Test func argumentStrings() {
        #expect(SchemaValidator.parseArguments("", schema: ["type": "object"]) == .success([:]))
        #expect(SchemaValidator.parseArguments("  ", schema: nil) == .success([:]))
        // Unicode white space around the arguments is no argument text (no-break space, ideographic space).
        #expect(SchemaValidator.parseArguments("\u{00A0}\n {\"a\": 1}\u{3000}\t", schema: nil) == .success(["a": 1]))
        #expect(SchemaValidator.parseArguments("\u{2028}\u{00A0}", schema: nil) == .success([:]))
        #expect(SchemaValidator.parseArguments(#"{"location": "#, schema: weather)
            == .failure(.init(message: "arguments are not valid JSON: unexpected end of input, expected a value at 1:13")))
        #expect(SchemaValidator.parseArguments(#"{"count": "x"}"#, schema: weather)
            == .failure(.init(message: "invalid arguments: missing required property 'location'; property 'count' must be an integer, got string")))
    }

    @Test func schemaProblems() {
        #expect(SchemaValidator.schemaProblems(weather).isEmpty)
        #expect(SchemaValidator.schemaProblems(["type": "array"]).map(\.message) == [#"'parameters' must have "type": "object", got "array""#])
        let bad = SchemaValidator.schemaProblems(["type": "object", "properties": ["a": ["type": "text"], "b": 3], "required": "a", "minLength": -1])
        #expect(bad.map(\.pointer) == ["/properties/a/type", "/properties/b", "/required", "/minLength"])
    }
}
