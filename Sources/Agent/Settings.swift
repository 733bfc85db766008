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
    }

    public var backend: Backend
    public var model: String
    /// Whether answers are asked for as a stream: false with `--no-stream` or `AGENT_STREAM` set to
    /// 0, false, no or off. When true the client still stops streaming for a server that cannot
    /// stream tool calls.
    public var streams = true

    public init(backend: Backend, model: String, streams: Bool = true) {
        self.backend = backend
        self.model = model
        self.streams = streams
    }

    /// Resolves the settings. `environment` should already include `.env` (see `DotEnv.merged`).
    public static func resolve(flags: CommandLineSettings, environment: [String: String]) -> Settings {
        let model = nonEmpty(flags.model) ?? nonEmpty(environment["AGENT_MODEL"]) ?? defaultModel
        let key = nonEmpty(environment["OPENAI_API_KEY"])
        let baseURL = nonEmpty(flags.baseURL) ?? nonEmpty(environment["OPENAI_BASE_URL"])
        if flags.demo {
            return Settings(backend: .demo(reason: "the demo model was asked for"), model: model)
        }
        if key == nil && baseURL == nil {
            return Settings(backend: .demo(reason: "no OPENAI_API_KEY and no endpoint"), model: model)
        }
        let url = OpenAIConfiguration.trimmingTrailingSlashes(baseURL ?? OpenAIConfiguration.defaultBaseURL)
        let streamOff = ["0", "false", "no", "off"].contains(environment["AGENT_STREAM"]?.trimmingCharacters(in: .whitespaces).lowercased() ?? "")
        return Settings(backend: .endpoint(baseURL: url, apiKey: key), model: model, streams: !flags.noStream && !streamOff)
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }
}
