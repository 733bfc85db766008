/// How much of a server's answer the client holds, and which numbers in it it accepts: the limits of
/// the LLM layer in one place. Anything beyond them fails the request with a `ChatError` sentence.
public enum StreamLimits {
    /// One SSE line, one event's joined `data:` lines, or one whole JSON answer: 16 MiB.
    public static let maxEventBytes = 16 << 20
    /// The largest tool-call `index` a stream chunk may carry.
    public static let maxToolCallIndex = Int(Int32.max)
    /// The largest `output_index` a Responses API event may carry.
    public static let maxOutputIndex = Int(Int32.max)
    /// The largest token count a usage chunk may report (2^53: every whole number up to it is exact
    /// as a Double).
    public static let maxTokenCount = 1 << 53
}
