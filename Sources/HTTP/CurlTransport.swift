import CCurl
import Foundation
import Synchronization

/// `HTTPTransport` over libcurl's multi interface. The only Swift file that imports CCurl.
///
/// All transfers of the process run on one dedicated thread that sleeps in `curl_multi_poll`; adding or
/// cancelling a transfer wakes it with `curl_multi_wakeup`, so a cancel takes effect within
/// milliseconds even while the server is silent. Sharing one multi handle also shares its connection
/// cache: consecutive requests to the same endpoint reuse the TCP/TLS connection.
///
/// Every libcurl status code goes through `check`, which throws a `TransportError`. The connection
/// policy (``HTTPSettings``, proxies, TLS, schemes, user agent) is applied in one place,
/// `CurlTransfer.configure`.
public struct CurlTransport: HTTPTransport {
    public init() {}

    public func send(_ request: HTTPRequest) -> HTTPResponseStream {
        let (parts, continuation) = AsyncThrowingStream<HTTPResponsePart, any Error>.makeStream()
        let loop: CurlMultiLoop
        let transfer: CurlTransfer
        do {
            loop = try CurlMultiLoop.shared.get()
            transfer = try CurlTransfer(request: request, continuation: continuation)
        } catch {
            continuation.finish(throwing: error)
            return HTTPResponseStream(parts)
        }
        continuation.onTermination = { termination in
            if case .cancelled = termination { loop.cancel(transfer) }
        }
        loop.add(transfer)
        return HTTPResponseStream(parts) { loop.cancel(transfer) }
    }
}

// MARK: - Status checks

/// A libcurl status: `CURLcode` (easy calls and finished transfers) or `CURLMcode` (multi calls).
private protocol CurlStatus {
    var isOK: Bool { get }
    /// libcurl's own sentence for the status.
    var explanation: String { get }
    /// What a caller can match on; `osErrno` is the transfer's socket error, when there is one.
    func errorCode(osErrno: Int) -> TransportError.Code
}

extension CURLcode: CurlStatus {
    var isOK: Bool { self == CURLE_OK }
    var explanation: String { String(cString: curl_easy_strerror(self)) }

    func errorCode(osErrno: Int) -> TransportError.Code {
        switch self {
        case CURLE_COULDNT_CONNECT:
            osErrno == Int(ECONNREFUSED) ? .connectionRefused : .connectionLost
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY:
            .hostNotFound
        case CURLE_OPERATION_TIMEDOUT:
            .connectTimeout  // the only libcurl timeout set; idle time is watched by the loop
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
            CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ENGINE_NOTFOUND, CURLE_SSL_ISSUER_ERROR:
            .tlsFailure
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_UNKNOWN_OPTION, CURLE_BAD_FUNCTION_ARGUMENT,
            CURLE_NOT_BUILT_IN, CURLE_OUT_OF_MEMORY, CURLE_FAILED_INIT:
            .setupFailed
        default:
            .connectionLost
        }
    }
}

extension CURLMcode: CurlStatus {
    var isOK: Bool { self == CURLM_OK }
    var explanation: String { String(cString: curl_multi_strerror(self)) }
    func errorCode(osErrno: Int) -> TransportError.Code { .setupFailed }
}

/// Every libcurl status goes through here: anything but OK throws a `TransportError`.
/// - Parameters:
///   - call: the call or option that failed, as a prefix of the message; nil for a finished transfer.
///   - detail: libcurl's error buffer, more precise than its generic sentence when not empty.
private func check(_ status: some CurlStatus, _ call: String?, detail: String = "", osErrno: Int = 0) throws(TransportError) {
    guard !status.isOK else { return }
    let text = detail.isEmpty ? status.explanation : detail
    throw TransportError(status.errorCode(osErrno: osErrno), call.map { "\($0): \(text)" } ?? text)
}

/// Whole milliseconds, rounded up, within 0...Int32.max: what libcurl's and poll's timeouts take.
private func milliseconds(_ duration: Duration) -> Int {
    Int(min(max((duration / .milliseconds(1)).rounded(.up), 0), Double(Int32.max)))
}

private let curlGlobalInit = Result { () throws(TransportError) in
    try check(ccurl_global_init_default(), "curl_global_init")
}

