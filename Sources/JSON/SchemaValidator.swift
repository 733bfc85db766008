import Foundation

/// Checks tool arguments against a tool's JSON Schema (the subset models use), and checks that a
/// declared `parameters` value is a schema at all.
///
/// Messages are written for the model to act on: `missing required property 'location'`,
/// `property 'count' must be an integer, got string`; nested members are named with a path
/// (`options.unit`, `files[2]`).
public enum SchemaValidator {

    /// Every way `value` breaks `schema`; empty when it conforms.
    public static func validate(_ value: JSONValue, against schema: JSONValue) -> [String] {
        var errors: [String] = []
        check(value, schema, path: "", into: &errors)
        return errors
    }

    /// Parses a model's argument string (empty means `{}`) and validates it.
    /// Returns the parsed value, or one sentence saying what is wrong.
    public static func parseArguments(_ text: String, schema: JSONValue?) -> Result<JSONValue, ArgumentError> {
        // Unicode white space around the text is dropped (what `trimmingCharacters(in:
        // .whitespacesAndNewlines)` drops, without its cost on every call).
        let scalars = text.unicodeScalars
        let start = scalars.firstIndex { !$0.properties.isWhitespace } ?? scalars.endIndex
        let end = scalars[start...].lastIndex { !$0.properties.isWhitespace }.map(scalars.index(after:)) ?? start
        let value: JSONValue
        if start == end {
            value = .object([:])
        } else {
            do {
                let parsed = try JSONParser.value(Array(Substring(scalars[start..<end]).utf8))
                value = parsed == .null ? .object([:]) : parsed  // `null` arguments are no arguments
            } catch {
                return .failure(ArgumentError(message: "arguments are not valid JSON: \(error.message) at \(error.position)"))
            }
        }
        return checkArguments(value, schema: schema)
    }

    /// Validates arguments that are already a value (a request body's member).
    public static func checkArguments(_ value: JSONValue, schema: JSONValue?) -> Result<JSONValue, ArgumentError> {
        if let path = nonFinitePath(value, path: "") {
            return .failure(ArgumentError(message: "invalid arguments: \(subject(path)) must be a finite number, got a number too large to represent"))
        }
        guard let schema else { return .success(value) }
        let errors = validate(value, against: schema)
        if errors.isEmpty { return .success(value) }
        return .failure(ArgumentError(message: "invalid arguments: " + errors.joined(separator: "; ")))
    }

    public struct ArgumentError: Error, Sendable, Equatable {
        public var message: String
    }

    // MARK: Validation

    /// The path of the first number in `value` that is not finite (`1e999` parses to infinity), if any.
    private static func nonFinitePath(_ value: JSONValue, path: String) -> String? {
        switch value {
        case .double(let d): return d.isFinite ? nil : path
        case .array(let items):
            for (i, item) in items.enumerated() {
                if let found = nonFinitePath(item, path: "\(path)[\(i)]") { return found }
            }
            return nil
        case .object(let members):
            for key in members.keys.sorted() {
                if let found = nonFinitePath(members[key]!, path: path.isEmpty ? key : "\(path).\(key)") { return found }
            }
            return nil
        case .null, .bool, .int, .string: return nil
        }
    }

    private static func subject(_ path: String) -> String {
        path.isEmpty ? "arguments" : "property '\(path)'"
    }

