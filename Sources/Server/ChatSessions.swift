import Agent
import Foundation
import Synchronization

/// Where `POST /chat` keeps its conversations, by the `session` id it hands out. In memory for now;
/// a store that survives restarts plugs in here.
public protocol ChatSessionStore: Sendable {
    /// The conversation `id` names, or a new one (with a new id) when `id` is nil; nil for an id
    /// not known (never handed out, or forgotten).
    func conversation(_ id: String?) -> (id: String, agent: Agent)?
}

/// The most recent ``limit`` conversations in memory; the least recently used one is forgotten first.
public final class InMemoryChatSessions: ChatSessionStore {
    private struct State {
        var agents: [String: (agent: Agent, used: Int)] = [:]
        var clock = 0
        var nextConversation = 1
    }

    private let state = Mutex(State())
    private let makeAgent: @Sendable (Int) -> Agent
    public let limit: Int

    /// - Parameter makeAgent: a new conversation's agent, given its number (the scheduler groups its
    ///   tool calls by it).
    public init(limit: Int = 100, makeAgent: @escaping @Sendable (Int) -> Agent) {
        self.limit = max(1, limit)
        self.makeAgent = makeAgent
    }

    public func conversation(_ id: String?) -> (id: String, agent: Agent)? {
        state.withLock { state in
            state.clock += 1
            if let id {
                guard let known = state.agents[id] else { return nil }
                state.agents[id]?.used = state.clock
                return (id, known.agent)
            }
            if state.agents.count >= limit, let oldest = state.agents.min(by: { $0.value.used < $1.value.used })?.key {
                state.agents[oldest] = nil
            }
            let id = UUID().uuidString.lowercased()
            let agent = makeAgent(state.nextConversation)
            state.nextConversation += 1
            state.agents[id] = (agent, state.clock)
            return (id, agent)
        }
    }
}