// MARK: - One transfer

/// One request: its easy handle and everything libcurl points into.
// @unchecked: set up on the caller's thread, then touched only by the loop thread (libcurl's callbacks
// run there); `cancelRequested`, the one field other threads touch, is atomic.
private final class CurlTransfer: @unchecked Sendable {
    let easy: UnsafeMutableRawPointer
    /// Set once by `CurlMultiLoop.cancel`: a cancel that arrives before the transfer is added still wins.
    let cancelRequested = Atomic(false)
    let idleTimeout: Duration?
    var lastActivity = ContinuousClock.now
    private var headerList: UnsafeMutablePointer<curl_slist>?
    private let errorBuffer: UnsafeMutablePointer<CChar>
    private let continuation: AsyncThrowingStream<HTTPResponsePart, any Error>.Continuation
    private let onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?
    private let maxBodyBytes: Int?
    private let bodyConsumer: (any HTTPBodyConsumer)?
    /// `bodyConsumer` once it took this answer's body; it wants no more once `consumerIsDone`.
    private var bodyTaker: (any HTTPBodyConsumer)?
    private var consumerIsDone = false
    private var delivered = 0
    /// Why a callback stopped the transfer, when it did.
    private var stopReason: (any Error)?
    private var headers: [String: String] = [:]
    private var headSent = false

