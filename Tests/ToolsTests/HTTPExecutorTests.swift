import Foundation
import Testing
import JSON
import TestSupport
@testable import Tools

extension FixtureServer {
    /// An `http` tool that calls `path` on this server.
    func tool(_ method: String = "GET", _ path: String, headers: [String: String] = [:], body: JSONValue? = nil, passEnv: [String] = []) -> ToolDeclaration {
        ToolDeclaration(
            name: "web", description: "d", runner: .http(HTTPRequestTemplate(method: method, url: url(path), headers: headers, body: body)),
            passEnv: passEnv)
    }
}

@Suite struct HTTPExecutorTests {
    @Test func getWithURLEncodedPlaceholdersAndEnvironmentHeaders() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let runner = ToolRunner(environment: ["API_USER": "ann", "SERVICE_TOKEN": "t0k"])
        let tool = server.tool("GET", "/echo?q={query}&n={n}", headers: ["X-User": "${API_USER}", "Authorization": "Bearer ${SERVICE_TOKEN}"], passEnv: ["SERVICE_TOKEN"])
        let result = await runner.run(tool, arguments: #"{"query": "a b&c/é", "n": 3}"#)
        #expect(result.outcome == .success, "\(result)")
        #expect(result.httpStatus == 200)
        let echo = try JSONValue.parse(result.output)
        #expect(echo["method"] == "GET")
        #expect(echo["path"] == "/echo?q=a%20b%26c%2F%C3%A9&n=3")
        #expect(echo["headers"]?["x-user"] == "ann")
        #expect(echo["headers"]?["authorization"] == "Bearer t0k")
    }

    @Test func secretsInHeadersNeedPassEnv() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let runner = ToolRunner(environment: ["OPENAI_API_KEY": "sk-secret"])
        let headers = ["X-Key": "${OPENAI_API_KEY}"]

        let withheld = await runner.run(server.tool("GET", "/echo", headers: headers), arguments: "{}")
        #expect(withheld.outcome == .success, "\(withheld)")
        let received = try #require(try JSONValue.parse(withheld.output)["headers"]?.objectValue)
        // The secret expands to "", and libcurl leaves a header with an empty value out.
        #expect(received["x-key"] == nil, "the server received \(received)")
        #expect(!withheld.output.contains("sk-secret"))

