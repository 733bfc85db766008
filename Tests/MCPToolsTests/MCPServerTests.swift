import Agent
import Foundation
import JSON
import LLM
import Scheduler
import Synchronization
import Testing
import TestSupport
import Tools
@testable import MCPTools

/// Against a real MCP server: the Python SDK's FastMCP (`Fixtures/test_server.py`, installed by
/// scripts/install-mcp), over stdio and over Streamable HTTP on 127.0.0.1.
@Suite(.serialized) struct MCPServerTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    static func python() throws -> String {
        try #require(Installed.value("PYTHON", of: "mcp"), "run scripts/install-mcp")
    }

    /// A temporary log file the fixture appends its calls to.
    static func logFile() -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("mcp-test-\(UUID().uuidString).log")
    }

    static func log(_ file: URL) -> [String] {
        ((try? String(contentsOf: file, encoding: .utf8)) ?? "").split(separator: "\n").map(String.init)
    }

    static func stdioServer(name: String = "fx", log: URL, maxConcurrency: Int = 4, timeout: Double? = nil) throws -> MCPServerDeclaration {
        MCPServerDeclaration(
            name: name, transport: .stdio(argv: [try python(), fixtures.appendingPathComponent("test_server.py").path, "stdio"], env: ["LOG": log.path], cwd: nil),
            timeout: timeout, maxConcurrency: maxConcurrency)
    }

    static func pool(_ declaration: MCPServerDeclaration) async -> MCPServerPool {
        let environment = ProcessInfo.processInfo.environment.merging(["OPENAI_API_KEY": "sk-secret"]) { $1 }
        let pool = MCPServerPool([declaration], environment: environment, backoff: { _ in .milliseconds(200) })
        pool.start()
        await pool.waitUntilSettled()
        return pool
    }

    /// Runs `body` with a started pool of `declaration`, and stops the pool (its process groups) after it,
    /// also when it throws.
    static func with(_ declaration: MCPServerDeclaration, _ body: (MCPServerPool) async throws -> Void) async throws {
        try await with(await pool(declaration), body)
    }

    static func waitFor(_ condition: () -> Bool) async -> Bool {
        for _ in 0..<300 {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(100))
        }
        return condition()
    }

    static func tool(_ pool: MCPServerPool, _ name: String) throws -> ToolDeclaration {
        try #require(pool.tools.first { $0.name == name }, "no tool \(name) in \(pool.tools.map(\.name))")
    }

    static func runner(_ pool: MCPServerPool) -> ToolRunner {
        var runner = ToolRunner()
        runner.mcp = pool
        return runner
    }

    @Test func stdioServerListsCallsFailsAndReportsProgress() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log)) { pool in
            let status = pool.servers[0].status
            #expect(status.state == .ready)
            #expect(status.serverName == "fixture")
            #expect(Set(pool.tools.map(\.name)).isSuperset(of: ["fx_echo", "fx_fail", "fx_slow", "fx_hold", "fx_crash"]))
            let runner = Self.runner(pool)

            let echo = await runner.run(try Self.tool(pool, "fx_echo"), arguments: #"{"text": "hi"}"#)
            #expect(echo.ok && echo.output == "echo: hi")
            let fail = await runner.run(try Self.tool(pool, "fx_fail"), arguments: #"{"reason": "x"}"#)
            #expect(!fail.ok && fail.modelContent.contains("failed on purpose: x"))
            let invalid = await runner.run(try Self.tool(pool, "fx_echo"), arguments: #"{"text": 3}"#)
            #expect(invalid.outcome == .invalidArguments)  // the server's schema, checked before the call

            let reports = Mutex(0)
            let invocation = try ToolRunner.invocation(of: try Self.tool(pool, "fx_slow"), arguments: #"{"steps": 3, "delay": 0.05}"#).get()
            let slow = await runner.start(invocation, progress: { reports.withLock { $0 += 1 } }).result()
            #expect(slow.output == "slow done after 3 steps")
            #expect(reports.withLock { $0 } == 3)
            // The call with bad arguments never reached the server.
            #expect(pool.servers[0].status.calls == 3 && pool.servers[0].status.errors == 1)
        }
    }

    @Test func theServerDoesNotSeeTheAPIKey() async throws {
        let log = Self.logFile()
        var declaration = try Self.stdioServer(log: log)
        declaration.transport = .stdio(argv: ["/bin/sh", "-c", "env > \(log.path); exec \"$0\" \"$@\"", try Self.python(),
                                              Self.fixtures.appendingPathComponent("test_server.py").path, "stdio"], env: [:], cwd: nil)
        let pool = await Self.pool(declaration)
        await pool.stop()
        let env = Self.log(log)
        #expect(env.contains { $0.hasPrefix("PATH=") })
        #expect(!env.contains { $0.contains("sk-secret") })
    }

    @Test func cancellingACallSendsNotificationsCancelledThatTheServerObserves() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log)) { pool in
            let execution = try Self.runner(pool).start(ToolRunner.invocation(of: try Self.tool(pool, "fx_hold"), arguments: #"{"label": "c1", "seconds": 30}"#).get())
            #expect(await Self.waitFor { Self.log(log).contains("start c1") })
            execution.terminate()
            let result = await execution.result()
            #expect(result.outcome == .cancelled)
            #expect(await Self.waitFor { Self.log(log).contains("cancelled c1") }, "log: \(Self.log(log))")
            #expect(!Self.log(log).contains("end c1"))
        }
    }

    @Test func aServerThatCrashesMidCallFailsTheCallAndIsRestarted() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log)) { pool in
            let runner = Self.runner(pool)
            let crash = await runner.run(try Self.tool(pool, "fx_crash"), arguments: "{}")
            #expect(!crash.ok)
            #expect(crash.modelContent.contains("crashed during the call") && crash.modelContent.contains("status 3"), "\(crash.modelContent)")
            #expect(await Self.waitFor { pool.servers[0].status.state == .ready && pool.servers[0].status.restarts == 1 })
            let echo = await runner.run(try Self.tool(pool, "fx_echo"), arguments: #"{"text": "again"}"#)
            #expect(echo.output == "echo: again")
        }
    }

    @Test func aLineOverTheLimitStopsTheServerFailsTheCallAndItIsRestarted() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log)) { pool in
            let runner = Self.runner(pool)
            let flood = await runner.run(try Self.tool(pool, "fx_flood"), arguments: #"{"megabytes": 9}"#)
            #expect(!flood.ok)
            #expect(flood.modelContent.contains("longer than \(MCPLimits.maxMessageBytes) bytes"), "\(flood.modelContent)")
            #expect(await Self.waitFor { pool.servers[0].status.state == .ready && pool.servers[0].status.restarts == 1 })
            #expect(await runner.run(try Self.tool(pool, "fx_echo"), arguments: #"{"text": "after"}"#).output == "echo: after")
        }
    }

    @Test func aServerThatStopsReadingIsStoppedAndItsCallsFail() async throws {
        let declaration = MCPServerDeclaration(
            name: "deaf", transport: .stdio(argv: [try Self.python(), Self.fixtures.appendingPathComponent("deaf_server.py").path], env: [:], cwd: nil))
        try await Self.with(declaration) { pool in
            let runner = Self.runner(pool)
            let tool = try Self.tool(pool, "deaf_stop_reading")
            let first = try runner.start(ToolRunner.invocation(of: tool, arguments: "{}").get())
            // A message larger than the pipe's buffer: the write waits for room that never comes.
            let big = JSONValue.object(["text": .string(String(repeating: "x", count: 1 << 20))]).jsonString
            let second = await runner.run(tool, arguments: big)
            #expect(!second.ok && second.modelContent.contains("did not read its input"), "\(second.modelContent)")
            let firstResult = await first.result()
            #expect(!firstResult.ok && firstResult.modelContent.contains("crashed during the call"), "\(firstResult.modelContent)")
            #expect(await Self.waitFor { pool.servers[0].status.restarts >= 1 })
        }
    }

    @Test func lineFramerCutsLinesAtEverySplitAndRefusesLongOnes() {
        let text = Array("{\"a\":1}\n\n{\"b\":2}\n{\"c\"".utf8)
        for split in 0...text.count {
            var framer = LineFramer(limit: 16)
            let first = (try? framer.feed(Array(text[..<split])).get()) ?? []
            let second = (try? framer.feed(Array(text[split...])).get()) ?? []
            #expect((first + second).map { String(decoding: $0, as: UTF8.self) } == [#"{"a":1}"#, #"{"b":2}"#], "split at \(split)")
        }
        var framer = LineFramer(limit: 4)
        if case .success = framer.feed(Array("12345".utf8)) { Issue.record("a line over the limit without its newline passed") }
        var framer2 = LineFramer(limit: 4)
        if case .success = framer2.feed(Array("123456\n".utf8)) { Issue.record("a line over the limit passed") }
    }

    @Test func toolsListChangedRefreshesTheTools() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log)) { pool in
            #expect(!pool.tools.contains { $0.name == "fx_extra" })
            _ = await Self.runner(pool).run(try Self.tool(pool, "fx_grow"), arguments: "{}")
            #expect(await Self.waitFor { pool.tools.contains { $0.name == "fx_extra" } })
        }
    }

    /// Starts the fixture over Streamable HTTP on 127.0.0.1:`port` (killed with SIGKILL by the caller:
    /// uvicorn's SIGTERM waits for open streams).
    static func httpServer(port: Int, log: URL? = nil) throws -> Process {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try python())
        process.arguments = [fixtures.appendingPathComponent("test_server.py").path, "http", String(port)]
        if let log { process.environment = ProcessInfo.processInfo.environment.merging(["LOG": log.path]) { $1 } }
        process.standardError = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        return process
    }

    /// A pool of the HTTP server at `url`, once it listens (a start that finds no server fails at once).
    static func httpPool(_ url: String) async throws -> MCPServerPool {
        for _ in 0..<120 {
            let candidate = await pool(MCPServerDeclaration(name: "web", transport: .http(url: url, headers: [:])))
            if candidate.servers[0].status.state == .ready { return candidate }
            await candidate.stop()
            try await Task.sleep(for: .milliseconds(250))
        }
        throw MCPTransportError("the HTTP fixture did not start at \(url)")
    }

    /// Runs `body` with a pool of a fixture HTTP server started for it, and stops both after it.
    static func withHTTPServer(_ body: (MCPServerPool) async throws -> Void) async throws {
        let port = try LoopbackPort.unused()
        let process = try httpServer(port: port)
        defer { kill(process.processIdentifier, SIGKILL) }
        try await with(httpPool("http://127.0.0.1:\(port)/mcp"), body)
    }

    /// Runs `body` with `pool`, and stops it after it, also when it throws.
    static func with(_ pool: MCPServerPool, _ body: (MCPServerPool) async throws -> Void) async throws {
        do {
            try await body(pool)
        } catch {
            await pool.stop()
            throw error
        }
        await pool.stop()
    }

    @Test func streamableHTTPServerListsCallsFailsAndStreamsProgress() async throws {
        try await Self.withHTTPServer { ready in
            let runner = Self.runner(ready)
            let echo = await runner.run(try Self.tool(ready, "web_echo"), arguments: #"{"text": "over http"}"#)
            #expect(echo.output == "echo: over http")
            let fail = await runner.run(try Self.tool(ready, "web_fail"), arguments: #"{"reason": "y"}"#)
            #expect(!fail.ok)
            let reports = Mutex(0)
            let invocation = try ToolRunner.invocation(of: try Self.tool(ready, "web_slow"), arguments: #"{"steps": 4, "delay": 0.05}"#).get()
            let slow = await runner.start(invocation, progress: { reports.withLock { $0 += 1 } }).result()
            #expect(slow.output == "slow done after 4 steps")
            #expect(reports.withLock { $0 } == 4)
        }
    }

    @Test func toolsListChangedOverHTTPRefreshesTheTools() async throws {
        try await Self.withHTTPServer { pool in
            #expect(!pool.tools.contains { $0.name == "web_extra" })
            // The server sends list_changed unasked: it arrives on the GET stream, not in the call's answer.
            let grow = await Self.runner(pool).run(try Self.tool(pool, "web_grow"), arguments: "{}")
            #expect(grow.output == "grown")
            #expect(await Self.waitFor { pool.tools.contains { $0.name == "web_extra" } }, "tools: \(pool.tools.map(\.name))")
            let extra = await Self.runner(pool).run(try Self.tool(pool, "web_extra"), arguments: "{}")
            #expect(extra.output == "extra here")
        }
    }

    @Test func anEventOverTheLimitOnTheGETStreamEndsTheConnectionAndItIsReconnected() async throws {
        try await Self.withHTTPServer { pool in
            let runner = Self.runner(pool)
            // Its answer may arrive before the connection is dropped, or fail with it: either is right.
            _ = await runner.run(try Self.tool(pool, "web_shout"), arguments: #"{"megabytes": 9}"#)
            #expect(await Self.waitFor { pool.servers[0].status.restarts >= 1 && pool.servers[0].status.state == .ready }, "\(pool.formattedStatus())")
            #expect(await runner.run(try Self.tool(pool, "web_echo"), arguments: #"{"text": "still"}"#).output == "echo: still")
        }
    }

    @Test func anHTTPServerKilledMidCallFailsTheCallAndIsReconnectedWhenItIsBack() async throws {
        let port = try LoopbackPort.unused()
        let log = Self.logFile()
        let first = try Self.httpServer(port: port, log: log)
        var killed = false
        defer { if !killed { kill(first.processIdentifier, SIGKILL) } }
        let url = "http://127.0.0.1:\(port)/mcp"
        let pool = try await Self.httpPool(url)
        let runner = Self.runner(pool)
        let held = try runner.start(ToolRunner.invocation(of: try Self.tool(pool, "web_hold"), arguments: #"{"label": "k1", "seconds": 60}"#).get())
        #expect(await Self.waitFor { Self.log(log).contains("start k1") })
        kill(first.processIdentifier, SIGKILL)
        killed = true
        let result = await held.result()
        #expect(!result.ok)
        #expect(result.modelContent.contains("MCP server 'web' crashed during the call") && result.modelContent.contains(url), "\(result.modelContent)")
        // Nobody listens now: it keeps trying with its backoff, and /mcp says so.
        #expect(await Self.waitFor { pool.servers[0].status.restarts >= 2 })
        #expect(pool.formattedStatus().contains("restarting"), "\(pool.formattedStatus())")
        #expect(pool.tools.isEmpty)

        let second = try Self.httpServer(port: port, log: log)
        defer { kill(second.processIdentifier, SIGKILL) }
        #expect(await Self.waitFor { pool.servers[0].status.state == .ready && !pool.tools.isEmpty }, "\(pool.formattedStatus())")
        let echo = await runner.run(try Self.tool(pool, "web_echo"), arguments: #"{"text": "back"}"#)
        #expect(echo.output == "echo: back")
        await pool.stop()
    }

    // MARK: On the scheduler

    @Test func maxConcurrencyOneRunsTheServersCallsOneAfterTheOtherWhileAnExecToolOverlaps() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log, maxConcurrency: 1)) { pool in
            // The exec tool logs into the same file, so the order of all three is one file's order.
            let script = FileManager.default.temporaryDirectory.appendingPathComponent("mcp-exec-\(UUID().uuidString).sh")
            try "#!/bin/sh\necho 'start exec' >> \(log.path)\nsleep 1.5\necho 'end exec' >> \(log.path)\necho ok\n".write(to: script, atomically: true, encoding: .utf8)
            chmod(script.path, 0o755)
            let exec = ToolDeclaration(name: "wait", description: "waits", runner: .exec([script.path]))
            let catalog = pool.catalog(adding: ToolCatalog(tools: [exec]))
            let scheduler = ToolScheduler(configuration: SchedulerConfiguration(workers: 4))
            let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: catalog, runner: Self.runner(pool))
            let calls = [
                ToolCall(id: "1", name: "fx_hold", arguments: #"{"label": "a", "seconds": 0.6}"#),
                ToolCall(id: "2", name: "fx_hold", arguments: #"{"label": "b", "seconds": 0.6}"#),
                ToolCall(id: "3", name: "wait", arguments: "{}"),
            ]
            let results = await executor.execute(calls, turn: TurnID(conversation: 0, turn: 1)) { _ in }
            #expect(results.map(\.ok) == [true, true, true], "\(results.map(\.modelContent))")
            let lines = Self.log(log)
            let at = { (line: String) in lines.firstIndex(of: line) ?? -1 }
            #expect(at("end a") < at("start b"), "the second call waited for the first: \(lines)")
            #expect(at("start exec") < at("end a") && at("end exec") > at("start b"), "the exec tool overlapped both: \(lines)")
            let records = scheduler.records(limit: 10)
            #expect(records.count == 3)
            #expect(records.filter { $0.name == "fx_hold" }.allSatisfy { $0.preemptibility == .none })
            await scheduler.shutdown()
        }
    }

    @Test func progressKeepsALongCallAliveAndSilenceTimesItOut() async throws {
        let log = Self.logFile()
        try await Self.with(try Self.stdioServer(log: log, timeout: 0.5)) { pool in
            let scheduler = ToolScheduler(configuration: SchedulerConfiguration(workers: 4))
            let executor = ScheduledToolExecutor(scheduler: scheduler, catalog: pool.catalog(adding: ToolCatalog()), runner: Self.runner(pool))
            let results = await executor.execute([
                ToolCall(id: "1", name: "fx_slow", arguments: #"{"steps": 8, "delay": 0.2}"#),  // 1.6 s, progress every 0.2 s
                ToolCall(id: "2", name: "fx_hold", arguments: #"{"label": "silent", "seconds": 30}"#),
            ], turn: TurnID(conversation: 0, turn: 1)) { _ in }
            #expect(results[0].output == "slow done after 8 steps", "\(results[0].modelContent)")
            #expect(results[1].outcome == .timedOut)
            #expect(results[1].modelContent.contains("made no progress for 0.5 s"), "\(results[1].modelContent)")
            #expect(await Self.waitFor { Self.log(log).contains("cancelled silent") }, "the server was told: \(Self.log(log))")
            await scheduler.shutdown()
        }
    }
}
