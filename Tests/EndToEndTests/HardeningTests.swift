import Foundation
import Testing
import TestSupport
import JSON

/// What the process does to keep its secrets and the user's terminal safe (docs/SECURITY.md).
@Suite struct HardeningTests {
    static let key = "sk-hardening-secret-0123456789"

    /// A tool (a child of agent-repl, same user) tries to read agent-repl's environment, which holds
    /// the key. To prove the reader could read a dumpable process, it first reads the environment of
    /// a child of its own. Root with CAP_SYS_PTRACE could read anything, so as root everything runs
    /// without capabilities (`setpriv`), as a normal user would.
    @Test func aToolCannotReadAgentReplsEnvironment() async throws {
        var process = try AgentProcess(environment: ["OPENAI_API_KEY": Self.key])
        process.withoutCapabilities = true
        let folder = process.workingFolder.appendingPathComponent("probe-tools")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let own = process.workingFolder.appendingPathComponent("own.txt").path
        let parent = process.workingFolder.appendingPathComponent("parent.txt").path
        let script = """
            #!/bin/sh
            CONTROL_MARK=readable sleep 30 &
            child=$!
            sleep 0.2
            (tr '\\0' '\\n' < /proc/$child/environ) > \(own) 2>&1
            kill $child
            (tr '\\0' '\\n' < /proc/$PPID/environ) > \(parent) 2>&1
            echo "read $PPID"
            """
        try script.write(to: folder.appendingPathComponent("probe.sh"), atomically: true, encoding: .utf8)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: folder.appendingPathComponent("probe.sh").path)
        let declaration: JSONValue = ["name": "environ_probe", "description": "probe environ", "parameters": ["type": "object"], "exec": ["./probe.sh"]]
        try declaration.jsonString.write(to: folder.appendingPathComponent("probe.json"), atomically: true, encoding: .utf8)

        let result = try await process.run(["--demo", "--tools-dir", folder.path, "-p", "probe environ"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stderr.contains("environ_probe: read "), "the tool ran: \(result.stderr)")
        let control = try String(contentsOfFile: own, encoding: .utf8)
        #expect(control.contains("CONTROL_MARK=readable"), "the reader can read a dumpable process of its user: \(control)")
        let stolen = try String(contentsOfFile: parent, encoding: .utf8)
        #expect(!stolen.contains(Self.key), "agent-repl's environment was readable")
        #expect(stolen.contains("Permission denied"), "\(stolen)")
    }

    @Test func theBaseURLsPasswordIsNeverPrinted() async throws {
        let server = try await FakeOpenAIServer.start(script: [["status": 404, "body": ["error": ["message": "no such route"]]]])
        let url = "http://alice:pw@127.0.0.1:\(server.port)/v1"
        let result = try await AgentProcess(environment: ["OPENAI_API_KEY": Self.key]).run(["--base-url", url, "-p", "hi"])
        #expect(result.status == 1)
        #expect(result.stderr.contains("Nothing answers at http://127.0.0.1:\(server.port)/v1/chat/completions (404)"), "\(result.stderr)")
        #expect(!(result.stderr + result.stdout).contains("pw"), "\(result.stderr)")
        #expect(!(result.stderr + result.stdout).contains("alice"), "\(result.stderr)")
    }

    @Test func aBadSchemesCredentialsAreNotEchoed() async throws {
        let result = try await AgentProcess().run(["--base-url", "ftp://alice:pw@127.0.0.1:1/v1", "-p", "hi"])
        #expect(result.status == 2)
        #expect(result.stderr.contains("http or https"), "\(result.stderr)")
        #expect(!result.stderr.contains("pw") && !result.stderr.contains("alice"), "\(result.stderr)")
    }

    /// The endpoint must be http or https from every source, not only the flag; the URL is not echoed.
    @Test func anEnvironmentEndpointMustBeHTTPToo() async throws {
        for (name, file) in [("environment", false), (".env", true)] {
            var process = try AgentProcess(environment: ["OPENAI_API_KEY": Self.key])
            let url = "ftp://alice:pw@127.0.0.1:1/v1"
            if file {
                try "OPENAI_BASE_URL=\(url)\n".write(to: process.workingFolder.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
                try process.trustWorkingFolder()
            } else {
                process.environment["OPENAI_BASE_URL"] = url
            }
            let result = try await process.run(["-p", "hi"])
            #expect(result.status == 2, "\(name): \(result.stderr)")
            #expect(result.stderr.contains("OPENAI_BASE_URL must be an http or https URL"), "\(name): \(result.stderr)")
            #expect(!result.stderr.contains("pw"), "\(name): \(result.stderr)")
        }
    }

    /// A tools.d file's text in `--check-tools`' report reaches a terminal without its escapes.
    @Test func checkToolsOnATerminalFiltersWhatTheFilesSay() async throws {
        let process = try AgentProcess()
        let folder = process.workingFolder.appendingPathComponent("bad-tools")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let declaration: JSONValue = ["name": "bad\u{1b}]0;owned\u{07}\u{1b}[2Jname", "description": "d", "exec": ["/bin/true"]]
        try declaration.jsonString.write(to: folder.appendingPathComponent("bad.json"), atomically: true, encoding: .utf8)
        let terminal = try PseudoTerminal(process, arguments: ["--check-tools", "--tools-dir", folder.path])
        #expect(try await terminal.waitForExit() == 2)
        #expect(terminal.output.contains("badname"), "\(terminal.output.debugDescription)")
        #expect(!terminal.output.contains("\u{1b}"), "\(terminal.output.debugDescription)")
    }

    /// Filtering is for terminals only: piped, the answer is byte for byte what the model sent.
    @Test func pipedStdoutIsExactlyWhatTheModelSent() async throws {
        let text = "clip\u{1b}]52;c;ZWNobw==\u{07} clear\u{1b}[2J hidden\u{1b}[8m x\u{9b}1m\r\u{08}é🌍"
        let server = try await FakeOpenAIServer.start(script: [["text": .string(text), "pieces": 9]])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": Self.key, "OPENAI_BASE_URL": server.baseURL, "AGENT_MODEL": "fake-model"])
        let result = try await process.run(["-p", "hi"])
        #expect(result.status == 0, "stderr: \(result.stderr)")
        #expect(result.stdout == text + "\n")
    }

    /// On a terminal the same answer arrives without its sequences.
    @Test func onATerminalTheAnswerLosesItsEscapes() async throws {
        let text = "clip\u{1b}]52;c;ZWNobw==\u{07} clear\u{1b}[2J title\u{1b}]0;owned\u{1b}\\ end"
        let server = try await FakeOpenAIServer.start(script: [["text": .string(text), "pieces": 9]])
        let process = try AgentProcess(environment: ["OPENAI_API_KEY": Self.key, "OPENAI_BASE_URL": server.baseURL, "AGENT_MODEL": "fake-model"])
        let terminal = try PseudoTerminal(process)
        var mark = try await terminal.waitFor("> ")
        terminal.type("hi\r")
        mark = try await terminal.waitFor("clip clear title end", after: mark)
        try await terminal.waitFor("> ", after: mark)
        #expect(!terminal.output.contains("]52;"), "\(terminal.output.debugDescription)")
        #expect(!terminal.output.contains("owned"), "\(terminal.output.debugDescription)")
        #expect(!terminal.output.contains("\u{1b}[2J"), "\(terminal.output.debugDescription)")
        terminal.type("\u{04}")
        #expect(try await terminal.waitForExit() == 0)
    }
}
