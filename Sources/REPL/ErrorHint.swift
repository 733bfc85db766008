import Agent
import LLM

/// What a user reads for a failed turn: the library's sentence, plus how to fix it with this
/// program's flags (the libraries never name them).
public enum ErrorHint {
    /// The error's sentence followed by the command-line hint for its code, if any.
    public static func message(for error: any Error) -> String {
        let text = String(describing: error)
        guard let hint = hint(for: error) else { return text }
        return text + " " + hint
    }

    static func hint(for error: any Error) -> String? {
        switch error {
        case let error as AgentError:
            switch error.code {
            case .stepLimit: return "Raise the limit with --max-steps."
            case .cancelled, .inconsistentAnswer: return nil
            }
        case let error as ChatError:
            switch error.code {
            case .missingAPIKey: return "Or run with --demo for the offline demo model."
            case .connectionRefused, .hostNotFound, .connectTimeout, .endpointNotFound:
                return "Set the endpoint with --base-url or OPENAI_BASE_URL."
            case .modelNotFound: return "Choose another with --model or /model."
            default: return nil
            }
        default:
            return nil
        }
    }
}
