import Foundation
import HTTP
import JSON
import Scheduler
import Server
import Testing

/// The HTTP API through real HTTP on 127.0.0.1: the original service's calls verbatim, every endpoint
/// and every error.
@Suite("ServerTests")
struct ServerTests {
    /// The three calls the original service's users documented, byte for byte.
    @Test func originalCallsVerbatim() async throws {
        let server = try await ServerHarness.start()
        let answer = try await server.request("POST", "/tasks", body: """
            {"name": "天气查询", "payload": {"function_name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
                          "content": "请查询北京的天气", "model": "gpt-3.5-turbo"},
                          "priority": 0, "task_type": "function_call", "estimated_time": 1.5}
            """)
        #expect(answer.status == 200)
        let id = try #require(answer.json?["task_id"]?.stringValue)
        #expect(answer.json?["status"] == "queued")
        #expect(answer.json?["message"]?.stringValue?.isEmpty == false)
        let task = try await server.ended(id)
        #expect(task["status"] == "completed")
        #expect(task["name"] == "天气查询")
        #expect(task["task_type"] == "function_call")
        #expect(task["priority"] == 0)
        #expect(task["estimated_time"] == 1.5)
        for key in ["id", "created_at", "started_at", "completed_at", "wait_time", "execution_time", "result", "error"] {
            #expect(task[key] != nil, "task object lacks \(key)")
        }
        // The model saw the function offered and the content as the user's message.
        let result = try JSONValue.parse(try #require(task["result"]?.stringValue))
        #expect(result["function_call"]?["name"] == "get_weather" || result["content"] != nil)

        let list = try await server.request("GET", "/tasks?limit=5")
        #expect(list.status == 200)
        let tasks = try #require(list.json?.arrayValue)
        #expect(tasks.first?["id"]?.stringValue == id)

        let strategy = try await server.request("PUT", "/scheduler/strategy", body: #"{"strategy": "round_robin", "time_slice": 1.0}"#)
        #expect(strategy.status == 200)
        let stats = try #require(try await server.request("GET", "/stats").json)
        #expect(stats["strategy"] == "round_robin")
        #expect(stats["quantum_ms"]?.numberValue == 1000)
        try await server.stop()
    }

    @Test func toolTaskRunsAndItsResultIsReadable() async throws {
        let server = try await ServerHarness.start()
        let id = try await server.submit(#"{"name": "clock", "task_type": "tool", "payload": {"tool": "now", "arguments": {"timezone": "UTC"}}, "priority": 2}"#)
        let task = try await server.ended(id)
        #expect(task["status"] == "completed")
        #expect(task["tool"] == "now")
        #expect(task["priority"] == 2)
        #expect(task["result"]?.stringValue?.contains("UTC") == true)
        // Without task_type, a payload naming a tool is a tool task.
        let second = try await server.submit(#"{"name": "clock again", "payload": {"tool": "now"}}"#)
        #expect(try await server.ended(second)["task_type"] == "tool")
        let stats = try #require(try await server.request("GET", "/stats").json)
        #expect(stats["total"] == 2)
        #expect(stats["completed"] == 2)
        #expect(stats["tools"]?["now"]?["count"] == 2)
        for key in ["failed", "avg_wait_time", "avg_execution_time", "queued_tasks", "running_tasks", "strategy", "workers", "levels", "p95_wait_ms"] {
            #expect(stats[key] != nil, "stats lack \(key)")
        }
        try await server.stop()
    }

    /// Each bad request gets a problem body naming the field, and nothing already queued is lost.
    @Test(arguments: [
        ("POST", "/tasks", #"{"name": "x", "payload": {"tool": "now"}"#, 400, ""),
        ("POST", "/tasks", #"[1, 2]"#, 422, ""),
        ("POST", "/tasks", String(repeating: "[", count: 200_000), 400, ""),
        ("POST", "/tasks", #"{"name": "\#(String(repeating: "名", count: 201))", "payload": {"tool": "now"}}"#, 422, "/name"),
        ("POST", "/tasks", #"{"payload": {"tool": "now"}}"#, 422, "/name"),
        ("POST", "/tasks", #"{"name": "x", "priority": 10, "payload": {"tool": "now"}}"#, 422, "/priority"),
        ("POST", "/tasks", #"{"name": "x", "priority": -1, "payload": {"tool": "now"}}"#, 422, "/priority"),
        ("POST", "/tasks", #"{"name": "x", "priority": 1.5, "payload": {"tool": "now"}}"#, 422, "/priority"),
        ("POST", "/tasks", #"{"name": "x", "priority": 1e300, "payload": {"tool": "now"}}"#, 422, "/priority"),
        ("POST", "/tasks", #"{"name": "x", "estimated_time": -2, "payload": {"tool": "now"}}"#, 422, "/estimated_time"),
        ("POST", "/tasks", #"{"name": "x", "task_type": "function_call", "payload": {"content": "hi"}}"#, 422, "/payload/function_name"),
        ("POST", "/tasks", #"{"name": "x", "task_type": "function_call", "payload": {"function_name": ""}}"#, 422, "/payload/function_name"),
        ("POST", "/tasks", #"{"name": "x", "task_type": "function_call", "payload": {"function_name": "a b"}}"#, 422, "/payload/function_name"),
        ("POST", "/tasks", #"{"name": "x", "task_type": "bogus", "payload": {}}"#, 422, "/task_type"),
        ("POST", "/tasks", #"{"name": "x", "payload": {"tool": "rm_everything"}}"#, 422, "/payload/tool"),
        ("POST", "/tasks", #"{"name": "x", "payload": {"tool": "careful"}}"#, 422, "/payload/tool"),
        ("POST", "/tasks", #"{"name": "x", "payload": {"tool": "sleep", "arguments": {"seconds": "long"}}}"#, 422, "/payload/arguments"),
        ("POST", "/tasks", #"{"name": "x", "payload": {"tool": "sleep", "arguments": [1]}}"#, 422, "/payload/arguments"),
        ("PUT", "/scheduler/strategy", #"{"strategy": "lottery"}"#, 422, "/strategy"),
        ("PUT", "/scheduler/strategy", #"{"time_slice": 1}"#, 422, "/strategy"),
        ("PUT", "/scheduler/strategy", #"{"strategy": "round_robin", "time_slice": -1.0}"#, 422, "/time_slice"),
        ("PUT", "/scheduler/strategy", #"{"strategy": "round_robin", "time_slice": 0}"#, 422, "/time_slice"),
        ("PUT", "/scheduler/workers", #"{"workers": 0}"#, 422, "/workers"),
        ("PUT", "/scheduler/workers", #"{"workers": 100000}"#, 422, "/workers"),
        ("GET", "/tasks?limit=-1", nil, 422, "limit"),
        ("GET", "/tasks?limit=1001", nil, 422, "limit"),
        ("GET", "/tasks?limit=ten", nil, 422, "limit"),
        ("GET", "/tasks?state=sleeping", nil, 422, "state"),
        ("GET", "/tasks/999999", nil, 404, "id"),
        ("GET", "/tasks/abc", nil, 404, "id"),
        ("DELETE", "/tasks/999999", nil, 404, "id"),
        ("POST", "/chat", #"{"message": ""}"#, 422, "/message"),
        ("POST", "/chat", #"{"message": "hi", "session": "never-given"}"#, 404, "/session"),
    ] as [(String, String, String?, Int, String)])
    func badRequestsGetProblems(method: String, path: String, body: String?, status: Int, field: String) async throws {
        let server = try await ServerHarness.start(scheduler: SchedulerConfiguration(workers: 1))
        let queued = try await server.submit(#"{"name": "keep me", "payload": {"tool": "sleep", "arguments": {"seconds": 0.2}}}"#)
        let answer = try await server.request(method, path, body: body)
        #expect(answer.status == status, "\(answer.text)")
        #expect(answer.headers["content-type"] == "application/problem+json")
        let problem = try #require(answer.json)
        #expect(problem["status"] == .int(Int64(status)))
        #expect(problem["field"]?.stringValue == field)
        #expect(problem["detail"]?.stringValue?.isEmpty == false)
        #expect(try await server.ended(queued)["status"] == "completed")
        try await server.stop()
    }

    @Test func strategyAliasesOfTheOriginal() async throws {
        let server = try await ServerHarness.start()
        for (alias, ours) in [("priority_based", "priority"), ("shortest_job_first", "sjf"), ("preemptive", "preemptive"), ("round_robin", "round_robin"), ("mlfq", "mlfq")] {
            let answer = try await server.request("PUT", "/scheduler/strategy", body: #"{"strategy": "\#(alias)"}"#)
            #expect(answer.json?["strategy"]?.stringValue == ours)
            #expect(try await server.request("GET", "/stats").json?["strategy"]?.stringValue == ours)
        }
        try await server.stop()
    }

    @Test func bodyOverOneMebibyteIsRefused() async throws {
        let server = try await ServerHarness.start()
        let big = #"{"name": "x", "payload": {"tool": "now", "pad": ""# + String(repeating: "a", count: 1 << 20) + #""}}"#
        let answer = try await server.request("POST", "/tasks", body: big)
        #expect(answer.status == 413)
        #expect(answer.headers["content-type"] == "application/problem+json")
        #expect(try await server.request("GET", "/stats").json?["total"] == 0)
        try await server.stop()
    }

    @Test func fullQueueAnswers429WithRetryAfter() async throws {
        let server = try await ServerHarness.start(scheduler: SchedulerConfiguration(workers: 1), maxLiveTasks: 2)
        let sleep = #"{"name": "nap", "payload": {"tool": "sleep", "arguments": {"seconds": 0.3}}}"#
        let first = try await server.submit(sleep)
        _ = try await server.submit(sleep)
        let refused = try await server.request("POST", "/tasks", body: sleep)
        #expect(refused.status == 429)
        #expect(refused.headers["retry-after"] == "1")
        #expect(refused.json?["status"] == 429)
        #expect(try await server.ended(first)["status"] == "completed")
        try await server.stop()
    }

    @Test func deleteCancelsAQueuedOrRunningTask() async throws {
        let server = try await ServerHarness.start(scheduler: SchedulerConfiguration(workers: 1))
        let running = try await server.submit(#"{"name": "long", "payload": {"tool": "sleep", "arguments": {"seconds": 30}}}"#)
        let waiting = try await server.submit(#"{"name": "later", "payload": {"tool": "now"}}"#)
        let cancelled = try await server.request("DELETE", "/tasks/\(running)")
        #expect(cancelled.status == 200)
        #expect(cancelled.json?["status"] == "cancelled")
        #expect(try await server.ended(waiting)["status"] == "completed")
        // Cancelling an ended task changes nothing.
        #expect(try await server.request("DELETE", "/tasks/\(waiting)").json?["status"] == "completed")
        try await server.stop()
    }

    @Test func workersChangeWhileRunning() async throws {
        let server = try await ServerHarness.start()
        let answer = try await server.request("PUT", "/scheduler/workers", body: #"{"workers": 3}"#)
        #expect(answer.status == 200)
        #expect(answer.json?["workers"] == 3)
        #expect(try await server.request("GET", "/stats").json?["workers"] == 3)
        try await server.stop()
    }

    @Test func listFiltersByStateAndTool() async throws {
        let server = try await ServerHarness.start()
        let a = try await server.submit(#"{"name": "a", "payload": {"tool": "now"}}"#)
        let b = try await server.submit(#"{"name": "b", "payload": {"tool": "sleep", "arguments": {"seconds": 0.01}}}"#)
        _ = try await server.ended(a)
        _ = try await server.ended(b)
        let sleeps = try #require(try await server.request("GET", "/tasks?tool=sleep").json?.arrayValue)
        #expect(sleeps.map { $0["id"]?.stringValue } == [b])
        let completed = try #require(try await server.request("GET", "/tasks?state=completed&limit=1").json?.arrayValue)
        #expect(completed.map { $0["id"]?.stringValue } == [b])
        #expect(try await server.request("GET", "/tasks?limit=0").json == .array([]))
        // Default limit 10, newest first.
        for _ in 0..<11 { _ = try await server.submit(#"{"name": "n", "payload": {"tool": "now"}}"#) }
        let all = try #require(try await server.request("GET", "/tasks").json?.arrayValue)
        #expect(all.count == 10)
        let ids = all.compactMap { $0["id"]?.stringValue.flatMap { UInt64($0) } }
        #expect(ids == ids.sorted(by: >))
        try await server.stop()
    }

    @Test func unknownPathsAndMethodsAreProblems() async throws {
        let server = try await ServerHarness.start()
        let missing = try await server.request("GET", "/nowhere")
        #expect(missing.status == 404)
        #expect(missing.headers["content-type"] == "application/problem+json")
        let wrong = try await server.request("DELETE", "/stats")
        #expect(wrong.status == 405)
        #expect(wrong.headers["allow"] == "GET")
        #expect(try await server.request("GET", "/healthz").json?["status"] == "ok")
        // No CORS headers: other origins' pages cannot read the answers.
        let cors = try await server.request("GET", "/stats", headers: [("Origin", "http://evil.example")])
        #expect(cors.headers["access-control-allow-origin"] == nil)
        try await server.stop()
    }

    @Test func tokenIsRequiredOnceSet() async throws {
        var options = ServerOptions()
        options.token = "a-token-of-enough-length"
        let server = try await ServerHarness.start(options: options)
        let none = try await server.request("GET", "/stats", authorized: false)
        #expect(none.status == 401)
        #expect(none.headers["www-authenticate"] == "Bearer")
        let wrong = try await server.request("GET", "/stats", headers: [("Authorization", "Bearer a-token-of-enough-lengtx")], authorized: false)
        #expect(wrong.status == 401)
        let post = try await server.request("POST", "/tasks", body: #"{"name": "x", "payload": {"tool": "now"}}"#, authorized: false)
        #expect(post.status == 401)
        #expect(try await server.request("GET", "/stats").status == 200)
        // The pages and the document hold no data: open, so the dashboard can ask for the token.
        #expect(try await server.request("GET", "/", authorized: false).status == 200)
        #expect(try await server.request("GET", "/openapi.json", authorized: false).status == 200)
        #expect(try await server.request("GET", "/healthz", authorized: false).status == 200)
        try await server.stop()
    }

    @Test func nonLoopbackWithoutTokenRefusesToStart() async throws {
        var options = ServerOptions()
        options.host = "0.0.0.0"
        #expect(options.refusal != nil)
        await #expect(throws: ServerError.self) { _ = try await ServerHarness.start(options: options) }
        options.token = "short"
        #expect(options.refusal != nil)
        options.token = "a-token-of-enough-length"
        #expect(options.refusal == nil)
        var loopback = ServerOptions()
        loopback.host = "127.0.0.1"
        #expect(loopback.refusal == nil)
    }

    /// A graceful shutdown lets a running task finish and refuses new ones meanwhile.
    @Test func shutdownDrainsRunningTasks() async throws {
        let server = try await ServerHarness.start()
        let id = try await server.submit(#"{"name": "finish me", "payload": {"tool": "sleep", "arguments": {"seconds": 0.5}}}"#)
        try await Task.sleep(for: .milliseconds(100))
        try await server.stop()
        let task = try #require(server.server.service.task(TaskID(rawValue: UInt64(id)!)))
        #expect(task["status"] == "completed")
        #expect(throws: Problem.self) {
            _ = try server.server.service.submit(TaskRequest.parse(Array(#"{"name": "late", "payload": {"tool": "now"}}"#.utf8), catalog: ServerHarness.catalog))
        }
    }

    @Test func shutdownCancelsWhatOutlastsTheGrace() async throws {
        var options = ServerOptions()
        options.drainGrace = .milliseconds(100)
        let server = try await ServerHarness.start(options: options)
        let id = try await server.submit(#"{"name": "too long", "payload": {"tool": "sleep", "arguments": {"seconds": 30}}}"#)
        try await server.stop()
        #expect(server.server.service.task(TaskID(rawValue: UInt64(id)!))?["status"] == "cancelled")
    }
}
