import Foundation
import Testing
@testable import Agent
import JSON
import LLM
import Scheduler
import Tools

@Suite struct SettingsTests {
    @Test func noKeyAndNoEndpointProbesTheLocalServersThenTheDemo() throws {
        let s = try Settings.resolve(flags: CommandLineSettings(), environment: [:])
        #expect(s.backend == .localOrDemo(ports: [11434, 8080, 1234, 8000]))
        #expect(s.model == Settings.defaultModel)
        #expect(!s.modelIsChosen)
        let chosen = try Settings.resolve(flags: CommandLineSettings(), environment: ["AGENT_MODEL": "qwen"])
        #expect(chosen.modelIsChosen && chosen.model == "qwen")
    }

    @Test func agentLocalPortsNamesThePortsOrNone() throws {
        func ports(_ text: String) throws -> Settings.Backend {
            try Settings.resolve(flags: CommandLineSettings(), environment: ["AGENT_LOCAL_PORTS": text]).backend
        }
        #expect(try ports("9000, 9001 9002") == .localOrDemo(ports: [9000, 9001, 9002]))
        #expect(try ports("") == .localOrDemo(ports: []))
        // Hostile values: out of range, not numbers, huge, too many.
        #expect(try ports("0,65536,-1,x,99999999999999999999999,80") == .localOrDemo(ports: [80]))
        #expect(try ports(Array(repeating: "7", count: 1000).joined(separator: ",")) == .localOrDemo(ports: Array(repeating: 7, count: 16)))
    }

    @Test func flagBeatsEnvironment() throws {
        let env = ["OPENAI_API_KEY": "sk-x", "OPENAI_BASE_URL": "http://env/v1", "AGENT_MODEL": "env-model"]
        let s = try Settings.resolve(flags: CommandLineSettings(baseURL: "http://flag/v1/", model: "flag-model"), environment: env)
        #expect(s.backend == .endpoint(baseURL: "http://flag/v1", apiKey: "sk-x"))
        #expect(s.model == "flag-model")
        let fromEnv = try Settings.resolve(flags: CommandLineSettings(), environment: env)
        #expect(fromEnv.backend == .endpoint(baseURL: "http://env/v1", apiKey: "sk-x"))
        #expect(fromEnv.model == "env-model")
    }

    @Test func keyAloneUsesOpenAI() throws {
        let s = try Settings.resolve(flags: CommandLineSettings(), environment: ["OPENAI_API_KEY": "sk-x"])
        #expect(s.backend == .endpoint(baseURL: OpenAIConfiguration.defaultBaseURL, apiKey: "sk-x"))
    }

    @Test func baseURLWithoutKeyIsALocalServer() throws {
        let s = try Settings.resolve(flags: CommandLineSettings(baseURL: "http://127.0.0.1:8080/v1"), environment: [:])
        #expect(s.backend == .endpoint(baseURL: "http://127.0.0.1:8080/v1", apiKey: nil))
    }

    @Test func demoFlagWinsOverAKey() throws {
        let s = try Settings.resolve(flags: CommandLineSettings(demo: true), environment: ["OPENAI_API_KEY": "sk-x"])
        guard case .demo = s.backend else { Issue.record("expected the demo model"); return }
    }

    @Test func answersStreamUnlessNoStreamOrAgentStreamSaysOtherwise() throws {
        let endpoint = ["OPENAI_API_KEY": "sk-x"]
        #expect(try Settings.resolve(flags: CommandLineSettings(), environment: endpoint).streams)
        #expect(try !Settings.resolve(flags: CommandLineSettings(noStream: true), environment: endpoint).streams)
        for off in ["0", "false", "No", " off "] {
            let s = try Settings.resolve(flags: CommandLineSettings(), environment: endpoint.merging(["AGENT_STREAM": off]) { $1 })
            #expect(!s.streams, "AGENT_STREAM=\(off)")
        }
        for on in ["1", "true", ""] {
            let s = try Settings.resolve(flags: CommandLineSettings(), environment: endpoint.merging(["AGENT_STREAM": on]) { $1 })
            #expect(s.streams, "AGENT_STREAM=\(on)")
        }
    }

    @Test func theAPIIsChatUnlessTheFlagOrAgentAPISaysResponses() throws {
        let endpoint = ["OPENAI_API_KEY": "sk-x"]
        #expect(try Settings.resolve(flags: CommandLineSettings(), environment: endpoint).api == .chat)
        #expect(try Settings.resolve(flags: CommandLineSettings(), environment: endpoint.merging(["AGENT_API": " "]) { $1 }).api == .chat)
        #expect(try Settings.resolve(flags: CommandLineSettings(api: .responses), environment: endpoint).api == .responses)
        #expect(try Settings.resolve(flags: CommandLineSettings(), environment: endpoint.merging(["AGENT_API": " Responses "]) { $1 }).api == .responses)
        let flagWins = endpoint.merging(["AGENT_API": "responses"]) { $1 }
        #expect(try Settings.resolve(flags: CommandLineSettings(api: .chat), environment: flagWins).api == .chat)
    }

    @Test func aBadAgentAPIIsASentenceNamingTheValues() throws {
        #expect {
            try Settings.resolve(flags: CommandLineSettings(), environment: ["OPENAI_API_KEY": "sk-x", "AGENT_API": "respones"])
        } throws: { error in
            "\(error)" == "AGENT_API must be chat or responses (as --api)."
        }
        // The flag, already checked by the parser, decides without looking at the variable.
        #expect(try Settings.resolve(flags: CommandLineSettings(api: .chat), environment: ["AGENT_API": "bad"]).api == .chat)
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
