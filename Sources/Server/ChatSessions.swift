import Agent
import Foundation
import LLM
import Store
import Synchronization

/// Where `POST /chat` keeps its conversations, by the `session` id it hands out.
public protocol ChatSessionStore: Sendable {
    /// The conversation `id` names, or a new one (with a new id) when `id` is nil; nil for an id not
    /// known (never handed out, or forgotten).
    /// - Throws: a `Problem` when the conversation is known but cannot be continued.
    func conversation(_ id: String?) async throws(Problem) -> ChatConversation?
}

/// One conversation of `POST /chat`: the id its clients send, its agent, and what records its turns.
public struct ChatConversation: Sendable {
    public let id: String
    public let agent: Agent
    /// Writes its turns to the session database; nil when nothing is recorded.
    public let recorder: SessionRecorder?
}

/// The most recent ``limit`` conversations in memory, the least recently used forgotten first. With an
/// ``ChatArchive``, every conversation is also a session in the database: its turns are recorded, and
/// an id no longer (or not yet, after a restart) in memory is read back from there.
///
/// Ids are random UUIDs, not the database's session numbers: on loopback without a token any local
/// process may call the API, and a conversation's id is what lets its client, and no one else, go on.
public final class ChatSessions: ChatSessionStore {
    private struct Entry {
        var agent: Agent
        var recorder: SessionRecorder?
        var used: Int
    }

    private struct State {
        var entries: [String: Entry] = [:]
        var clock = 0
        var nextConversation = 1
    }

    /// The longest id a client may send (a UUID has 36 characters).
    public static let idLimit = 64

    private let state = Mutex(State())
    private let makeAgent: @Sendable (Int) -> Agent
    private let archive: ChatArchive?
    public let limit: Int

    /// - Parameters:
    ///   - archive: the session database conversations are recorded in and continued from; nil keeps
    ///     them in memory only.
    ///   - makeAgent: a new conversation's agent, given its number (the scheduler groups its tool calls by it).
    public init(limit: Int = 100, archive: ChatArchive? = nil, makeAgent: @escaping @Sendable (Int) -> Agent) {
        self.limit = max(1, limit)
        self.archive = archive
        self.makeAgent = makeAgent
    }

    public func conversation(_ id: String?) async throws(Problem) -> ChatConversation? {
        guard let id else {
            let id = UUID().uuidString.lowercased()
            return insert(id, messages: [], recorder: archive?.recorder(chatID: id))
        }
        if let known = recent(id) { return known }
        guard let archive, let (recorder, messages) = try await archive.load(chatID: id) else { return nil }
        return insert(id, messages: messages, recorder: recorder)
    }

    /// Conversation `id` when it is in memory, now the most recently used.
    private func recent(_ id: String) -> ChatConversation? {
        state.withLock { state in
            guard let entry = state.entries[id] else { return nil }
            state.clock += 1
            state.entries[id]?.used = state.clock
            return ChatConversation(id: id, agent: entry.agent, recorder: entry.recorder)
        }
    }

    /// A new agent for `id` holding `messages`, in memory (the least recently used conversation forgotten
    /// beyond ``limit``); the one already there if another request read it back meanwhile.
    private func insert(_ id: String, messages: [ChatMessage], recorder: SessionRecorder?) -> ChatConversation {
        state.withLock { state in
            state.clock += 1
            if let entry = state.entries[id] {
                state.entries[id]?.used = state.clock
                return ChatConversation(id: id, agent: entry.agent, recorder: entry.recorder)
            }
            if state.entries.count >= limit, let oldest = state.entries.min(by: { $0.value.used < $1.value.used })?.key {
                state.entries[oldest] = nil
            }
            let agent = makeAgent(state.nextConversation)
            state.nextConversation += 1
            if !messages.isEmpty { agent.restore(messages) }
            state.entries[id] = Entry(agent: agent, recorder: recorder, used: state.clock)
            return ChatConversation(id: id, agent: agent, recorder: recorder)
        }
    }
}
