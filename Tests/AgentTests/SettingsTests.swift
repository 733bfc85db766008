import Foundation
import Testing
@testable import Agent
import JSON
import LLM
import Scheduler
import Tools

@Suite struct SettingsTests {
    @Test func noKeyAndNoEndpointProbesTheLocalServersThenTheDemo() {
        let s = Settings.resolve(flags: CommandLineSettings(), environment: [:])
        #expect(s.backend == .localOrDemo(ports: [11434, 8080, 1234, 8000]))
        #expect(s.model == Settings.defaultModel)
        #expect(!s.modelIsChosen)
        let chosen = Settings.resolve(flags: CommandLineSettings(), environment: ["AGENT_MODEL": "qwen"])
        #expect(chosen.modelIsChosen && chosen.model == "qwen")
    }

    @Test func agentLocalPortsNamesThePortsOrNone() {
        func ports(_ text: String) -> Settings.Backend {
            Settings.resolve(flags: CommandLineSettings(), environment: ["AGENT_LOCAL_PORTS": text]).backend
        }
        #expect(ports("9000, 9001 9002") == .localOrDemo(ports: [9000, 9001, 9002]))
        #expect(ports("") == .localOrDemo(ports: []))
        // Hostile values: out of range, not numbers, huge, too many.
        #expect(ports("0,65536,-1,x,99999999999999999999999,80") == .localOrDemo(ports: [80]))
        #expect(ports(Array(repeating: "7", count: 1000).joined(separator: ",")) == .localOrDemo(ports: Array(repeating: 7, count: 16)))
    }

    @Test func flagBeatsEnvironment() {
        let env = ["OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://env/v1", "AGENT_MODEL": "env-model"]
        let s = Settings.resolve(flags: CommandLineSettings(baseURL: "http://flag/v1/", model: "flag-model"), environment: env)
        #expect(s.backend == .endpoint(baseURL: "http://flag/v1", apiKey: "sk-x"))
        #expect(s.model == "flag-model")
        let fromEnv = Settings.resolve(flags: CommandLineSettings(), environment: env)
        #expect(fromEnv.backend == .endpoint(baseURL: "http://env/v1", apiKey: "sk-x"))
        #expect(fromEnv.model == "env-model")
    }

    @Test func keyAloneUsesOpenAI() {
        let s = Settings.resolve(flags: CommandLineSettings(), environment: ["OPENAI_API_KEY": "sk-x"])
        #expect(s.backend == .endpoint(baseURL: OpenAIConfiguration.defaultBaseURL, apiKey: "sk-x"))
    }

    @Test func baseURLWithoutKeyIsALocalServer() {
        let s = Settings.resolve(flags: CommandLineSettings(baseURL: "http://127.0.0.1:8080/v1"), environment: [:])
        #expect(s.backend == .endpoint(baseURL: "http://127.0.0.1:8080/v1", apiKey: nil))
    }

    @Test func demoFlagWinsOverAKey() {
        let s = Settings.resolve(flags: CommandLineSettings(demo: true), environment: ["OPENAI_API_KEY": "sk-x"])
        guard case .demo = s.backend else { Issue.record("expected the demo model"); return }
    }

    @Test func answersStreamUnlessNoStreamOrAgentStreamSaysOtherwise() {
        let endpoint = ["OPENAI_API_KEY": "sk-x"]
        #expect(Settings.resolve(flags: CommandLineSettings(), environment: endpoint).streams)
        #expect(!Settings.resolve(flags: CommandLineSettings(noStream: true), environment: endpoint).streams)
        for off in ["0", "false", "No", " off "] {
            let s = Settings.resolve(flags: CommandLineSettings(), environment: endpoint.merging(["AGENT_STREAM": off]) { $1 })
            #expect(!s.streams, "AGENT_STREAM=\(off)")
        }
        for on in ["1", "true", ""] {
            let s = Settings.resolve(flags: CommandLineSettings(), environment: endpoint.merging(["AGENT_STREAM": on]) { $1 })
            #expect(s.streams, "AGENT_STREAM=\(on)")
        }
    }

    @Test func dotEnvParsesAndNeverOverrides() throws {
        let parsed = DotEnv.parse("""
            # comment
            export OPENAI_API_KEY="sk-file"
            AGENT_MODEL=file-model # trailing comment
            QUOTED='a b'
            not a line
            """)
        #expect(parsed.map(\.key) == ["OPENAI_API_KEY", "AGENT_MODEL", "QUOTED"])
        #expect(parsed.map(\.value) == ["sk-file", "file-model", "a b"])

        let dir = FileManager.default.temporaryDirectory.appendingPathComponent(UUID().uuidString)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let file = dir.appendingPathComponent(".env")
        try "OPENAI_API_KEY=sk-file\nAGENT_MODEL=file-model\n".write(to: file, atomically: true, encoding: .utf8)
        let merged = DotEnv.merged(into: ["OPENAI_API_KEY": "sk-env"], file: file)
        #expect(merged["OPENAI_API_KEY"] == "sk-env")
        #expect(merged["AGENT_MODEL"] == "file-model")
    }
}
