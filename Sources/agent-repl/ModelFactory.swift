import Agent
import LLM
import REPL

/// Picks the model the settings ask for: the libcurl client of the API asked for (Chat Completions or
/// Responses) for an endpoint, or the demo model.
enum ModelFactory {
    static func make(settings: Settings, timing: ChunkTiming?) -> any ChatModel {
        switch settings.backend {
        case .demo, .localOrDemo:
            return DemoModel()
        case .endpoint(let baseURL, let apiKey):
            var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?
            if let timing { onBodyChunk = { timing.record($0) } }
            let configuration = OpenAIConfiguration(
                baseURL: baseURL, apiKey: apiKey, model: settings.model, streams: settings.streams, onBodyChunk: onBodyChunk)
            switch settings.api {
            case .chat: return OpenAIClient(configuration: configuration)
            case .responses: return ResponsesClient(configuration: configuration)
            }
        }
    }

    /// With no key and no endpoint: the first local server on the settings' ports (its first model,
    /// unless one was chosen) and a note for the banner, or the demo model. Other settings pass through.
    static func findLocalServer(_ settings: Settings) async -> (settings: Settings, note: String?) {
        guard case .localOrDemo(let ports) = settings.backend else { return (settings, nil) }
        let found = await LocalServerProbe.find(ports: ports)
        var resolved = settings
        guard let found else {
            resolved.backend = .demo(reason: "no OPENAI_API_KEY, no endpoint, and no local server answered")
            return (resolved, nil)
        }
        resolved.backend = .endpoint(baseURL: found.baseURL, apiKey: nil)
        if !settings.modelIsChosen { resolved.model = found.models[0] }
        return (resolved, "the local server found on port \(found.port)")
    }
}