    init(request: HTTPRequest, continuation: AsyncThrowingStream<HTTPResponsePart, any Error>.Continuation) throws(TransportError) {
        try curlGlobalInit.get()
        guard let easy = curl_easy_init() else { throw TransportError(.setupFailed, "curl_easy_init failed") }
        self.easy = easy
        self.continuation = continuation
        self.onBodyChunk = request.onBodyChunk
        self.idleTimeout = request.settings.idleTimeout
        self.maxBodyBytes = request.maxBodyBytes
        self.bodyConsumer = request.bodyConsumer
        errorBuffer = .allocate(capacity: Int(CURL_ERROR_SIZE))
        errorBuffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE))
        try configure(request)  // a throw from here on runs deinit, which frees the handle
    }

    deinit {
        curl_easy_cleanup(easy)
        curl_slist_free_all(headerList)
        errorBuffer.deallocate()
    }

    /// Everything set on the easy handle. The connection policy lives here and nowhere else: the
    /// request's `HTTPSettings`, TLS verification, the allowed schemes, the user agent. Proxies come
    /// from the environment, read by libcurl itself (see `HTTPSettings`).
    private func configure(_ request: HTTPRequest) throws(TransportError) {
        let settings = request.settings
        try check(ccurl_easy_setopt_string(easy, CURLOPT_URL, request.url), "CURLOPT_URL")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_NOSIGNAL, 1), "CURLOPT_NOSIGNAL")
        try check(ccurl_easy_setopt_pointer(easy, CURLOPT_ERRORBUFFER, errorBuffer), "CURLOPT_ERRORBUFFER")
        try check(ccurl_easy_setopt_string(easy, CURLOPT_USERAGENT, "agent-repl/\(AgentReplVersion.string)"), "CURLOPT_USERAGENT")
        try check(ccurl_easy_setopt_string(easy, CURLOPT_PROTOCOLS_STR, "http,https"), "CURLOPT_PROTOCOLS_STR")
        try check(ccurl_easy_setopt_string(easy, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"), "CURLOPT_REDIR_PROTOCOLS_STR")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYPEER, 1), "CURLOPT_SSL_VERIFYPEER")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_SSL_VERIFYHOST, 2), "CURLOPT_SSL_VERIFYHOST")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_FOLLOWLOCATION, settings.followRedirects ? 1 : 0), "CURLOPT_FOLLOWLOCATION")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_MAXREDIRS, settings.maxRedirects), "CURLOPT_MAXREDIRS")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_CONNECTTIMEOUT_MS, max(1, milliseconds(settings.connectTimeout))), "CURLOPT_CONNECTTIMEOUT_MS")
        try check(ccurl_easy_setopt_long(easy, CURLOPT_TCP_KEEPALIVE, 1), "CURLOPT_TCP_KEEPALIVE")

        // A POST always carries a body (libcurl would otherwise read one from stdin).
        let body = request.body ?? (request.method == "POST" ? Data() : nil)
        if request.method == "HEAD" {
            try check(ccurl_easy_setopt_long(easy, CURLOPT_NOBODY, 1), "CURLOPT_NOBODY")
        } else if let body {
            try check(ccurl_easy_setopt_off(easy, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count)), "CURLOPT_POSTFIELDSIZE_LARGE")
            let code = body.withUnsafeBytes { bytes in
                // COPYPOSTFIELDS copies the bytes: the Data may go away after this call.
                ccurl_easy_setopt_pointer(easy, CURLOPT_COPYPOSTFIELDS, UnsafeMutableRawPointer(mutating: bytes.baseAddress ?? UnsafeRawPointer(errorBuffer)))
            }
            try check(code, "CURLOPT_COPYPOSTFIELDS")
        }
        if request.method != "GET" && request.method != "HEAD" && request.method != "POST" {
            try check(ccurl_easy_setopt_string(easy, CURLOPT_CUSTOMREQUEST, request.method), "CURLOPT_CUSTOMREQUEST")
        }

        // "Expect:" turns off the 100-continue round trip curl adds to larger bodies.
        for line in request.headers.map({ "\($0.name): \($0.value)" }) + ["Expect:"] {
            guard let list = curl_slist_append(headerList, line) else {
                throw TransportError(.setupFailed, "curl_slist_append failed")
            }
            headerList = list
        }
        try check(ccurl_easy_setopt_slist(easy, CURLOPT_HTTPHEADER, headerList), "CURLOPT_HTTPHEADER")

        let context = Unmanaged.passUnretained(self).toOpaque()
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

    /// Passes a chunk on. Returning less than its size makes libcurl stop the transfer (CURLE_WRITE_ERROR).
    private func receivedBody(_ bytes: UnsafeRawBufferPointer) -> Int {
        let now = ContinuousClock.now
        lastActivity = now
        onBodyChunk?(now)
        do {
            try sendHeadOnce()
        } catch {
            stopReason = error
            return 0
        }
        if let bodyTaker {
            guard !consumerIsDone else { return 0 }  // more after the consumer's end: stop the transfer
            do {
                if try !bodyTaker.consume(bytes) {
                    consumerIsDone = true
                    continuation.finish()
                }
                return bytes.count
            } catch {
                stopReason = error
                return 0
            }
        }
        guard let maxBodyBytes, delivered + bytes.count > maxBodyBytes else {
            delivered += bytes.count
            continuation.yield(.body(Data(bytes)))
            return bytes.count
        }
        if delivered < maxBodyBytes { continuation.yield(.body(Data(bytes.prefix(maxBodyBytes - delivered)))) }
        delivered = maxBodyBytes
        stopReason = TransportError(.bodyTooLarge, "the body is longer than \(maxBodyBytes) bytes")
        return 0
    }

    private func sendHeadOnce() throws(TransportError) {
        guard !headSent else { return }
        headSent = true
        var status = 0
        try check(ccurl_easy_getinfo_long(easy, CURLINFO_RESPONSE_CODE, &status), "CURLINFO_RESPONSE_CODE")
        let head = HTTPResponseHead(status: status, headers: headers)
        bodyTaker = bodyConsumer.flatMap { $0.takesBody(of: head) ? $0 : nil }
        continuation.yield(.head(head))
    }

    /// The transfer ended with `code`; finishes the stream.
    func completed(_ code: CURLcode) {
        do {
            if let stopReason { throw stopReason }
            var osErrno = 0
            try check(ccurl_easy_getinfo_long(easy, CURLINFO_OS_ERRNO, &osErrno), "CURLINFO_OS_ERRNO")
            try check(code, nil, detail: String(cString: errorBuffer), osErrno: osErrno)
            try sendHeadOnce()
            continuation.finish()
        } catch {
            fail(error)
        }
    }

    func fail(_ error: any Error) {
        continuation.finish(throwing: error)
    }
}

// MARK: - The loop thread

