import Foundation

/// Which models of one endpoint are asked without streaming, and when a streamed request was refused.
///
/// Some servers cannot stream when tools are offered (llama-cpp-python's server with
/// `tool_choice: "auto"` answers 200 with an empty body). A streamed request that offers tools is
/// refused when the server answers:
/// - 2xx whose body ended cleanly without a single SSE event with data (`[DONE]` counts as one):
///   an empty body, only blank lines or comments, or an empty or blank `application/json` body;
/// - 4xx or 5xx other than 401 and 429 whose body (up to the 1 MiB read of an error body) holds, in
///   any case, "stream" together with "not supported", "unsupported" or "does not support"
///   (e.g. "Streaming is not supported with tools", OpenAI's "Unsupported value: 'stream' ...").
///
/// A refused request is repeated once without streaming, before any retry of the refusal itself. When
/// that answer arrives the model is remembered for the rest of the session (this object lives as
/// long as the client, which serves one base URL), and the first time one `.notice` says so.
/// A stream that broke off after an event, a transport failure, and a refusal of a request without
/// tools stay the errors they were.
final class StreamingFallback: Sendable {
    /// A streamed request the server refused as described above.
    struct Refusal: Error {}

    private let wholeAnswerModels = ModelSet()

    /// Whether requests for `model` still stream.
    func streams(_ model: String) -> Bool {
        !wholeAnswerModels.contains(model)
    }

    /// Asks for `model` without streaming from now on; true the first time, when the notice is due.
    func stopStreaming(_ model: String) -> Bool {
        wholeAnswerModels.insert(model)
    }

    /// Whether an error answer says that streaming is what the server does not support.
    static func saysStreamingIsUnsupported(status: Int, body: Data) -> Bool {
        guard (400..<600).contains(status), status != 401, status != 429 else { return false }
        let text = String(decoding: body, as: UTF8.self).lowercased()
        return text.contains("stream")
            && ["not supported", "unsupported", "does not support"].contains { text.contains($0) }
    }

    /// The one sentence the user reads when a model stops streaming.
    static func notice(baseURL: String, model: String) -> String {
        "The server at \(baseURL) could not stream tool calls for \(model), so its answers now come whole, not word by word, for the rest of this session."
    }
}
