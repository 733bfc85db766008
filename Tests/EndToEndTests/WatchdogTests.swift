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
        let server = try await FakeOpenAIServer.start(script: [
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

    /// The watchdog is in a session of its own (the terminal's signals do not reach it), holds only
    /// /dev/null and its pipe (no tool's pipe, not the terminal, not this test's pipes), and exits
    /// when agent-repl exits normally.
    @Test func theWatchdogHoldsNothingAndExitsWithAgentRepl() async throws {
        let running = try AgentProcess().launch(["--demo"])
        var found: Int32?
        _ = await Proc.eventually(within: .seconds(10)) {
            found = Self.children(of: running.pid).first { Self.stat($0)?.name == "agent-repl-wd" }
            return found != nil
        }
        let watchdog = try #require(found, "no watchdog among agent-repl's children")
        defer { Proc.killLeftovers([watchdog]) }
        #expect(Self.stat(watchdog)?.session == watchdog, "the watchdog leads a session of its own")
        let fds = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(watchdog)/fd").sorted()
        #expect(fds == ["0", "1", "2", "3"], "descriptors: \(fds)")
        for fd in 0...2 {
            let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(watchdog)/fd/\(fd)")
            #expect(target == "/dev/null", "descriptor \(fd) is \(String(describing: target))")
        }
        let result = await running.finish()
        #expect(result?.status == 0, "stderr: \(result?.stderr ?? "killed")")
        #expect(await Proc.eventually(within: .seconds(10)) { Proc.isDead(watchdog) }, "the watchdog outlived agent-repl")
    }

    /// Name, parent and session of a process, from /proc/PID/stat.
    private static func stat(_ pid: Int32) -> (name: String, parent: Int32, session: Int32)? {
        guard let text = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let open = text.firstIndex(of: "("), let close = text.lastIndex(of: ")")
        else { return nil }
        let fields = text[text.index(after: close)...].split(separator: " ")
        guard fields.count > 4, let parent = Int32(fields[1]), let session = Int32(fields[3]) else { return nil }
        return (String(text[text.index(after: open)..<close]), parent, session)
    }

    private static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { stat($0)?.parent == parent }
    }
}
