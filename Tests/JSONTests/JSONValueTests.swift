import Testing
@testable import JSON

@Test func jsonValueKeepsIntegersApartFromFractions() throws {
    let v = try JSONValue.parse(#"{"a": 1, "b": 1.5, "c": [true, null, "x"]}"#)
    #expect(v["a"] == .int(1))
    #expect(v["b"] == .double(1.5))
    #expect(v["c"] == [true, nil, "x"])
    #expect(v.jsonString == #"{"a":1,"b":1.5,"c":[true,null,"x"]}"#)
}
