import Foundation

/// A place in a text file, 1-based, columns counted in Unicode scalars.
public struct SourcePosition: Sendable, Hashable, CustomStringConvertible {
    public var line: Int
    public var column: Int

    public init(line: Int, column: Int) {
        self.line = line
        self.column = column
    }

    public var description: String { "\(line):\(column)" }
}

/// Why a text is not JSON, and where the parser noticed.
public struct JSONSyntaxError: Error, Sendable, Hashable, CustomStringConvertible {
    public var position: SourcePosition
    public var message: String

    public var description: String { "\(position): \(message)" }
}

/// A parsed document plus where each value and each object key started, so a tool file's problems
/// can point at a line and column.
///
/// Paths are JSON Pointers (`/tools/0/name`); `keyPositions` holds where a member's key starts,
/// `valuePositions` where its value starts (the root is `""`).
public struct LocatedJSON: Sendable {
    public var value: JSONValue
    public var valuePositions: [String: SourcePosition]
    public var keyPositions: [String: SourcePosition]

    /// The best known position for a path: its key, else its value, else its nearest ancestor's.
    public func position(of path: String) -> SourcePosition? {
        var p = path
        while true {
            if let k = keyPositions[p] ?? valuePositions[p] { return k }
            guard let slash = p.lastIndex(of: "/") else { return nil }
            p = String(p[..<slash])
        }
    }
}

/// A small recursive-descent JSON parser (RFC 8259) that tracks line and column.
///
/// Foundation's decoder reports byte offsets at best; users fixing a `tools.d` file want
/// `file:line:column`. Integers without fraction or exponent that fit in Int64 stay `.int`.
/// `JSONValue.parse` reads with the same rules without recording where values start
/// (no path strings, no position tables): the one JSON parser of the project, fast enough for every
/// streamed chunk and tool call.
public struct JSONParser {
    private let bytes: [UInt8]
    /// Records `valuePositions` and `keyPositions` (a tool file); false for plain values.
    private let locates: Bool
    private var index = 0
    private var line = 1
    private var column = 1
    private var valuePositions: [String: SourcePosition] = [:]
    private var keyPositions: [String: SourcePosition] = [:]
    private var depth = 0

    public static func parse(_ text: String) throws(JSONSyntaxError) -> LocatedJSON {
        try parse(Array(text.utf8))
    }

    public static func parse(_ bytes: [UInt8]) throws(JSONSyntaxError) -> LocatedJSON {
        var parser = JSONParser(bytes: bytes, locates: true)
        return try parser.parseDocument()
    }

    /// The value alone, without the positions of its parts (errors still say where they are).
    public static func value(_ text: String) throws(JSONSyntaxError) -> JSONValue {
        try value(Array(text.utf8))
    }

    public static func value(_ bytes: [UInt8]) throws(JSONSyntaxError) -> JSONValue {
        var parser = JSONParser(bytes: bytes, locates: false)
        return try parser.parseDocument().value
    }

    private init(bytes: [UInt8], locates: Bool) {
        self.bytes = bytes
        self.locates = locates
        // A UTF-8 byte-order mark is tolerated.
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { index = 3 }
    }

    private mutating func parseDocument() throws(JSONSyntaxError) -> LocatedJSON {
        skipWhitespace()
        if index >= bytes.count { throw error("empty document, expected a JSON value") }
        let value = try parseValue(path: "")
        skipWhitespace()
        if index < bytes.count { throw error("unexpected \(describeCurrent()) after the JSON value") }
        return LocatedJSON(value: value, valuePositions: valuePositions, keyPositions: keyPositions)
    }

    // MARK: Values

    private mutating func parseValue(path: String) throws(JSONSyntaxError) -> JSONValue {
        skipWhitespace()
        if locates { valuePositions[path] = position }
        guard index < bytes.count else { throw error("unexpected end of input, expected a value") }
        switch bytes[index] {
        case UInt8(ascii: "{"): return try parseObject(path: path)
        case UInt8(ascii: "["): return try parseArray(path: path)
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"): try expectLiteral("true"); return .bool(true)
        case UInt8(ascii: "f"): try expectLiteral("false"); return .bool(false)
        case UInt8(ascii: "n"): try expectLiteral("null"); return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try parseNumber()
        default: throw error("unexpected \(describeCurrent()), expected a value")
        }
    }