    private static func check(_ value: JSONValue, _ schema: JSONValue, path: String, into errors: inout [String]) {
        if case .bool(let allowed) = schema {
            if !allowed { errors.append("\(subject(path)) is not allowed") }
            return
        }
        guard let s = schema.objectValue else { return }

        if let type = s["type"] {
            let names: [String] = type.stringValue.map { [$0] } ?? (type.arrayValue?.compactMap(\.stringValue) ?? [])
            if !names.isEmpty && !names.contains(where: { matches(value, type: $0) }) {
                let wanted = names.map(article).joined(separator: " or ")
                errors.append("\(subject(path)) must be \(wanted), got \(typeName(value))")
                return  // further keywords would only repeat the type error
            }
        }
        if let options = s["enum"]?.arrayValue, !options.contains(where: { jsonEqual($0, value) }) {
            errors.append("\(subject(path)) must be one of \(options.map(\.jsonString).joined(separator: ", ")), got \(value.jsonString)")
        }
        if let constant = s["const"], !jsonEqual(constant, value) {
            errors.append("\(subject(path)) must be \(constant.jsonString), got \(value.jsonString)")
        }

        switch value {
        case .string(let string):
            checkString(string, s, path: path, into: &errors)
        case .double(let d) where !d.isFinite:
            errors.append("\(subject(path)) must be a finite number, got a number too large to represent")
        case .int, .double:
            checkNumber(value.numberValue!, s, path: path, into: &errors)
        case .array(let items):
            checkArray(items, s, path: path, into: &errors)
        case .object(let members):
            checkObject(members, s, path: path, into: &errors)
        case .null, .bool:
            break
        }

        if let all = s["allOf"]?.arrayValue {
            for sub in all { check(value, sub, path: path, into: &errors) }
        }
        if let any = s["anyOf"]?.arrayValue {
            let failures = any.map { validate(value, against: $0, path: path) }
            if !failures.contains(where: \.isEmpty) {
                errors.append("\(subject(path)) matches none of the allowed forms (\(summarize(failures)))")
            }
        }
        if let one = s["oneOf"]?.arrayValue {
            let failures = one.map { validate(value, against: $0, path: path) }
            let matching = failures.filter(\.isEmpty).count
            if matching == 0 {
                errors.append("\(subject(path)) matches none of the allowed forms (\(summarize(failures)))")
            } else if matching > 1 {
                errors.append("\(subject(path)) matches \(matching) of the forms where exactly one is allowed")
            }
        }
        if let not = s["not"], validate(value, against: not, path: path).isEmpty {
            errors.append("\(subject(path)) must not match \(not.jsonString)")
        }
    }

    private static func validate(_ value: JSONValue, against schema: JSONValue, path: String) -> [String] {
        var errors: [String] = []
        check(value, schema, path: path, into: &errors)
        return errors
    }

    private static func summarize(_ failures: [[String]]) -> String {
        failures.map { $0.joined(separator: ", ") }.joined(separator: " | ")
    }

    private static func checkString(_ string: String, _ s: [String: JSONValue], path: String, into errors: inout [String]) {
        let length = string.unicodeScalars.count
        if let min = s["minLength"]?.numberValue, Double(length) < min {
            errors.append("\(subject(path)) must be at least \(format(min)) characters long, got \(length)")
        }
        if let max = s["maxLength"]?.numberValue, Double(length) > max {
            errors.append("\(subject(path)) must be at most \(format(max)) characters long, got \(length)")
        }
        if let pattern = s["pattern"]?.stringValue, let regex = try? NSRegularExpression(pattern: pattern) {
            let range = NSRange(string.startIndex..., in: string)
            if regex.firstMatch(in: string, range: range) == nil {
                errors.append("\(subject(path)) must match the pattern \(pattern)")
            }
        }
    }

    private static func checkNumber(_ n: Double, _ s: [String: JSONValue], path: String, into errors: inout [String]) {
        let exclusiveMinimumFlag = s["exclusiveMinimum"]?.boolValue == true  // draft 4 spelling
        let exclusiveMaximumFlag = s["exclusiveMaximum"]?.boolValue == true
        if let min = s["minimum"]?.numberValue {
            if exclusiveMinimumFlag ? !(n > min) : !(n >= min) {
                errors.append("\(subject(path)) must be \(exclusiveMinimumFlag ? "greater than" : "at least") \(format(min)), got \(format(n))")
            }
        }
        if let max = s["maximum"]?.numberValue {
            if exclusiveMaximumFlag ? !(n < max) : !(n <= max) {
                errors.append("\(subject(path)) must be \(exclusiveMaximumFlag ? "less than" : "at most") \(format(max)), got \(format(n))")
            }
        }
        if let min = s["exclusiveMinimum"]?.numberValue, !(n > min) {
            errors.append("\(subject(path)) must be greater than \(format(min)), got \(format(n))")
        }
        if let max = s["exclusiveMaximum"]?.numberValue, !(n < max) {
            errors.append("\(subject(path)) must be less than \(format(max)), got \(format(n))")
        }
        if let m = s["multipleOf"]?.numberValue, m > 0 {
            let q = n / m
            if abs(q - q.rounded()) > 1e-9 {
                errors.append("\(subject(path)) must be a multiple of \(format(m)), got \(format(n))")
            }
        }
    }

