import Hummingbird
import JSON

/// A client error as an RFC 9457 problem body (`application/problem+json`): a sentence a person can act
/// on, the status, and the request field at fault (a JSON pointer into the body, or a query parameter's
/// name), so a client can point at it.
public struct Problem: Error, HTTPResponseError, Sendable, Equatable {
    public var status: HTTPResponse.Status
    public var title: String
    public var detail: String
    /// The field at fault: `/priority`, `/payload/function_name`, `limit`; nil when no one field is.
    public var field: String?
    /// Seconds to wait before trying again (429, 503).
    public var retryAfter: Int?
    /// The methods the path answers (405).
    var allow: [String]?
    /// Asks for a bearer token (401).
    var challenge = false

    public init(_ status: HTTPResponse.Status, _ detail: String, field: String? = nil, retryAfter: Int? = nil) {
        self.status = status
        self.title = status.reasonPhrase
        self.detail = detail
        self.field = field
        self.retryAfter = retryAfter
    }

    public static func invalid(_ field: String, _ detail: String) -> Problem {
        Problem(.unprocessableContent, detail, field: field)
    }

    /// A request body that must be a JSON object: 400 when it is not JSON, 422 when it is another value.
    public static func jsonObject(_ bytes: [UInt8]) throws(Problem) -> [String: JSONValue] {
        let value: JSONValue
        do {
            value = try JSONParser.value(bytes)
        } catch {
            throw Problem(.badRequest, "The body is not JSON: \(error).", field: "")
        }
        guard let object = value.objectValue else { throw Problem.invalid("", "The body must be a JSON object.") }
        return object
    }

    public var body: JSONValue {
        var object: [String: JSONValue] = [
            "type": "about:blank", "title": .string(title), "status": .int(Int64(status.code)), "detail": .string(detail),
        ]
        if let field { object["field"] = .string(field) }
        return .object(object)
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var headers: HTTPFields = [.contentType: "application/problem+json"]
        if let retryAfter { headers[.retryAfter] = String(retryAfter) }
        if let allow { headers[.allow] = allow.joined(separator: ", ") }
        if challenge { headers[.wwwAuthenticate] = "Bearer" }
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: body.jsonString)))
    }
}
