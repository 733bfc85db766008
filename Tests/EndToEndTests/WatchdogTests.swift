import Foundation
import Testing
import TestSupport
import JSON

/// The no-orphan watchdog (docs/SECURITY.md): tools die with agent-repl however it dies.
@Suite struct WatchdogTests {
    /// A tool (tree.sh: a shell waiting 300 s for a backgrounded `sleep` grandchild) runs when
    /// agent-repl is killed with SIGKILL, which no handler of its own can see. The tool and its
    /// grandchild must be gone soon after (the bound is far below their natural end of 300 s).
    @Test func killingAgentReplWithSIGKILLKillsItsToolsAndTheirGrandchildren() async throws {
        let server = try FakeOpenAIServer(script: [
            ["tool_calls": [["id": "c1", "name": "tree", "arguments": [:]]]],
            ["text": "never reached"],
        ])
        let agent = try AgentProcess(environment: ["OPENAI_API_KEY": "sk-test", "OPENAI_BASE_URL": server.baseURL])
        let folder = agent.workingFolder.appendingPathComponent("tree-tools.d")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let pidFile = agent.workingFolder.appendingPathComponent("tree.pids").path
        let script = Paths.packageRoot.appendingPathComponent("Tests/ToolsTests/Fixtures/tree.sh").path
        let declaration: JSONValue = [
            "name": "tree", "description": "a shell and its backgrounded sleep", "parameters": ["type": "object"],
            "exec": .array([.string(script)]), "env": ["PIDFILE": .string(pidFile)],
        ]
        try declaration.jsonString.write(to: folder.appendingPathComponent("tree.json"), atomically: true, encoding: .utf8)

        let running = try agent.launch(["--tools-dir", folder.path])
        running.send("run the tree tool\n")
        let pids = try #require(await Proc.readPIDs(pidFile, count: 2), "the tool never wrote its pids")
        defer { Proc.killLeftovers(pids) }
        #expect(!Proc.isDead(pids[0]) && !Proc.isDead(pids[1]), "the tool and its grandchild run")

        kill(running.pid, SIGKILL)
        #expect(await Proc.eventually(within: .seconds(10)) { Proc.isDead(pids[0]) },
                "tool \(pids[0]) survived agent-repl: \(String(describing: Proc.state(pids[0])))")
        #expect(await Proc.eventually(within: .seconds(10)) { Proc.isDead(pids[1]) },
                "grandchild \(pids[1]) survived agent-repl: \(String(describing: Proc.state(pids[1])))")
        _ = await running.finish()
    }
}
