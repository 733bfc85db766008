import Foundation
import Testing
import JSON
@testable import LLM
import TestSupport

/// The probe for a local server (no key, no endpoint): real libcurl against servers on loopback.
@Suite struct LocalServerProbeTests {
    /// A server answering `GET /v1/models` as told (Tests/Fixtures/models_server.py).
    private static func server(_ arguments: [String] = []) async throws -> FixtureServer {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try FixtureServer(fixture: "models_server.py") { _ in arguments } })
            }
        }
    }

    private static func list(_ ids: [String]) -> String {
        JSONValue.object(["object": "list", "data": .array(ids.map { .object(["id": .string($0)]) })]).jsonString
    }

    @Test func theFirstPortThatListsAModelIsUsed() async throws {
        let server = try await Self.server(["--body", Self.list(["qwen2.5:0.5b", "llama3"])])
        defer { server.stop() }
        let found = try #require(await LocalServerProbe.find(ports: [try LoopbackPort.unused(), server.port]))
        #expect(found == LocalServerProbe.Found(port: server.port, baseURL: "http://127.0.0.1:\(server.port)/v1", models: ["qwen2.5:0.5b", "llama3"]))
        #expect(server.log().map { $0["path"]?.stringValue } == ["/v1/models"])
    }

    @Test func anEarlierPortWinsOverAQuickerLaterOne() async throws {
        let slow = try await Self.server(["--delay", "0.3", "--body", Self.list(["first-in-list"])])
        let quick = try await Self.server(["--body", Self.list(["quicker"])])
        defer { slow.stop(); quick.stop() }
        let found = await LocalServerProbe.find(ports: [slow.port, quick.port], deadline: .seconds(20))
        #expect(found?.models == ["first-in-list"])
    }

    @Test func aPortThatSaysNothingIsGivenUpAtTheDeadline() async throws {
        // Were the deadline ignored, the silent server's answer (after 30 s) would win: it is first.
        let silent = try await Self.server(["--delay", "30", "--body", Self.list(["too-late"])])
        let quick = try await Self.server(["--body", Self.list(["in-time"])])
        defer { silent.stop(); quick.stop() }
        let found = await LocalServerProbe.find(ports: [silent.port, quick.port], deadline: .milliseconds(500))
        #expect(found?.models == ["in-time"])
    }

    @Test func answersThatAreNotAModelListDoNotCount() async throws {
        let servers = [
            try await Self.server(["--status", "404"]),
            try await Self.server(["--status", "401", "--body", #"{"error": {"message": "no key"}}"#]),
            try await Self.server(["--body", "<html>a web server</html>"]),
            try await Self.server(["--body", Self.list([])]),
            try await Self.server(["--body", #"{"data": "not a list"}"#]),
            // Over the size limit: a list that would be valid, padded with spaces to about 512 KiB.
            try await Self.server(["--body", Self.list(["padded"]) + String(repeating: " ", count: 1023), "--repeat", "512"]),
            // Names a terminal would run as commands, and a name of 10 000 bytes.
            try await Self.server(["--body", Self.list(["\u{1b}]0;owned\u{07}", "a\u{1b}[2Jb", "\u{202e}gpt", String(repeating: "m", count: 10_000)])]),
        ]
        defer { servers.forEach { $0.stop() } }
        #expect(await LocalServerProbe.find(ports: servers.map(\.port), deadline: .seconds(20)) == nil)
        // Every one was asked: none was skipped for an earlier one.
        #expect(servers.allSatisfy { $0.log().count == 1 })
    }

    @Test func usableNamesAreKeptAndHostileOnesDropped() {
        let body = Data(Self.list(["ok-model", "\u{1b}[31mred", "", "llama3:8b-instruct-q4_K_M", "zero\u{200b}width"]).utf8)
        #expect(LocalServerProbe.models(in: body) == ["ok-model", "llama3:8b-instruct-q4_K_M"])
        #expect(LocalServerProbe.models(in: Data("[1, 2]".utf8)) == nil)
    }

    @Test func noPortsMeansNoServer() async throws {
        #expect(await LocalServerProbe.find(ports: []) == nil)
        #expect(await LocalServerProbe.find(ports: [0, 70000, try LoopbackPort.unused()]) == nil)
    }
}
