import CCurl
import Foundation

/// `HTTPTransport` over libcurl's multi interface. The only Swift file that imports CCurl.
///
/// All transfers of the process run on one dedicated thread that sleeps in `curl_multi_poll`; adding or
/// cancelling a transfer wakes it with `curl_multi_wakeup`, so a cancel takes effect within
/// milliseconds even while the server is silent. Sharing one multi handle also shares its connection
/// cache: consecutive requests to the same endpoint reuse the TCP/TLS connection.
public struct CurlTransport: HTTPTransport {
    public init() {}

    public func send(_ request: HTTPRequest) -> AsyncThrowingStream<HTTPResponsePart, any Error> {
        let (stream, continuation) = AsyncThrowingStream<HTTPResponsePart, any Error>.makeStream()
        let transfer: CurlTransfer
        do {
            transfer = try CurlTransfer(request: request, continuation: continuation)
        } catch {
            continuation.finish(throwing: error)
            return stream
        }
        let loop = CurlMultiLoop.shared
        continuation.onTermination = { termination in
            if case .cancelled = termination { loop.cancel(transfer) }
        }
        loop.add(transfer)
        return stream
    }
}

// MARK: - Status checks

/// Every libcurl status code goes through here: anything but OK becomes a `TransportError`.
private func check(_ code: CURLcode, _ what: StaticString) throws(TransportError) {
    guard code != CURLE_OK else { return }
    throw TransportError(.setupFailed, "\(what): \(String(cString: curl_easy_strerror(code)))")
}

private func check(_ code: CURLMcode, _ what: StaticString) throws(TransportError) {
    guard code != CURLM_OK else { return }
    throw TransportError(.setupFailed, "\(what): \(String(cString: curl_multi_strerror(code)))")
}

/// Classifies the result of a finished transfer.
private func transportError(_ code: CURLcode, osErrno: Int, detail: String) -> TransportError {
    switch code {
    case CURLE_COULDNT_CONNECT:
        return TransportError(osErrno == Int(ECONNREFUSED) ? .connectionRefused : .connectionLost, detail)
    case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
        return TransportError(.hostNotFound, detail)
    case CURLE_OPERATION_TIMEDOUT:
        return TransportError(.connectTimeout, detail)
    case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
        CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ISSUER_ERROR:
        return TransportError(.tlsFailure, detail)
    case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL:
        return TransportError(.setupFailed, detail)
    default:
        return TransportError(.connectionLost, detail)
    }
}

private let curlGlobalInit: Void = {
    _ = ccurl_global_init_default()
}()

// MARK: - One transfer

/// One request: its easy handle and everything libcurl points into. Set up on the caller's thread,
/// then touched only by the loop thread.
private final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let continuation: AsyncThrowingStream<HTTPResponsePart, any Error>.Continuation
    private let onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?
    let idleTimeout: Duration
    var lastActivity = ContinuousClock.now
    /// Set under the loop's lock: a cancel that arrives before the transfer is added still wins.
    var cancelRequested = false
    private var headers: [String: String] = [:]
    private var headSent = false

    init(request: HTTPRequest, continuation: AsyncThrowingStream<HTTPResponsePart, any Error>.Continuation) throws(TransportError) {
        _ = curlGlobalInit
        guard let easy = curl_easy_init() else { throw TransportError(.setupFailed, "curl_easy_init failed") }
        self.easy = easy
        self.continuation = continuation
        self.onBodyChunk = request.onBodyChunk
        self.idleTimeout = request.idleTimeout
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))

        let context = Unmanaged.passUnretained(self).toOpaque()
        try check(ccurl_easy_setopt_string(easy, CURLOPT_URL, request.url), "CURLOPT_URL")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, request.connectTimeout.wholeMilliseconds), "CURLOPT_CONNECTTIMEOUT_MS")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1), "CURLOPT_TCP_KEEPALIVE")
        try check(ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        try check(ccurl_easy_setopt_string(easy, CURLOPT_USERAGENT, "agent-repl/\(AgentReplVersion.string)"), "CURLOPT_USERAGENT")

        if request.method == "POST" {
            try check(ccurl_easy_setopt_long(easy, CURLOPT_POST, 1), "CURLOPT_POST")
            try check(ccurl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(request.body.count)), "CURLOPT_POSTFIELDSIZE_LARGE")
            let code = request.body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes: the Data may go away after this call.
                ccurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
            try check(code, "CURLOPT_COPYPOSTFIELDS")
        } else if request.method != "GET" {
            try check(ccurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method), "CURLOPT_CUSTOMREQUEST")
        }

        // "Expect:" turns off the 100-continue round trip curl adds to larger POST bodies.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            guard let list = curl_slist_append(headerList, line) else {
                throw TransportError(.setupFailed, "curl_slist_append failed")
            }
            headerList = list
        }
        try check(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")

        try check(ccurl_easy_setopt_write_callback(easy, CURLOPT_HEADERFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            return transfer.receivedHeader(UnsafeRawBufferPointer(start: data, count: size * count))
        }, "CURLOPT_HEADERFUNCTION")
        try check(ccurl_easy_setopt_pointer(easy, CURLOPT_HEADERDATA, context), "CURLOPT_HEADERDATA")
        try check(ccurl_easy_setopt_write_callback(easy, CURLOPT_WRITEFUNCTION) { data, size, count, context in
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(context!).takeUnretainedValue()
            return transfer.receivedBody(UnsafeRawBufferPointer(start: data, count: size * count))
        }, "CURLOPT_WRITEFUNCTION")
        try check(ccurl_easy_setopt_pointer(easy, CURLOPT_WRITEDATA, context), "CURLOPT_WRITEDATA")
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    private func receivedHeader(_ bytes: UnsafeRawBufferPointer) -> Int {
        lastActivity = .now
        let line = String(decoding: bytes, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        if line.hasPrefix("HTTP/") {
            headers = [:]  // a new status line: an interim 100 answer or a redirect came before
        } else if let colon = line.firstIndex(of: ":") {
            let name = line[..<colon].trimmingCharacters(in: .whitespaces).lowercased()
            headers[name] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return bytes.count
    }

    private func receivedBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        let now = ContinuousClock.now
        lastActivity = now
        onBodyChunk?(now)
        sendHeadOnce()
        continuation.yield(.body(Data(bytes)))
        return bytes.count
    }

    private func sendHeadOnce() {
        guard !headSent else { return }
        headSent = true
        var status = 0
        _ = ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status)
        continuation.yield(.head(HTTPResponseHead(status: status, headers: headers)))
    }

    /// The transfer ended with `code`; finishes the stream.
    func completed(_ code: CURLcode) {
        guard code == CURLE_OK else {
            var osErrno = 0
            _ = ccurl_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno)
            let buffered = String(cString: errorBuffer)
            let detail = buffered.isEmpty ? String(cString: curl_easy_strerror(code)) : buffered
            fail(transportError(code, osErrno: osErrno, detail: detail))
            return
        }
        sendHeadOnce()
        continuation.finish()
    }

    func fail(_ error: any Error) {
        continuation.finish(throwing: error)
    }
}

