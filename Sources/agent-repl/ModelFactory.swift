import AgentRuntime

/// Picks the model the settings ask for.
enum ModelFactory {
    static func make(settings: Settings, onBodyChunk: (@Sendable (ContinuousClock.Instant) -> Void)?) -> any ChatModel {
        switch settings.backend {
        case .demo:
            return DemoModel()
        case .endpoint:
            return DemoModel()  // replaced by the libcurl client when it lands
        }
    }
}
