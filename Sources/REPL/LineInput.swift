/// What the user gave at the prompt.
public enum LineInput: Sendable, Equatable {
    case line(String)
    /// Ctrl-C at the prompt.
    case interrupted
    /// Ctrl-D, or the end of piped input.
    case endOfInput
}