// MARK: - The loop thread

/// Owns the process's multi handle and the thread that drives it.
private final class CurlMultiLoop: @unchecked Sendable {
    static let shared = CurlMultiLoop()

    private let multi: UnsafeMutableRawPointer
    private let lock = NSLock()
    // Guarded by `lock`.
    private var pendingAdds: [CurlTransfer] = []
    private var pendingCancels: [CurlTransfer] = []
    // Loop thread only. Holding the transfer here keeps it alive while libcurl points at it.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    private init() {
        _ = curlGlobalInit
        guard let multi = curl_multi_init() else { fatalError("curl_multi_init failed") }
        self.multi = multi
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "agent-repl.curl"
        thread.start()
    }

    func add(_ transfer: CurlTransfer) {
        lock.withLock { pendingAdds.append(transfer) }
        _ = curl_multi_wakeup(multi)
    }

    func cancel(_ transfer: CurlTransfer) {
        lock.withLock {
            transfer.cancelRequested = true
            pendingCancels.append(transfer)
        }
        _ = curl_multi_wakeup(multi)
    }

    private func run() {
        while true {
            applyPendingChanges()
            var running: Int32 = 0
            do {
                try check(curl_multi_perform(multi, &running), "curl_multi_perform")
            } catch {
                failAll(error)
            }
            collectFinished()
            expireIdleTransfers()
            var ready: Int32 = 0
            if (try? check(curl_multi_poll(multi, nil, 0, pollTimeoutMilliseconds(), &ready), "curl_multi_poll")) == nil {
                Thread.sleep(forTimeInterval: 0.01)  // never spin if polling itself fails
            }
        }
    }

    private func applyPendingChanges() {
        let (adds, cancels) = lock.withLock {
            defer { pendingAdds = []; pendingCancels = [] }
            return (pendingAdds.filter { !$0.cancelRequested }, pendingCancels + pendingAdds.filter(\.cancelRequested))
        }
        for transfer in adds {
            do {
                try check(curl_multi_add_handle(multi, transfer.easy), "curl_multi_add_handle")
                transfer.lastActivity = .now
                active[transfer.easy] = transfer
            } catch {
                transfer.fail(error)
            }
        }
        for transfer in cancels {
            if active[transfer.easy] === transfer { remove(transfer) }
            transfer.fail(CancellationError())
        }
    }

    private func collectFinished() {
        var finished: [(UnsafeMutableRawPointer, CURLcode)] = []
        var left: Int32 = 0
        while let message = curl_multi_info_read(multi, &left) {
            if message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle {
                finished.append((easy, message.pointee.data.result))
            }
        }
        // Messages die with remove_handle: read them all first.
        for (easy, code) in finished {
            guard let transfer = active[easy] else { continue }
            remove(transfer)
            transfer.completed(code)
        }
    }

    private func expireIdleTransfers() {
        let now = ContinuousClock.now
        for transfer in active.values where now - transfer.lastActivity >= transfer.idleTimeout {
            remove(transfer)
            transfer.fail(TransportError(.idleTimeout, "no data from the server for \(transfer.idleTimeout)"))
        }
    }

    /// Wakes in time for the nearest idle deadline; libcurl shortens it further for its own timers.
    private func pollTimeoutMilliseconds() -> Int32 {
        let now = ContinuousClock.now
        var timeout = 1000
        for transfer in active.values {
            let remaining = (transfer.lastActivity + transfer.idleTimeout - now).wholeMilliseconds
            timeout = min(timeout, max(1, remaining + 1))
        }
        return Int32(timeout)
    }

    private func remove(_ transfer: CurlTransfer) {
        _ = curl_multi_remove_handle(multi, transfer.easy)
        active[transfer.easy] = nil
    }

    private func failAll(_ error: any Error) {
        for transfer in active.values {
            remove(transfer)
            transfer.fail(error)
        }
    }
}

extension Duration {
    /// Whole milliseconds, rounded down.
    fileprivate var wholeMilliseconds: Int {
        let (seconds, attoseconds) = components
        return Int(seconds) * 1000 + Int(attoseconds / 1_000_000_000_000_000)
    }
}
