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
    /// `--api chat|responses`.
    public var api: WireAPI?

    public init(baseURL: String? = nil, model: String? = nil, demo: Bool = false, noStream: Bool = false, api: WireAPI? = nil) {
        self.baseURL = baseURL
        self.model = model
        self.demo = demo
        self.noStream = noStream
        self.api = api
    }
}

/// A setting from the environment or `.env` that has no meaning, as a sentence naming it and its values.
public struct SettingsError: Error, Sendable, Hashable, CustomStringConvertible {
    public var message: String
    public var description: String { message }
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
    /// Which API the endpoint is spoken to in: `--api`, else `AGENT_API`, else Chat Completions.
    /// The demo model ignores it.
    public var api: WireAPI = .chat

    public init(backend: Backend, model: String, streams: Bool = true, modelIsChosen: Bool = false, api: WireAPI = .chat) {
        self.backend = backend
        self.model = model
        self.streams = streams
        self.modelIsChosen = modelIsChosen
        self.api = api
    }

    /// Resolves the settings. `environment` should already include `.env` (see `DotEnv.merged`).
    /// - Throws: `SettingsError` for an `AGENT_API` that is neither `chat` nor `responses`.
    public static func resolve(flags: CommandLineSettings, environment: [String: String]) throws(SettingsError) -> Settings {
        let api: WireAPI
        if let flag = flags.api { api = flag } else { api = try wireAPI(environment["AGENT_API"]) }
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
            return Settings(backend: .localOrDemo(ports: ports), model: model, streams: streams, modelIsChosen: chosen != nil, api: api)
        }
        let url = OpenAIConfiguration.trimmingTrailingSlashes(baseURL ?? OpenAIConfiguration.defaultBaseURL)
        return Settings(backend: .endpoint(baseURL: url, apiKey: key), model: model, streams: streams, modelIsChosen: chosen != nil, api: api)
    }

    /// `AGENT_LOCAL_PORTS`: port numbers separated by commas or spaces; anything else in it is skipped,
    /// and at most 16 are kept. Empty (or none valid): no probing.
    static func localPorts(_ text: String) -> [Int] {
        let ports = text.split(whereSeparator: { $0 == "," || $0 == " " }).compactMap { Int($0) }.filter { (1...65535).contains($0) }
        return Array(ports.prefix(16))
    }

    /// `AGENT_API`: unset or blank is Chat Completions; case and surrounding spaces do not matter.
    private static func wireAPI(_ value: String?) throws(SettingsError) -> WireAPI {
        guard let text = nonEmpty(value) else { return .chat }
        let name = text.trimmingCharacters(in: .whitespaces).lowercased()
        guard let api = WireAPI(rawValue: name) else {
            let names = WireAPI.allCases.map(\.rawValue).joined(separator: " or ")
            // The value itself is not echoed: an environment variable may hold anything.
            throw SettingsError(message: "AGENT_API must be \(names) (as --api).")
        }
        return api
    }

    private static func nonEmpty(_ s: String?) -> String? {
        guard let s, !s.trimmingCharacters(in: .whitespaces).isEmpty else { return nil }
        return s
    }
}
