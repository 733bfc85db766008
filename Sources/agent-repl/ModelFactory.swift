import Agent
import JSON
import LLM
import Scheduler
import Tools

/// Picks the model the settings ask for: the libcurl client for an endpoint, or the demo model.
enum ModelFactory {
    static func make(settings: Settings, onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?) -> any ChatModel {
        switch settings.backend {
        case .demo:
            return DemoModel()
        case .endpoint(let baseURL, let apiKey):
            return OpenAIClient(configuration: OpenAIConfiguration(
                baseURL: baseURL, apiKey: apiKey, model: settings.model, onBodyChunk: onBodyChunk))
        }
    }
}
