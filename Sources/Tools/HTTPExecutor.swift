import Foundation
import HTTP
import JSON

/// Runs `http` tools: a Swift task does a buffered fetch through the runner's transport.
///
/// Terminating the execution cancels the task, which cancels the transfer at once. The body is read
/// up to the runner's output limit; the transfer stops there.
enum HTTPExecutor {
    /// Redirects are followed here, not by libcurl (`HTTPRedirect`); time is the scheduler's, so
    /// there is no idle timeout.
    static let settings = HTTPSettings(followRedirects: false, connectTimeout: .seconds(30), idleTimeout: nil)

    static func start(tool: ToolDeclaration, template: HTTPRequestTemplate, arguments: JSONValue, runner: ToolRunner, execution: ToolExecution) {
        let environment = runner.environmentBase.make(passEnv: tool.passEnv, extra: [:])
        let request = HTTPRequestBuilder.build(template, arguments: arguments, environment: environment, settings: settings)
        let transport = runner.transport
        let limit = runner.outputLimit
        execution.runTask({
            try await Self.fetch(request, transport: transport, limit: limit)
        }, describe: { "the HTTP request to \(request.url) failed: \($0)" })
    }

    /// Fetches `first`, following redirects as `HTTPRedirect` allows.
    static func fetch(_ first: HTTPRequest, transport: any HTTPTransport, limit: Int) async throws -> ToolResult {
        guard let policy = HTTPRedirect(first: first) else {
            return .failure("the URL \(first.url) is not an http or https URL")
        }
        var request = first
        var redirects = 0
        while true {
            let response = try await transport.fetch(request, limit: limit)
            switch policy.decide(response.head, after: request) {
            case .done:
                return result(response)
            case .refused(let reason):
                return ToolResult(outcome: .failed, error: reason, httpStatus: response.head.status)
            case .follow(let next):
                redirects += 1
                if redirects > HTTPRedirect.limit {
                    return ToolResult(outcome: .failed, error: "more than \(HTTPRedirect.limit) redirects; the last went to \(next.url)", httpStatus: response.head.status)
                }
                request = next
            }
        }
    }

    /// The model's view of an answer: the body as text with a note when cut; HTTP >= 400 is a failure.
    static func result(_ response: HTTPResponse) -> ToolResult {
        var text = String(decoding: response.body, as: UTF8.self)
        if response.isTruncated { text += "\n[response cut: showing the first \(response.body.count) bytes]" }
        let status = response.head.status
        if status >= 400 {
            return ToolResult(outcome: .failed, output: text, error: "the server answered HTTP \(status)", httpStatus: status)
        }
        return ToolResult(outcome: .success, output: text, httpStatus: status)
    }
}
