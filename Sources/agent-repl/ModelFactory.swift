import Agent
import LLM
import REPL

/// Picks the model the settings ask for: the libcurl client for an endpoint, or the demo model.
enum ModelFactory {
    static func make(settings: Settings, timing: ChunkTiming?) -> any ChatModel {
        switch settings.backend {
        case .demo:
            return DemoModel()
        case .endpoint(let baseURL, let apiKey):
            var onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?
            if let timing { onBodyChunk = { timing.record($0) } }
            return OpenAIClient(configuration: OpenAIConfiguration(
                baseURL: baseURL, apiKey: apiKey, model: settings.model, streams: settings.streams, onBodyChunk: onBodyChunk))
        }
    }
}