    private mutating func parseObject(path: String) throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        advance()  // {
        var members: [String: JSONValue] = [:]
        skipWhitespace()
        if peek == UInt8(ascii: "}") {
            advance()
            depth -= 1
            return .object(members)
        }
        while true {
            skipWhitespace()
            guard peek == UInt8(ascii: "\"") else {
                throw error("expected a string key, got \(describeCurrent())")
            }
            let keyPosition = position
            let key = try parseString()
            let memberPath = locates ? path + "/" + escapePointer(key) : ""
            if members[key] != nil { throw JSONSyntaxError(position: keyPosition, message: "duplicate key '\(key)'") }
            if locates { keyPositions[memberPath] = keyPosition }
            skipWhitespace()
            guard peek == UInt8(ascii: ":") else { throw error("expected ':' after key '\(key)'") }
            advance()
            members[key] = try parseValue(path: memberPath)
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "}"):
                advance()
                depth -= 1
                return .object(members)
            default: throw error("expected ',' or '}'")
            }
        }
    }

    private mutating func parseArray(path: String) throws(JSONSyntaxError) -> JSONValue {
        try enterContainer()
        advance()  // [
        var elements: [JSONValue] = []
        skipWhitespace()
        if peek == UInt8(ascii: "]") {
            advance()
            depth -= 1
            return .array(elements)
        }
        while true {
            elements.append(try parseValue(path: locates ? path + "/\(elements.count)" : ""))
            skipWhitespace()
            switch peek {
            case UInt8(ascii: ","): advance()
            case UInt8(ascii: "]"):
                advance()
                depth -= 1
                return .array(elements)
            default: throw error("expected ',' or ']'")
            }
        }
    }

    private mutating func enterContainer() throws(JSONSyntaxError) {
        depth += 1
        if depth > JSONLimits.maxNestingDepth { throw error("nesting deeper than \(JSONLimits.maxNestingDepth) levels") }
    }

    private mutating func parseString() throws(JSONSyntaxError) -> String {
        let start = position
        advance()  // opening quote
        // Most strings hold no escape: one run of plain bytes up to the closing quote, decoded at once.
        var end = index
        var scalarsInRun = 0
        while end < bytes.count, case let b = bytes[end], b != UInt8(ascii: "\""), b != UInt8(ascii: "\\"), b >= 0x20 {
            if b & 0xC0 != 0x80 { scalarsInRun += 1 }
            end += 1
        }
        if end < bytes.count, bytes[end] == UInt8(ascii: "\"") {
            let text = bytes.withUnsafeBufferPointer { String(decoding: UnsafeBufferPointer(rebasing: $0[index..<end]), as: UTF8.self) }
            index = end + 1
            column += scalarsInRun + 1
            return text
        }
        var scalars = String.UnicodeScalarView()
        var raw: [UInt8] = []
        func flush(_ raw: inout [UInt8], into scalars: inout String.UnicodeScalarView) {
            if raw.isEmpty { return }
            scalars.append(contentsOf: String(decoding: raw, as: UTF8.self).unicodeScalars)
            raw.removeAll(keepingCapacity: true)
        }
        while true {
            guard index < bytes.count else {
                throw JSONSyntaxError(position: start, message: "unterminated string")
            }
            let b = bytes[index]
            switch b {
            case UInt8(ascii: "\""):
                advance()
                flush(&raw, into: &scalars)
                return String(scalars)
            case UInt8(ascii: "\\"):
                flush(&raw, into: &scalars)
                advance()
                guard index < bytes.count else { throw JSONSyntaxError(position: start, message: "unterminated string") }
                let e = bytes[index]
                advance()
                switch e {
                case UInt8(ascii: "\""): scalars.append("\"")
                case UInt8(ascii: "\\"): scalars.append("\\")
                case UInt8(ascii: "/"): scalars.append("/")
                case UInt8(ascii: "b"): scalars.append("\u{08}")
                case UInt8(ascii: "f"): scalars.append("\u{0C}")
                case UInt8(ascii: "n"): scalars.append("\n")
                case UInt8(ascii: "r"): scalars.append("\r")
                case UInt8(ascii: "t"): scalars.append("\t")
                case UInt8(ascii: "u"):
                    var code = try parseHex4()
                    if (0xD800..<0xDC00).contains(code), peek == UInt8(ascii: "\\"),
                        index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u")
                    {
                        advance(); advance()
                        let low = try parseHex4()
                        if (0xDC00..<0xE000).contains(low) {
                            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
                        } else {
                            scalars.append("\u{FFFD}")
                            code = low
                        }
                    }
                    scalars.append(Unicode.Scalar(code) ?? "\u{FFFD}")
                default:
                    throw error("invalid escape '\\\(Character(Unicode.Scalar(e)))' in string", back: 1)
                }
            case 0..<0x20:
                throw error("control character in string (escape it as \\u00XX)")
            default:
                raw.append(b)
                advance()
            }
        }
    }

    private mutating func parseHex4() throws(JSONSyntaxError) -> UInt32 {
        var code: UInt32 = 0
        for _ in 0..<4 {
            guard index < bytes.count, let digit = hexValue(bytes[index]) else {
                throw error("expected four hex digits after \\u")
            }
            code = code * 16 + digit
            advance()
        }
        return code
    }

    private func hexValue(_ b: UInt8) -> UInt32? {
        switch b {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(b - UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(b - UInt8(ascii: "a") + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(b - UInt8(ascii: "A") + 10)
        default: return nil
        }
    }

    private mutating func parseNumber() throws(JSONSyntaxError) -> JSONValue {
        let start = index
        var isInteger = true
        if peek == UInt8(ascii: "-") { advance() }
        guard let first = peek, isDigit(first) else { throw error("expected a digit") }
        if first == UInt8(ascii: "0") {
            advance()
            if let next = peek, isDigit(next) { throw error("leading zeros are not allowed in numbers") }
        } else {
            while let d = peek, isDigit(d) { advance() }
        }
        if peek == UInt8(ascii: ".") {
            isInteger = false
            advance()
            guard let d = peek, isDigit(d) else { throw error("expected a digit after '.'") }
            while let d = peek, isDigit(d) { advance() }
        }
        if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
            isInteger = false
            advance()
            if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { advance() }
            guard let d = peek, isDigit(d) else { throw error("expected a digit in the exponent") }
            while let d = peek, isDigit(d) { advance() }
        }
        let text = String(decoding: bytes[start..<index], as: UTF8.self)
        if isInteger, let i = Int64(text) { return .int(i) }
        return .double(Double(text) ?? .nan)
    }

    private mutating func expectLiteral(_ word: String) throws(JSONSyntaxError) {
        let start = position
        for expected in word.utf8 {
            guard peek == expected else { throw JSONSyntaxError(position: start, message: "invalid literal, expected '\(word)'") }
            advance()
        }
    }

    // MARK: Cursor

    private var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

    private var position: SourcePosition { SourcePosition(line: line, column: column) }

    private func isDigit(_ b: UInt8) -> Bool { b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") }

    private mutating func advance() {
        let b = bytes[index]
        index += 1
        if b == UInt8(ascii: "\n") {
            line += 1
            column = 1
        } else if b & 0xC0 != 0x80 {
            column += 1  // continuation bytes belong to the previous scalar's column
        }
    }

    private mutating func skipWhitespace() {
        while let b = peek, b == 0x20 || b == 0x09 || b == 0x0A || b == 0x0D { advance() }
    }

    private func describeCurrent() -> String {
        guard let b = peek else { return "end of input" }
        if b >= 0x20 && b < 0x7F { return "'\(Character(Unicode.Scalar(b)))'" }
        return String(format: "byte 0x%02X", b)
    }

    private func error(_ message: String, back: Int = 0) -> JSONSyntaxError {
        JSONSyntaxError(position: SourcePosition(line: line, column: max(1, column - back)), message: message)
    }

    private func escapePointer(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
