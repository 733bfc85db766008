import HTTP
import JSON
/// One Server-Sent Event: its type (`event:`), its `data:` lines joined by "\n", and its `id:`.
public struct SSEEvent: Sendable, Hashable {
    /// The `event:` field, or nil for the default type ("message").
    public var event: String?
    public var data: String
    /// The last `id:` field seen in this event, if any.
    public var id: String?

    public init(event: String? = nil, data: String, id: String? = nil) {
        self.event = event
        self.data = data
        self.id = id
    }

    /// OpenAI's end-of-stream marker.
    public var isDone: Bool { data == "[DONE]" }
}

/// Incremental byte-level parser for `text/event-stream`, after the WHATWG event-stream rules.
///
/// Feed it network chunks as they come; it returns the events completed by each chunk. A chunk may end
/// anywhere: inside a line, between a CR and its LF, inside a UTF-8 multi-byte character. Bytes are
/// decoded as UTF-8 only once an event is whole, so a character split across chunks comes out intact.
///
/// Lines end in LF, CRLF or CR. Lines starting with `:` are comments. A field's value loses one leading
/// space. `data:` lines are joined with "\n"; a blank line dispatches the event; an event with no data
/// is dropped. `retry:` and unknown fields are ignored.
///
/// A line, or an event's joined data, longer than `maxEventBytes` throws `LimitExceeded` as soon as it
/// grows past the limit, so a server that never ends a line cannot grow memory without bound. After
/// that error the parser is not fed again.
///
/// - Complexity: O(n) in the bytes fed, whatever the chunking.
public struct SSEParser: Sendable {
    private var line: [UInt8] = []
    private var data: [UInt8] = []
    private var hasData = false
    private var eventType: String?
    private var eventID: String?
    /// The previous chunk ended in CR: an LF starting the next chunk belongs to that line end.
    private var skipLeadingLF = false
    private var atStreamStart = true

    /// A line, or an event's data, grew longer than the parser's limit.
    public struct LimitExceeded: Error, Sendable, Hashable {
        public var limit: Int
    }

    private let maxEventBytes: Int

    public init(maxEventBytes: Int = StreamLimits.maxEventBytes) {
        self.maxEventBytes = maxEventBytes
    }

    /// Parses one chunk; returns the events it completed, in order.
    public mutating func feed<Bytes: Sequence>(_ chunk: Bytes) throws(LimitExceeded) -> [SSEEvent] where Bytes.Element == UInt8 {
        var events: [SSEEvent] = []
        for byte in chunk {
            if skipLeadingLF {
                skipLeadingLF = false
                if byte == 0x0A { continue }
            }
            switch byte {
            case 0x0A:
                try endLine(into: &events)
            case 0x0D:
                try endLine(into: &events)
                skipLeadingLF = true
            default:
                line.append(byte)
                if line.count > maxEventBytes { throw LimitExceeded(limit: maxEventBytes) }
            }
        }
        return events
    }

    /// Ends the stream. Unlike a browser, a final event the server did not close with a blank line is
    /// still delivered: some servers end with `data: [DONE]\n` and close.
    public mutating func finish() throws(LimitExceeded) -> [SSEEvent] {
        var events: [SSEEvent] = []
        if !line.isEmpty { try endLine(into: &events) }
        dispatch(into: &events)
        return events
    }

    private mutating func endLine(into events: inout [SSEEvent]) throws(LimitExceeded) {
        defer { line.removeAll(keepingCapacity: true) }
        if atStreamStart {
            atStreamStart = false
            if line.starts(with: [0xEF, 0xBB, 0xBF]) { line.removeFirst(3) }  // a UTF-8 byte order mark
        }
        if line.isEmpty {
            dispatch(into: &events)
            return
        }
        if line[0] == UInt8(ascii: ":") { return }  // a comment, e.g. a keep-alive
        let field: ArraySlice<UInt8>
        var value: ArraySlice<UInt8>
        if let colon = line.firstIndex(of: UInt8(ascii: ":")) {
            field = line[..<colon]
            value = line[(colon + 1)...]
            if value.first == UInt8(ascii: " ") { value = value.dropFirst() }
        } else {
            field = line[...]
            value = []
        }
        switch String(decoding: field, as: UTF8.self) {
        case "data":
            if data.count + (hasData ? 1 : 0) + value.count > maxEventBytes { throw LimitExceeded(limit: maxEventBytes) }
            if hasData { data.append(0x0A) }
            data.append(contentsOf: value)
            hasData = true
        case "event":
            eventType = String(decoding: value, as: UTF8.self)
        case "id":
            if !value.contains(0) { eventID = String(decoding: value, as: UTF8.self) }
        default:
            break  // `retry:` and unknown fields
        }
    }

    private mutating func dispatch(into events: inout [SSEEvent]) {
        if hasData {
            let type = (eventType?.isEmpty ?? true) ? nil : eventType
            events.append(SSEEvent(event: type, data: String(decoding: data, as: UTF8.self), id: eventID))
        }
        data.removeAll(keepingCapacity: true)
        hasData = false
        eventType = nil
    }
}
