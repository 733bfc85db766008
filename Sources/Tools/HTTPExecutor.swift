import Foundation
import HTTP
import JSON

/// Runs `http` tools: a Swift task does a buffered fetch through the runner's transport.
///
/// Terminating the execution cancels the task, which cancels the transfer at once. The body is read
/// up to the runner's output limit; the transfer stops there.
enum HTTPExecutor {
    /// Tools follow redirects; time is the scheduler's, so there is no idle timeout.
    static let settings = HTTPSettings(followRedirects: true, maxRedirects: 5, connectTimeout: .seconds(30), idleTimeout: nil)

    static func start(tool: ToolDeclaration, template: HTTPRequestTemplate, arguments: JSONValue, runner: ToolRunner, execution: ToolExecution) {
        let environment = ToolEnvironment.make(base: runner.environment, passEnv: tool.passEnv, extra: [:])
        let request = HTTPRequestBuilder.build(template, arguments: arguments, environment: environment, settings: settings)
        let transport = runner.transport
        let limit = runner.outputLimit
        let task = Task {
            let result: ToolResult
            do {
                result = Self.result(try await transport.fetch(request, limit: limit))
            } catch is CancellationError {
                result = .failure("the tool was cancelled", outcome: .cancelled)
            } catch {
                result = .failure("the HTTP request to \(request.url) failed: \(error)")
            }
            execution.finish(result)
        }
        execution.attach(TaskControl(task: task))
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
