import CCurl
import Foundation
import JSON

/// Runs `http` tools with libcurl's easy API on a thread of its own.
///
/// Cancelling sets a flag that the progress callback reads; libcurl then aborts the transfer
/// (within about a second when the server is silent, at once while data flows).
/// This is the only file of the Tools library that imports CCurl.
enum HTTPExecutor {
    static func start(tool: ToolDeclaration, template: HTTPRequestTemplate, arguments: JSONValue, runner: ToolRunner, execution: ToolExecution) {
        let environment = ToolEnvironment.make(base: runner.environment, passEnv: tool.passEnv, extra: [:])
        let request = HTTPRequestBuilder.build(template, arguments: arguments, environment: environment)
        let transfer = CurlTransfer(limit: runner.outputLimit)
        execution.attach(transfer)
        Thread.detachNewThread {
            execution.finish(transfer.perform(request))
        }
    }
}

/// A filled-in request.
struct HTTPRequest: Sendable, Equatable {
    var method: String
    var url: String
    var headers: [(String, String)]
    var body: String?

    static func == (a: HTTPRequest, b: HTTPRequest) -> Bool {
        a.method == b.method && a.url == b.url && a.body == b.body
            && a.headers.map { "\($0.0): \($0.1)" } == b.headers.map { "\($0.0): \($0.1)" }
    }
}

/// Fills an `http` template from the call's arguments.
enum HTTPRequestBuilder {
    static func build(_ t: HTTPRequestTemplate, arguments: JSONValue, environment: [String: String]) -> HTTPRequest {
        let args = arguments.objectValue ?? [:]
        let url = substitute(t.url) { name in args[name].map { percentEncode(plain($0)) } }
        var headers = t.headers.sorted { $0.key < $1.key }.map { ($0.key, expandEnvironment($0.value, environment)) }
        var body: String?
        switch t.body {
        case nil, .null?:
            body = nil
        case .string(let text)?:
            body = substitute(text) { name in args[name].map(plain) }
        case let value?:
            body = fillJSON(value, args).jsonString
            if !headers.contains(where: { $0.0.lowercased() == "content-type" }) {
                headers.append(("Content-Type", "application/json"))
            }
        }
        return HTTPRequest(method: t.method, url: url, headers: headers, body: body)
    }

    /// A string that is exactly `{param}` becomes the argument's JSON value (or null when absent);
    /// placeholders inside longer strings are replaced by the argument's text.
    static func fillJSON(_ value: JSONValue, _ args: [String: JSONValue]) -> JSONValue {
        switch value {
        case .string(let s):
            if s.hasPrefix("{"), s.hasSuffix("}"), s.count > 2 {
                let name = String(s.dropFirst().dropLast())
                if isIdentifier(name) { return args[name] ?? .null }
            }
            return .string(substitute(s) { name in args[name].map(plain) })
        case .array(let items):
            return .array(items.map { fillJSON($0, args) })
        case .object(let members):
            return .object(members.mapValues { fillJSON($0, args) })
        default:
            return value
        }
    }

