import Foundation
import HTTP
import JSON
import Testing
import TestSupport

/// `agent-repl serve` as users run it: signals, the OpenAPI document checked by schemathesis, the
/// dashboard in headless Chromium.
@Suite("ServeProcessTests", .serialized)
struct ServeProcessTests {
    @Test func sigtermDrainsAndExitsZero() async throws {
        let serve = try await ServeProcess()
        let answer = try await serve.post("/tasks", #"{"name": "finish me", "payload": {"tool": "sleep", "arguments": {"seconds": 0.5}}}"#)
        let id = try #require(try JSONValue.parse(answer.body)["task_id"]?.stringValue)
        try await Task.sleep(for: .milliseconds(100))
        let status = await serve.terminate()
        #expect(status == 0, "stderr: \(serve.stderr)")
        #expect(!id.isEmpty)
    }

    @Test func nonLoopbackWithoutTokenRefusesToStart() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("serve-refuse-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let (status, _, text) = try ServeProcess.run(["serve", "--demo", "--host", "0.0.0.0", "--port", String(try LoopbackPort.unused())], home: folder)
        #expect(status == 2)
        #expect(text.contains("not a loopback address"))
        #expect(text.contains("AGENT_REPL_TOKEN"))
    }

    /// schemathesis (scripts/install-schemathesis) generates valid and invalid requests from
    /// /openapi.json and checks every answer against it: status, content type, headers, body schema,
    /// no server error, invalid input refused.
    @Test func schemathesisFindsNoFailures() async throws {
        let st = try #require(Installed.value("ST", of: "schemathesis"), "run scripts/install-schemathesis")
        // Only the no-op builtin: generated sleeps of up to an hour would hold every worker, and chat
        // turns would wait behind them past the client's patience.
        let serve = try await ServeProcess(arguments: ["--max-queued", "100000"], tools: ["now"])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: st)
        process.arguments = [
            "run", serve.url + "/openapi.json", "--url", serve.url,
            "--checks", "not_a_server_error,status_code_conformance,content_type_conformance,response_headers_conformance,response_schema_conformance,negative_data_rejection,positive_data_acceptance",
            "--exclude-path", "/events", "--max-examples", "40", "--phases", "examples,coverage,fuzzing",
            "--no-color", "--seed", "1",
        ]
        // Its cache (.schemathesis/) goes to the server's throwaway folder.
        process.currentDirectoryURL = serve.folder
        let output = serve.folder.appendingPathComponent("schemathesis.txt")
        FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = process.standardOutput
        try process.run()
        process.waitUntilExit()
        let report = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        #expect(process.terminationStatus == 0, "\(report.suffix(6000))")
        #expect(await serve.terminate() == 0)
    }

    /// The dashboard in headless Chromium while tasks wait and run: its numbers are the queue's.
    @Test func dashboardShowsTheQueueInChromium() async throws {
        let chromium = try #require(["/usr/bin/chromium", "/usr/bin/chromium-browser"].first { FileManager.default.isExecutableFile(atPath: $0) }, "install chromium (scripts/install-deps chromium)")
        let serve = try await ServeProcess(arguments: ["--workers", "2"])
        // Two quick naps end first: the per-tool table counts them among the last 5 minutes' calls.
        for index in 0..<2 {
            _ = try await serve.post("/tasks", #"{"name": "quick \#(index)", "payload": {"tool": "sleep", "arguments": {"seconds": 0}}}"#)
        }
        let deadline = ContinuousClock.now + .seconds(20)
        while (try? JSONValue.parse(await serve.get("/stats").body))?["completed"] != 2, ContinuousClock.now < deadline {
            try await Task.sleep(for: .milliseconds(20))
        }
        // Two run (one per worker), three wait: the dashboard must say 2 running and 3 queued.
        for index in 0..<5 {
            _ = try await serve.post("/tasks", #"{"name": "nap \#(index)", "payload": {"tool": "sleep", "arguments": {"seconds": 30}}}"#)
        }
        let dom = try Self.run(chromium, Self.chromiumFlags(serve.folder) + ["--virtual-time-budget=4000", "--dump-dom", serve.url + "/"])
        #expect(Self.number(dom, "running") == "2", "\(dom.prefix(3000))")
        #expect(Self.number(dom, "queued") == "3")
        #expect(Self.number(dom, "total") == "7")
        #expect(dom.contains("<td>sleep</td>"))
        #expect(dom.contains(#"<td class="window-count">2</td>"#), "\(dom.prefix(6000))")
        // The README's picture, when asked for:
        // AGENT_DASHBOARD_PNG=$PWD/docs/dashboard.png swift test --skip-build --filter dashboardShowsTheQueueInChromium
        if let path = ProcessInfo.processInfo.environment["AGENT_DASHBOARD_PNG"] {
            _ = try Self.run(chromium, Self.chromiumFlags(serve.folder) + ["--virtual-time-budget=4000", "--window-size=1280,900", "--screenshot=\(path)", serve.url + "/"])
        }
        #expect(await serve.terminate() == 0)
    }

    static func chromiumFlags(_ folder: URL) -> [String] {
        ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--user-data-dir=\(folder.appendingPathComponent("chromium").path)"]
    }

    /// The text of the element with this id, as `<b id="ID">TEXT</b>`.
    static func number(_ dom: String, _ id: String) -> String? {
        guard let start = dom.range(of: "id=\"\(id)\">") else { return nil }
        return dom[start.upperBound...].prefix { $0 != "<" }.description
    }

    static func run(_ executable: String, _ arguments: [String]) throws -> String {
        String(decoding: try Proc.output(of: URL(fileURLWithPath: executable), arguments, discardingErrors: true).data, as: UTF8.self)
    }

}