        let passed = await runner.run(server.tool("GET", "/echo", headers: headers, passEnv: ["OPENAI_API_KEY"]), arguments: "{}")
        #expect(passed.outcome == .success, "\(passed)")
        #expect(try JSONValue.parse(passed.output)["headers"]?["x-key"] == "sk-secret")
    }

    @Test func postFillsTheJSONBodyTemplate() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let body: JSONValue = ["city": "{city}", "days": "{days}", "note": "weather for {city}", "fixed": true]
        let result = await ToolRunner().run(server.tool("POST", "/echo", body: body), arguments: #"{"city": "Pa\"ris", "days": 3}"#)
        #expect(result.ok)
        let echo = try JSONValue.parse(result.output)
        #expect(echo["method"] == "POST")
        #expect(echo["headers"]?["content-type"] == "application/json")
        let sent = try JSONValue.parse(try #require(echo["body"]?.stringValue))
        #expect(sent == ["city": "Pa\"ris", "days": 3, "note": "weather for Pa\"ris", "fixed": true])
    }

    @Test func errorStatusIsAFailedResult() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/status/404"), arguments: "{}")
        #expect(result.outcome == .failed)
        #expect(result.httpStatus == 404)
        #expect(result.error == "the server answered HTTP 404")
        #expect(result.output == "status 404")
    }

    @Test func bodyOverTheCapIsCut() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/big"), arguments: "{}")
        #expect(result.outcome == .success)
        #expect(result.output.hasSuffix("\n[response cut: showing the first 1048576 bytes]"))
    }

    @Test(.timeLimit(.minutes(1))) func cancelStopsASilentRequest() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let path = "/slow?seconds=30"  // silent for 30 s, then it would answer
        let execution = ToolRunner().start(server.tool("GET", path), arguments: "{}")
        #expect(await server.waitForEvent("request", path: path) != nil)

        let terminated = ContinuousClock.now
        let terminatedAt = Date().timeIntervalSince1970
        execution.terminate()
        let result = await execution.result()
        let resultAfter = ContinuousClock.now - terminated
        #expect(result.outcome == .cancelled)
        // Far below the server's 30 s (a stop that does nothing waits for it), with room for a busy machine.
        #expect(resultAfter < .seconds(10), "the result came \(resultAfter) after terminate; the server's answer is due after 30 s")

        // The transfer itself stopped: the server saw the connection closed, and answered nothing.
        let hangUp = try #require(await server.waitForEvent("disconnect", path: path, timeout: .seconds(20)))
        #expect(server.events("served", path: path).isEmpty)
        let hangUpAfter = (hangUp["time"]?.numberValue ?? .nan) - terminatedAt
        print("http tool cancel: result after \(resultAfter), the server saw the hang-up \(String(format: "%.1f", hangUpAfter * 1000)) ms after terminate")
    }

    @Test func refusedConnectionIsAFailedResult() async {
        let tool = ToolDeclaration(name: "web", description: "d", runner: .http(HTTPRequestTemplate(url: "http://127.0.0.1:1/x")))
        let result = await ToolRunner().run(tool, arguments: "{}")
        #expect(result.outcome == .failed)
        #expect(result.error?.hasPrefix("the HTTP request to http://127.0.0.1:1/x failed: ") == true)
    }

    /// A custom header such as X-Api-Key may hold a secret: libcurl would re-send it to whatever
    /// host a redirect names. A redirect to another origin is not followed.
    @Test func aRedirectToAnotherOriginIsNotFollowed() async throws {
        let server = try await FixtureServer.http()
        let other = try await FixtureServer.http()
        defer { server.stop(); other.stop() }
        let target = other.url("/echo").addingPercentEncoding(withAllowedCharacters: .alphanumerics)!
        let tool = server.tool("GET", "/redirect?to=\(target)", headers: ["X-Api-Key": "k-secret"])
        let result = await ToolRunner().run(tool, arguments: "{}")
        #expect(result.outcome == .failed, "\(result)")
        #expect(result.error?.contains("another origin") == true, "\(result)")
        #expect(result.error?.contains(other.url("/echo")) == true, "\(result)")
        #expect(other.events("request", path: "/echo").isEmpty, "the other origin was asked")
    }

    @Test func aRedirectWithinTheOriginIsFollowedWithTheHeaders() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/redirect?to=%2Fecho%3Fa%3D1&status=307", headers: ["X-Api-Key": "k"]), arguments: "{}")
        #expect(result.outcome == .success, "\(result)")
        let echo = try JSONValue.parse(result.output)
        #expect(echo["path"] == "/echo?a=1")
        #expect(echo["headers"]?["x-api-key"] == "k")
    }

    @Test func aPostRedirectedBy303BecomesAGet() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("POST", "/redirect?to=%2Fecho&status=303", body: ["a": 1]), arguments: "{}")
        #expect(result.outcome == .success, "\(result)")
        let echo = try JSONValue.parse(result.output)
        #expect(echo["method"] == "GET")
        #expect(echo["body"] == "")
    }

    @Test func atMostFiveRedirectsAreFollowed() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/loop/0"), arguments: "{}")
        #expect(result.outcome == .failed, "\(result)")
        #expect(server.events("request", path: "/loop/5").count == 1)
        #expect(server.events("request", path: "/loop/6").isEmpty)
    }

    @Test func aRedirectToAnotherSchemeIsNotFollowed() async throws {
        let server = try await FixtureServer.http()
        defer { server.stop() }
        let result = await ToolRunner().run(server.tool("GET", "/redirect?to=file%3A%2F%2F%2Fetc%2Fpasswd"), arguments: "{}")
        #expect(result.outcome == .failed, "\(result)")
        #expect(!result.output.contains("root:"))
    }

    @Test func templateSubstitution() {
        #expect(HTTPRequestBuilder.substitute("a/{x}/{missing}/{not an id}") { $0 == "x" ? "1" : nil } == "a/1//{not an id}")
        #expect(HTTPRequestBuilder.expandEnvironment("k=${A} ${B}x ${", ["A": "1"]) == "k=1 x ${")
    }
}
