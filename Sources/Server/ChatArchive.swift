import Agent
import Dispatch
import Foundation
import LLM
import Scheduler
import Store
import Synchronization

/// The session database behind `POST /chat`: each conversation is a session there, its turns (prompt,
/// answer, model calls with their tokens, tool tasks with their times) recorded by a `SessionRecorder`
/// as the REPL records its own, with the id its clients hold stored beside it; a conversation not in
/// memory is read back from it (as `--resume` reads one), so a restarted server continues it.
///
/// A database that cannot be written is said once, through `warn`; the conversations go on in memory.
public final class ChatArchive: Sendable {
    public let store: SessionStore
    private let folder: String
    private let api: String
    private let scheduler: ToolScheduler
    private let warned = Mutex(false)
    private let warn: @Sendable (String) -> Void

    /// - Parameters:
    ///   - folder, api: what the sessions record as their working folder and the endpoint's API.
    ///   - scheduler: the scheduler the conversations' tool calls run on (their tasks are read from it).
    ///   - warn: told the first failure's sentence; later ones are not repeated.
    public init(store: SessionStore, folder: String, api: String, scheduler: ToolScheduler, warn: @escaping @Sendable (String) -> Void) {
        self.store = store
        self.folder = folder
        self.api = api
        self.scheduler = scheduler
        self.warn = warn
    }

    /// Every recorder's failures end here: only the first is said.
    private func warnOnce(_ sentence: String) {
        let first = warned.withLock { warned in
            defer { warned = true }
            return !warned
        }
        if first { warn(sentence) }
    }

    /// Loads the learned `sjf` estimates into the scheduler and marks turns whose process died as
    /// interrupted (what a REPL does at its start).
    public func prepare() {
        SessionRecorder(store: store, folder: folder, api: api, scheduler: scheduler, warn: { [self] in warnOnce($0) }).prepare()
    }

    /// The recorder of conversation `chatID`; its session is created with its first turn.
    func recorder(chatID: String) -> SessionRecorder {
        SessionRecorder(store: store, folder: folder, api: api, chatID: chatID, scheduler: scheduler, warn: { [self] in warnOnce($0) })
    }

    /// Conversation `chatID` as recorded: a recorder that goes on with its session, and the messages the
    /// model saw (those of the turns that ended, as `--resume` reads them); nil when no session has the id.
    /// - Throws: 422 beyond `StoreLimits.resumedMessages` messages; 503 when the database cannot be read.
    func load(chatID: String) async throws(Problem) -> (recorder: SessionRecorder, messages: [ChatMessage])? {
        let read = await Self.offThePool { [store] in
            Result { () throws -> (session: Int64, messages: [ChatMessage])? in
                guard let session = try store.session(chatID: chatID) else { return nil }
                return (session, try store.conversation(of: session))
            }
        }
        switch read {
        case .success(nil):
            return nil
        case .success(let found?):
            let recorder = recorder(chatID: chatID)
            recorder.continueSession(found.session)
            return (recorder, found.messages)
        case .failure(let error as StoreError) where error.code == .tooLarge:
            throw Problem(
                .unprocessableContent, "The conversation has more than \(StoreLimits.resumedMessages) messages, too many to continue; start a new one.",
                field: "/session")
        case .failure(let error):
            warnOnce("Could not read a conversation from the session database: \(error)")
            throw Problem(.serviceUnavailable, "The conversation could not be read from the session database.", field: "/session", retryAfter: 5)
        }
    }

    /// Runs `work` (database calls, which may wait out another process's lock for seconds) on a thread
    /// outside Swift's cooperative pool, whose few threads serve every request.
    static func offThePool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async { continuation.resume(returning: work()) }
        }
    }
}
