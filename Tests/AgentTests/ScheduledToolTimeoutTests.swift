import Foundation
import Synchronization
import Testing
import TestSupport
@testable import Agent
import JSON
import LLM
import Scheduler
import Tools

#if canImport(Glibc)
import Glibc
#endif

/// A tool's `timeout` is the scheduler's: it counts running time only, and it stops the tool's
/// process group (or its request), long before the tool would have ended by itself.
@Suite(.timeLimit(.minutes(1))) struct ScheduledToolTimeoutTests {
    @Test func timeoutKillsTheToolAndItsGrandchildren() async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        // tree.sh waits 300 s for a backgrounded `sleep` grandchild.
        let tools = ScheduledTools([ToolFixtures.exec("tree.sh", name: "tree", timeout: 5, env: ["PIDFILE": tmp.file("pids")])])
        let call = tools.start("tree")
        let pids = try #require(await Proc.readPIDs(tmp.file("pids"), count: 2), "tree.sh never wrote its pids")
        defer { Proc.killLeftovers(pids) }
        let text = await value { await call.value }
        #expect(text?.contains("timed out after 5 s") == true, "no timeout result within \(Proc.patience): \(String(describing: text))")
        #expect(await Proc.eventually { pids.allSatisfy(Proc.isDead) }, "still running: \(pids.filter { !Proc.isDead($0) })")
    }

    @Test func timeoutStopsASilentRequest() async throws {
        let server = try SilentServer()
        defer { server.close() }
        let tool = ToolDeclaration(
            name: "web", description: "d", runner: .http(HTTPRequestTemplate(url: "http://127.0.0.1:\(server.port)/never")), timeout: 10)
        let tools = ScheduledTools([tool])
        let text = await value { await tools.run("web") }
        #expect(text?.contains("timed out after 10 s") == true, "no timeout result within \(Proc.patience): \(String(describing: text))")
        // The request reached the server, and was stopped, not abandoned: the client closed its connection.
        let connection = await server.firstConnection()
        #expect(connection == .closedByClient, "the request's connection: \(connection)")
    }

    /// One worker: a high-priority tool pauses a low-priority one for longer than the low one's
    /// timeout. The low one outlives its timeout in wall time, yet completes: paused time does not count.
    @Test(arguments: [Strategy.mlfq, .preemptive])
    func pausedTimeDoesNotCountTowardsTheTimeout(strategy: Strategy) async throws {
        let tmp = TempFolder()
        defer { tmp.remove() }
        // Its running time (start-up, and the test's reactions before the pause) stays far below this
        // even on a loaded machine; the pause lasts longer.
        let timeout = 12.0
        // Both loop until their RELEASE file exists; the low one is a shell that starts in a moment
        // (its start counts as running time). No demotion or boost during the test.
        let tools = ScheduledTools(
            [
                ToolFixtures.exec("spin_until.sh", name: "low", priority: 2, timeout: timeout,
                                  env: ["PIDFILE": tmp.file("low.pid"), "RELEASE": tmp.file("low.release")]),
                ToolFixtures.exec("counter.py", name: "high", priority: 0,
                                  env: ["PIDFILE": tmp.file("high.pid"), "RELEASE": tmp.file("high.release")]),
            ],
            configuration: SchedulerConfiguration(strategy: strategy, workers: 1, baseQuantum: .seconds(20), boostPeriod: .seconds(3600)))
        let low = tools.start("low", turn: 1)
        let lowPID = try #require(await Proc.readPID(tmp.file("low.pid")))
        let lowStarted = ContinuousClock.now
        let high = tools.start("high", turn: 2)
        let highPID = try #require(await Proc.readPID(tmp.file("high.pid")))
        defer { Proc.killLeftovers([lowPID, highPID]) }
        #expect(await Proc.eventually { Proc.isStopped(lowPID) }, "the low tool was not paused: \(String(describing: Proc.state(lowPID)))")

        // Paused for longer than its whole timeout.
        try await Task.sleep(for: .seconds(timeout + 1.5))
        #expect(Proc.isStopped(lowPID), "the low tool is no longer paused: \(String(describing: Proc.state(lowPID)))")

        // Released while paused, so it ends as soon as it runs again.
        tmp.touch("low.release")
        tmp.touch("high.release")
        let highText = await value { await high.value }
        #expect(highText?.hasSuffix("released\n") == true, "\(String(describing: highText))")
        let lowText = await value { await low.value }
        #expect(lowText?.hasSuffix("released\n") == true, "\(String(describing: lowText))")
        #expect(ContinuousClock.now - lowStarted > .seconds(timeout), "the low tool outlived its timeout in wall time")
    }
}

/// A loopback TCP port that accepts connections and never answers. A thread of its own takes the
/// first connection and reads it until the client closes it.
final class SilentServer: @unchecked Sendable {
    enum Connection: Equatable, Sendable {
        /// No client connected within `Proc.patience`.
        case none
        /// Connected, and still open after `Proc.patience`.
        case open
        case closedByClient
    }

    let port: Int
    private let socket: Int32
    private let first = Mutex<(Connection?, [CheckedContinuation<Connection, Never>])>((nil, []))

    init() throws {
        let socket = Glibc.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                bind(socket, address, length) == 0 && listen(socket, 16) == 0 && getsockname(socket, address, &length) == 0
            }
        }
        guard socket >= 0, bound else {
            Glibc.close(socket)
            throw SilentServerError()
        }
        self.socket = socket
        port = Int(UInt16(bigEndian: address.sin_port))
        Thread.detachNewThread { [self] in settle(watchFirstConnection()) }
    }

    struct SilentServerError: Error {}

    /// What became of the first connection (waits until that is known).
    func firstConnection() async -> Connection {
        await withCheckedContinuation { continuation in
            let known: Connection? = first.withLock { state in
                if state.0 == nil { state.1.append(continuation) }
                return state.0
            }
            if let known { continuation.resume(returning: known) }
        }
    }

    private func settle(_ connection: Connection) {
        let waiters = first.withLock { state in
            state.0 = connection
            defer { state.1 = [] }
            return state.1
        }
        for waiter in waiters { waiter.resume(returning: connection) }
    }

    private func watchFirstConnection() -> Connection {
        var limit = timeval(tv_sec: Int(Proc.patience.components.seconds), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        let connection = accept(socket, nil, nil)
        guard connection >= 0 else { return .none }
        defer { Glibc.close(connection) }
        setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        var buffer = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(connection, &buffer, buffer.count)
            if n > 0 { continue }  // the request
            if n == 0 { return .closedByClient }
            if errno == EINTR { continue }
            return errno == ECONNRESET ? .closedByClient : .open
        }
    }

    func close() { shutdown(socket, Int32(SHUT_RDWR)); Glibc.close(socket) }
}
