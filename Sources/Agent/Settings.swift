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

    public init(baseURL: String? = nil, model: String? = nil, demo: Bool = false) {
        self.baseURL = baseURL
        self.model = model
        self.demo = demo
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

    /// Resolves the settings. `environment` should already include `.env` (see `DotEnv.merged`).
    public static func resolve(flags: CommandLineSettings, environment: [String: String]) -> Settings {
        let model = nonEmpty(flags.model) ?? nonEmpty(environment["AGENT_MODEL"]) ?? defaultModel
        let key = nonEmpty(environment["OPENAI_API_KEY"])
        let baseURL = nonEmpty(flags.baseURL) ?? nonEmpty(environment["OPENAI_BASE_URL"])
        if flags.demo {
            return Settings(backend: .demo(reason: "--demo"), model: model)
        }
        if key == nil && baseURL == nil {
            return Settings(backend: .demo(reason: "no OPENAI_API_KEY and no --base-url"), model: model)
        }
        let url = OpenAIConfiguration.trimmingTrailingSlashes(baseURL ?? OpenAIConfiguration.defaultBaseURL)
        return Settings(backend: .endpoint(baseURL: url, apiKey: key), model: model)
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }
}
