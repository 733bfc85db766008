import Foundation
import JSON
import LLM
import Scheduler
import Tools

/// What the user asked for on the command line; nil where no flag was given.
public struct CommandLineSettings: Sendable {
    public var baseURL: String?
    public var model: String?
    public var demo: Bool
    /// `--no-stream`.
    public var noStream: Bool

    public init(baseURL: String? = nil, model: String? = nil, demo: Bool = false, noStream: Bool = false) {
        self.baseURL = baseURL
        self.model = model
        self.demo = demo
        self.noStream = noStream
    }
}

/// Which model endpoint the session talks to, resolved as flag > environment > `.env` > default.
public struct Settings: Sendable, Equatable {
    public static let defaultModel = "gpt-5-mini"

    public enum Backend: Sendable, Equatable {
        /// A real OpenAI-compatible endpoint.
        case endpoint(baseURL: String, apiKey: String?)
        /// The offline demo model.
        case demo(reason: String)
        /// No key and no endpoint: the first local server found on these loopback ports
        /// (`LocalServerProbe`), or the demo model when none answers.
        case localOrDemo(ports: [Int])
    }

    public var backend: Backend
    public var model: String
    /// Whether answers are asked for as a stream: false with `--no-stream` or `AGENT_STREAM` set to
    /// 0, false, no or off. When true the client still stops streaming for a server that cannot
    /// stream tool calls.
    public var streams = true
    /// The model was named by `--model` or `AGENT_MODEL` (a local server's own first model is used otherwise).
    public var modelIsChosen = false

    public init(backend: Backend, model: String, streams: Bool = true, modelIsChosen: Bool = false) {
        self.backend = backend
        self.model = model
        self.streams = streams
        self.modelIsChosen = modelIsChosen
    }

    /// Resolves the settings. `environment` should already include `.env` (see `DotEnv.merged`).
    public static func resolve(flags: CommandLineSettings, environment: [String: String]) -> Settings {
        let chosen = nonEmpty(flags.model) ?? nonEmpty(environment["AGENT_MODEL"])
        let model = chosen ?? defaultModel
        let key = nonEmpty(environment["OPENAI_API_KEY"])
        let baseURL = nonEmpty(flags.baseURL) ?? nonEmpty(environment["OPENAI_BASE_URL"])
        if flags.demo {
            return Settings(backend: .demo(reason: "the demo model was asked for"), model: model)
        }
        let streamOff = ["0", "false", "no", "off"].contains(environment["AGENT_STREAM"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
        let streams = !flags.noStream && !streamOff
        if key == nil && baseURL == nil {
            let ports = environment["AGENT_LOCAL_PORTS"].map(localPorts) ?? LocalServerProbe.defaultPorts
            return Settings(backend: .localOrDemo(ports: ports), model: model, streams: streams, modelIsChosen: chosen != nil)
        }
        let url = OpenAIConfiguration.trimmingTrailingSlashes(baseURL ?? OpenAIConfiguration.defaultBaseURL)
        return Settings(backend: .endpoint(baseURL: url, apiKey: key), model: model, streams: streams, modelIsChosen: chosen != nil)
    }

    /// `AGENT_LOCAL_PORTS`: port numbers separated by commas or spaces; anything else in it is skipped,
    /// and at most 16 are kept. Empty (or none valid): no probing.
    static func localPorts(_ text: String) -> [Int] {
        let ports = text.split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { Int($0) }.filter { (1...65535).contains($0) }
        return Array(ports.prefix(16))
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }
}