    private static func checkArray(_ items: [JSONValue], _ s: [String: JSONValue], path: String, into errors: inout [String]) {
        if let min = s["minItems"]?.numberValue, Double(items.count) < min {
            errors.append("\(subject(path)) must have at least \(format(min)) items, got \(items.count)")
        }
        if let max = s["maxItems"]?.numberValue, Double(items.count) > max {
            errors.append("\(subject(path)) must have at most \(format(max)) items, got \(items.count)")
        }
        if s["uniqueItems"]?.boolValue == true {
            // One pass over a set of canonical texts; one message however many items repeat.
            var firstIndex: [String: Int] = [:]
            var firstRepeat: (Int, Int)?
            var repeats = 0
            for (j, item) in items.enumerated() {
                let key = canonicalText(item)
                if let i = firstIndex[key] {
                    repeats += 1
                    if firstRepeat == nil { firstRepeat = (i, j) }
                } else {
                    firstIndex[key] = j
                }
            }
            if let (i, j) = firstRepeat {
                let count = repeats > 1 ? "; \(repeats) repeats in all" : ""
                errors.append("\(subject(path)) must not repeat items (\(items[i].jsonString) at \(i) and \(j)\(count))")
            }
        }
        switch s["items"] {
        case .array(let tuple)?:
            for (i, item) in items.enumerated() where i < tuple.count {
                check(item, tuple[i], path: "\(path)[\(i)]", into: &errors)
            }
        case let itemSchema?:
            for (i, item) in items.enumerated() {
                check(item, itemSchema, path: "\(path)[\(i)]", into: &errors)
            }
        case nil:
            break
        }
    }