    /// Replaces `{name}` (letters, digits, `_`) using `lookup`; absent names become "".
    static func substitute(_ text: String, _ lookup: (String) -> String?) -> String {
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == "{", let close = text[i...].firstIndex(of: "}") {
                let name = String(text[text.index(after: i)..<close])
                if isIdentifier(name) {
                    out += lookup(name) ?? ""
                    i = text.index(after: close)
                    continue
                }
            }
            out.append(text[i])
            i = text.index(after: i)
        }
        return out
    }

    /// `${NAME}` from the (secret-filtered) environment; unknown names become "".
    static func expandEnvironment(_ text: String, _ environment: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let close = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                return out
            }
            out += environment[String(rest[start.upperBound..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
    }

    static func plain(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s
        default: return v.jsonString
        }
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}

/// One libcurl easy transfer; `terminate` makes the progress callback abort it.
final class CurlTransfer: ExecutionControl, @unchecked Sendable {
    private let lock = NSLock()
    private var cancelled = false
    private var body: [UInt8] = []
    private var total = 0
    private let limit: Int

    init(limit: Int) { self.limit = limit }

    func pause() {}
    func resume() {}
    func terminate() { lock.withLock { cancelled = true } }

    var isCancelled: Bool { lock.withLock { cancelled } }

    private static let globalInit: Void = { _ = curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    func perform(_ request: HTTPRequest) -> ToolResult {
        Self.globalInit
        guard let handle = curl_easy_init() else { return .failure("cannot start an HTTP transfer (curl_easy_init failed)") }
        defer { curl_easy_cleanup(handle) }
        var headerList: UnsafeMutablePointer<curl_slist>?
        defer { curl_slist_free_all(headerList) }
        for (name, value) in request.headers {
            headerList = curl_slist_append(headerList, "\(name): \(value)")
        }

        let context = Unmanaged.passUnretained(self).toOpaque()
        ccurl_easy_setopt_string(handle, CURLOPT_URL, request.url)
        ccurl_easy_setopt_long(handle, CURLOPT_NOSIGNAL, 1)
        ccurl_easy_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 1)
        ccurl_easy_setopt_long(handle, CURLOPT_MAXREDIRS, 5)
        ccurl_easy_setopt_long(handle, CURLOPT_CONNECTTIMEOUT, 30)
        ccurl_easy_setopt_string(handle, CURLOPT_USERAGENT, "agent-repl-tools")
        ccurl_easy_setopt_slist(handle, CURLOPT_HTTPHEADER, headerList)
        ccurl_easy_setopt_write_callback(handle, CURLOPT_WRITEFUNCTION) { ptr, size, count, userdata in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue()
            return transfer.received(UnsafeRawBufferPointer(start: ptr, count: size * count)) ? size * count : 0
        }
        ccurl_easy_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
        ccurl_easy_setopt_long(handle, CURLOPT_NOPROGRESS, 0)
        ccurl_easy_setopt_xferinfo_callback(handle) { userdata, _, _, _, _ in
            Unmanaged<CurlTransfer>.fromOpaque(userdata!).takeUnretainedValue().isCancelled ? 1 : 0
        }
        ccurl_easy_setopt_pointer(handle, CURLOPT_XFERINFODATA, context)

        switch request.method {
        case "GET": break
        case "HEAD": ccurl_easy_setopt_long(handle, CURLOPT_NOBODY, 1)
        default: ccurl_easy_setopt_string(handle, CURLOPT_CUSTOMREQUEST, request.method)
        }
        let bodyBytes = request.body.map { Array($0.utf8) } ?? []
        let code: CURLcode = bodyBytes.withUnsafeBufferPointer { buffer in
            if request.body != nil {
                ccurl_easy_setopt_off(handle, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(buffer.count))
                ccurl_easy_setopt_pointer(handle, CURLOPT_POSTFIELDS, UnsafeMutableRawPointer(mutating: buffer.baseAddress ?? UnsafePointer(bitPattern: 1)!))
            }
            return curl_easy_perform(handle)
        }

        var status = 0
        ccurl_easy_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &status)
        let (bytes, total) = lock.withLock { (body, self.total) }
        var text = String(decoding: bytes, as: UTF8.self)
        let cut = total > bytes.count
        if cut { text += "\n[response cut: showing the first \(bytes.count) bytes]" }

        if isCancelled { return ToolResult(outcome: .cancelled, output: text, error: "the tool was cancelled") }
        if code != CURLE_OK && !(code == CURLE_WRITE_ERROR && cut) {
            let reason = String(cString: curl_easy_strerror(code))
            return ToolResult(outcome: .failed, output: text, error: "the HTTP request to \(request.url) failed: \(reason)")
        }
        if status >= 400 {
            return ToolResult(outcome: .failed, output: text, error: "the server answered HTTP \(status)", httpStatus: status)
        }
        return ToolResult(outcome: .success, output: text, httpStatus: status)
    }

    /// Keeps bytes up to the cap; past it, stops the transfer (the result notes the cut).
    private func received(_ chunk: UnsafeRawBufferPointer) -> Bool {
        lock.withLock {
            total += chunk.count
            let room = limit - body.count
            if room > 0 { body += chunk.prefix(room) }
            return total <= limit && !cancelled
        }
    }
}
