import JSON

extension Usage {
    /// Where one API puts the counts of its usage object.
    struct Fields: Sendable {
        var prompt: String
        var completion: String
        var total: String
        /// The object and key of the cached part of the input.
        var cached: (object: String, key: String)
        /// The object and key of the reasoning part of the output.
        var reasoning: (object: String, key: String)

        static let chatCompletions = Fields(
            prompt: "prompt_tokens", completion: "completion_tokens", total: "total_tokens",
            cached: ("prompt_tokens_details", "cached_tokens"), reasoning: ("completion_tokens_details", "reasoning_tokens"))
        static let responses = Fields(
            prompt: "input_tokens", completion: "output_tokens", total: "total_tokens",
            cached: ("input_tokens_details", "cached_tokens"), reasoning: ("output_tokens_details", "reasoning_tokens"))
    }

    /// The usage object's counts, or nil when it lacks the input or output count; a count that is not
    /// a whole number from 0 to `StreamLimits.maxTokenCount` throws (a huge number is never converted).
    static func parse(_ value: JSONValue, fields: Fields) throws(ChatError) -> Usage? {
        guard value[fields.prompt]?.numberValue != nil, value[fields.completion]?.numberValue != nil else { return nil }
        func count(_ key: String, in object: String? = nil) throws(ChatError) -> Int? {
            let holder = object.map { value[$0] } ?? value
            guard let number = holder?[key], number.numberValue != nil else { return nil }
            guard let whole = number.wholeNumber(in: 0...StreamLimits.maxTokenCount) else {
                let name = object.map { "\($0).\(key)" } ?? key
                throw ChatError(
                    .malformedResponse,
                    "The server reported \(name) \(StreamAccumulator.excerpt(number.jsonString)), not a whole number from 0 to \(StreamLimits.maxTokenCount).")
            }
            return whole
        }
        let prompt = try count(fields.prompt) ?? 0
        let completion = try count(fields.completion) ?? 0
        let total = try count(fields.total) ?? prompt + completion
        return Usage(
            promptTokens: prompt, completionTokens: completion, totalTokens: total,
            cachedPromptTokens: try count(fields.cached.key, in: fields.cached.object),
            reasoningTokens: try count(fields.reasoning.key, in: fields.reasoning.object))
    }
}
