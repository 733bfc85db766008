import Foundation
import Testing
import TestSupport
import JSON

/// With no key and no endpoint the binary looks for a local server on loopback (`AGENT_LOCAL_PORTS`
/// names the ports here, as the default ports may be taken on a developer's machine).
@Suite(.timeLimit(.minutes(1))) struct LocalServerEndToEndTests {
    @Test func aLocalServerIsFoundAndUsedWithItsFirstModel() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("answered locally"), text("with the chosen model")])
        defer { server.stop() }
        // Port 1 is privileged and nothing listens there: refused at once.
        let process = try AgentProcess(environment: ["AGENT_LOCAL_PORTS": "1,\(server.port)"])
        let result = try await process.run(["-p", "hi"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout.contains("answered locally"))
        var chosen = process
        chosen.environment["AGENT_MODEL"] = "my-model"
        #expect(try await chosen.run(["-p", "hi"]).stdout.contains("with the chosen model"))
        let posts = server.requests.filter { $0["method"] == "POST" }
        #expect(posts.map { $0["body"]?["model"] } == ["fake-model", "my-model"])
        #expect(posts.allSatisfy { $0["headers"]?["Authorization"] == nil }, "no key is sent, there is none")
    }

    @Test func demoFlagOrNoServerMeansTheDemoModel() async throws {
        let server = try await FakeOpenAIServer.start(script: [text("must not be asked")])
        defer { server.stop() }
        let forced = try await AgentProcess(environment: ["AGENT_LOCAL_PORTS": "\(server.port)"]).run(["--demo", "-p", "hi"])
        #expect(forced.stdout.contains("offline demo model"))
        let none = try await AgentProcess(environment: ["AGENT_LOCAL_PORTS": "1"]).run(["-p", "hi"])
        #expect(none.status == 0 && none.stdout.contains("offline demo model"))
        #expect(server.requests.isEmpty, "--demo does not even probe")
    }
}