    private static func checkObject(_ members: [String: JSONValue], _ s: [String: JSONValue], path: String, into errors: inout [String]) {
        let properties = s["properties"]?.objectValue ?? [:]
        func memberPath(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        for name in s["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
            errors.append("missing required property '\(memberPath(name))'")
        }
        for key in members.keys.sorted() {
            let value = members[key]!
            if let propertySchema = properties[key] {
                check(value, propertySchema, path: memberPath(key), into: &errors)
                continue
            }
            switch s["additionalProperties"] {
            case .bool(false)?:
                let known = properties.keys.sorted()
                let hint = known.isEmpty ? "" : " (allowed: \(known.joined(separator: ", ")))"
                errors.append("unknown property '\(memberPath(key))'\(hint)")
            case .object(let extraSchema)?:
                check(value, .object(extraSchema), path: memberPath(key), into: &errors)
            default:
                break
            }
        }
        if let min = s["minProperties"]?.numberValue, Double(members.count) < min {
            errors.append("\(subject(path)) must have at least \(format(min)) properties")
        }
        if let max = s["maxProperties"]?.numberValue, Double(members.count) > max {
            errors.append("\(subject(path)) must have at most \(format(max)) properties")
        }
    }

    // MARK: Types

    public static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("null", .null), ("boolean", .bool), ("string", .string), ("array", .array), ("object", .object):
            return true
        case ("number", .int), ("number", .double), ("integer", .int):
            return true
        case ("integer", .double(let d)):
            return d.isFinite && d == d.rounded()
        default:
            return false
        }
    }

    public static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    private static func article(_ type: String) -> String {
        switch type {
        case "integer", "array", "object": return "an \(type)"
        case "null": return "null"
        default: return "a \(type)"
        }
    }

    /// Equality where 2 and 2.0 are the same number.
    static func jsonEqual(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.int, .double), (.double, .int), (.double, .double):
            return a.numberValue == b.numberValue
        case (.array(let x), .array(let y)):
            return x.count == y.count && zip(x, y).allSatisfy { jsonEqual($0, $1) }
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, v in y[key].map { jsonEqual(v, $0) } ?? false }
        default:
            return a == b
        }
    }

    /// JSON text that is equal for values `jsonEqual` calls equal: keys sorted, and a whole number
    /// written the same whether it came as 2 or 2.0.
    /// - Complexity: O(n) in the size of the value.
    static func canonicalText(_ value: JSONValue) -> String {
        var out = ""
        appendCanonical(value, to: &out)
        return out
    }

    private static func appendCanonical(_ value: JSONValue, to out: inout String) {
        switch value {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += numberText(Double(i))
        case .double(let d): out += numberText(d)
        case .string: out += value.jsonString
        case .array(let items):
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += "," }
                appendCanonical(item, to: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (k, key) in members.keys.sorted().enumerated() {
                if k > 0 { out += "," }
                out += JSONValue.string(key).jsonString + ":"
                appendCanonical(members[key]!, to: &out)
            }
            out += "}"
        }
    }

    /// Numbers compare as Doubles (as `jsonEqual` does), so their text is the Double's.
    private static func numberText(_ d: Double) -> String {
        d == 0 ? "0" : "\(d)"
    }

    private static func format(_ n: Double) -> String {
        n == n.rounded() && abs(n) < 1e15 ? String(Int64(n)) : String(n)
    }

    // MARK: Schema checking

    static let knownTypes: Set<String> = ["null", "boolean", "integer", "number", "string", "array", "object"]

    /// Problems that make `schema` unusable as a tool's `parameters`, each with the JSON Pointer
    /// (relative to the schema) of the offending member.
    public static func schemaProblems(_ schema: JSONValue, requireObjectType: Bool = true) -> [(pointer: String, message: String)] {
        var problems: [(String, String)] = []
        guard let s = schema.objectValue else {
            return [("", "'parameters' must be a JSON Schema object, got \(typeName(schema))")]
        }
        if requireObjectType, let type = s["type"], type != .string("object") {
            problems.append(("/type", "'parameters' must have \"type\": \"object\", got \(type.jsonString)"))
        }
        checkSchema(schema, pointer: "", into: &problems)
        return problems
    }

    private static func checkSchema(_ schema: JSONValue, pointer: String, into problems: inout [(String, String)]) {
        if case .bool = schema { return }
        guard let s = schema.objectValue else {
            problems.append((pointer, "a schema must be an object or a boolean, got \(typeName(schema))"))
            return
        }
        let at = pointer.isEmpty ? "the schema" : "schema at \(pointer)"
        if let type = s["type"] {
            let names = type.stringValue.map { [$0] } ?? type.arrayValue?.compactMap(\.stringValue)
            if let names, names.allSatisfy(knownTypes.contains), type.stringValue != nil || !names.isEmpty {
                // fine
            } else {
                problems.append((pointer + "/type", "\(at): 'type' must be one of \(knownTypes.sorted().joined(separator: ", ")) or an array of them, got \(type.jsonString)"))
            }
        }
        if let properties = s["properties"] {
            if let members = properties.objectValue {
                for (key, sub) in members.sorted(by: { $0.key < $1.key }) {
                    checkSchema(sub, pointer: pointer + "/properties/" + key, into: &problems)
                }
            } else {
                problems.append((pointer + "/properties", "\(at): 'properties' must be an object, got \(typeName(properties))"))
            }
        }
        if let required = s["required"], required.arrayValue?.allSatisfy({ $0.stringValue != nil }) != true {
            problems.append((pointer + "/required", "\(at): 'required' must be an array of strings"))
        }
        if let items = s["items"] {
            if let tuple = items.arrayValue {
                for (i, sub) in tuple.enumerated() { checkSchema(sub, pointer: pointer + "/items/\(i)", into: &problems) }
            } else {
                checkSchema(items, pointer: pointer + "/items", into: &problems)
            }
        }
        if let extra = s["additionalProperties"] {
            checkSchema(extra, pointer: pointer + "/additionalProperties", into: &problems)
        }
        if let e = s["enum"], e.arrayValue == nil {
            problems.append((pointer + "/enum", "\(at): 'enum' must be an array"))
        }
        for key in ["anyOf", "oneOf", "allOf"] {
            guard let list = s[key] else { continue }
            if let subs = list.arrayValue, !subs.isEmpty {
                for (i, sub) in subs.enumerated() { checkSchema(sub, pointer: pointer + "/\(key)/\(i)", into: &problems) }
            } else {
                problems.append((pointer + "/" + key, "\(at): '\(key)' must be a non-empty array of schemas"))
            }
        }
        if let not = s["not"] { checkSchema(not, pointer: pointer + "/not", into: &problems) }
        for key in ["minimum", "maximum", "multipleOf"] {
            if let v = s[key], v.numberValue == nil {
                problems.append((pointer + "/" + key, "\(at): '\(key)' must be a number, got \(typeName(v))"))
            }
        }
        for key in ["exclusiveMinimum", "exclusiveMaximum"] {
            if let v = s[key], v.numberValue == nil, v.boolValue == nil {
                problems.append((pointer + "/" + key, "\(at): '\(key)' must be a number, got \(typeName(v))"))
            }
        }
        for key in ["minLength", "maxLength", "minItems", "maxItems", "minProperties", "maxProperties"] {
            if let v = s[key], v.wholeNumber(in: 0...JSONLimits.maxCountKeyword) == nil {
                problems.append((pointer + "/" + key, "\(at): '\(key)' must be an integer from 0 to \(JSONLimits.maxCountKeyword), got \(v.jsonString)"))
            }
        }
        if let pattern = s["pattern"] {
            if let text = pattern.stringValue {
                do { _ = try NSRegularExpression(pattern: text) } catch {
                    problems.append((pointer + "/pattern", "\(at): 'pattern' is not a valid regular expression: \(text)"))
                }
            } else {
                problems.append((pointer + "/pattern", "\(at): 'pattern' must be a string"))
            }
        }
    }
}
