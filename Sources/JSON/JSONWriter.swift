/// Writes a ``JSONValue`` as compact JSON text with sorted keys: the bytes of ``JSONValue/jsonString``.
///
/// The same text Foundation's `JSONEncoder` with `[.sortedKeys, .withoutEscapingSlashes]` writes (the
/// tests compare the two on random documents), in one pass into one byte array, without the encoder's
/// boxes and containers: `GET /stats` and every other HTTP answer go through it.
///
/// Rules: keys sorted by their UTF-8 bytes (not `String`'s `<`, which compares normalized text); `"` and `\` escaped, `\b \f \n \r \t` by name, other bytes
/// below 0x20 as `\u00XX` (lowercase hex), everything else (slashes, non-ASCII) as is; integers in
/// decimal; fractions as Swift's shortest round-trip `description` without a trailing `.0` (`1e+20`,
/// `0.1`, `-0`); a fraction that is not finite (no JSON number exists for it) as `null`.
public struct JSONWriter {
    public private(set) var bytes: [UInt8] = []

    public init(capacity: Int = 256) {
        bytes.reserveCapacity(capacity)
    }

    public mutating func write(_ value: JSONValue) {
        switch value {
        case .null: append("null")
        case .bool(let b): append(b ? "true" : "false")
        case .int(let i): append(String(i))
        case .double(let d): write(d)
        case .string(let s): write(string: s)
        case .array(let elements):
            bytes.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(element)
            }
            bytes.append(UInt8(ascii: "]"))
        case .object(let members):
            bytes.append(UInt8(ascii: "{"))
            for (index, member) in members.sorted(by: { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }).enumerated() {
                if index > 0 { bytes.append(UInt8(ascii: ",")) }
                write(string: member.key)
                bytes.append(UInt8(ascii: ":"))
                write(member.value)
            }
            bytes.append(UInt8(ascii: "}"))
        }
    }

    public mutating func write(_ d: Double) {
        guard d.isFinite else { return append("null") }
        var text = d.description
        if text.hasSuffix(".0") { text.removeLast(2) }
        append(text)
    }

    public mutating func write(string: String) {
        bytes.append(UInt8(ascii: "\""))
        for byte in string.utf8 {
            switch byte {
            case UInt8(ascii: "\""): append(#"\""#)
            case UInt8(ascii: "\\"): append(#"\\"#)
            case 0x08: append(#"\b"#)
            case 0x0C: append(#"\f"#)
            case 0x0A: append(#"\n"#)
            case 0x0D: append(#"\r"#)
            case 0x09: append(#"\t"#)
            case 0..<0x20:
                append(#"\u00"#)
                bytes.append(Self.hex[Int(byte >> 4)])
                bytes.append(Self.hex[Int(byte & 0xF)])
            default: bytes.append(byte)
            }
        }
        bytes.append(UInt8(ascii: "\""))
    }

    /// Text that is already JSON (a value encoded earlier), as is.
    public mutating func append(json text: String) {
        append(text)
    }

    private mutating func append(_ text: String) {
        bytes.append(contentsOf: text.utf8)
    }

    private static let hex = Array("0123456789abcdef".utf8)
}

extension JSONValue {
    /// Compact JSON text with sorted keys, so equal values print equally (``JSONWriter``).
    public var jsonString: String {
        String(decoding: jsonBytes, as: UTF8.self)
    }

    /// ``jsonString``'s UTF-8 bytes.
    public var jsonBytes: [UInt8] {
        var writer = JSONWriter()
        writer.write(self)
        return writer.bytes
    }
}