/// Owns the process's multi handle and the thread that drives it.
// @unchecked: `multi` and `active` are used only by the loop thread (and `multi` by
// `curl_multi_wakeup`, which libcurl allows from any thread); the queues other threads fill are in a Mutex.
private final class CurlMultiLoop: @unchecked Sendable {
    static let shared = Result { () throws(TransportError) in try CurlMultiLoop() }

    private struct Pending {
        var adds: [CurlTransfer] = []
        var cancels: [CurlTransfer] = []
    }

    private let multi: UnsafeMutableRawPointer
    private let pending = Mutex(Pending())
    /// Loop thread only. Holding the transfer here keeps it alive while libcurl points at it.
    private var active: [UnsafeMutableRawPointer: CurlTransfer] = [:]

    private init() throws(TransportError) {
        try curlGlobalInit.get()
        guard let multi = curl_multi_init() else { throw TransportError(.setupFailed, "curl_multi_init failed") }
        self.multi = multi
        let thread = Thread { [unowned self] in self.run() }
        thread.name = "agent-repl.curl"
        thread.start()
    }

    func add(_ transfer: CurlTransfer) {
        pending.withLock { $0.adds.append(transfer) }
        wake()
    }

    /// Cancels once; later calls (the stream's own termination after an explicit cancel) do nothing.
    func cancel(_ transfer: CurlTransfer) {
        guard !transfer.cancelRequested.exchange(true, ordering: .sequentiallyConsistent) else { return }
        pending.withLock { $0.cancels.append(transfer) }
        wake()
    }

    private func wake() {
        do {
            try check(curl_multi_wakeup(multi), "curl_multi_wakeup")
        } catch {
            // Nothing is lost: the loop applies the change when its poll times out (within a second).
        }
    }

    private func run() {
        while true {
            applyPendingChanges()
            do {
                var running: Int32 = 0
                try check(curl_multi_perform(multi, &running), "curl_multi_perform")
                collectFinished()
                expireIdleTransfers()
                var ready: Int32 = 0
                try check(curl_multi_poll(multi, nil, 0, pollTimeoutMilliseconds(), &ready), "curl_multi_poll")
            } catch {
                for transfer in Array(active.values) { end(transfer, error) }
                Thread.sleep(forTimeInterval: 0.01)  // never spin if the multi handle itself fails
            }
        }
    }

    private func applyPendingChanges() {
        let changes = pending.withLock { pending in
            defer { pending = Pending() }
            return pending
        }
        for transfer in changes.adds where !transfer.cancelRequested.load(ordering: .sequentiallyConsistent) {
            do {
                try check(curl_multi_add_handle(multi, transfer.easy), "curl_multi_add_handle")
                transfer.lastActivity = .now
                active[transfer.easy] = transfer
            } catch {
                transfer.fail(error)
            }
        }
        for transfer in changes.cancels { end(transfer, CancellationError()) }
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
            do {
                try remove(transfer)
                transfer.completed(code)
            } catch {
                transfer.fail(error)
            }
        }
    }

    private func expireIdleTransfers() {
        let now = ContinuousClock.now
        for transfer in Array(active.values) {
            guard let idle = transfer.idleTimeout, now - transfer.lastActivity >= idle else { continue }
            end(transfer, TransportError(.idleTimeout, "no data from the server for \(idle)"))
        }
    }

    /// Wakes in time for the nearest idle deadline; libcurl shortens it further for its own timers.
    private func pollTimeoutMilliseconds() -> Int32 {
        let now = ContinuousClock.now
        var timeout = 1000
        for transfer in active.values {
            guard let idle = transfer.idleTimeout else { continue }
            timeout = min(timeout, max(1, milliseconds(transfer.lastActivity + idle - now)))
        }
        return Int32(timeout)
    }

    /// Stops a transfer before libcurl finished it (the connection is closed) and fails its stream.
    private func end(_ transfer: CurlTransfer, _ reason: any Error) {
        do {
            try remove(transfer)
            transfer.fail(reason)
        } catch {
            transfer.fail(error)
        }
    }

    private func remove(_ transfer: CurlTransfer) throws(TransportError) {
        guard active.removeValue(forKey: transfer.easy) != nil else { return }
        try check(curl_multi_remove_handle(multi, transfer.easy), "curl_multi_remove_handle")
    }
}
