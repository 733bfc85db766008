import Hummingbird

/// Turns the router's own errors (no such route, wrong method) into problem bodies like ours.
struct ProblemMiddleware<Context: RequestContext>: RouterMiddleware {
    /// The methods of each path, for 405 and its Allow header.
    static var methods: [String: [String]] {
        [
            "/": ["GET"], "/docs": ["GET"], "/openapi.json": ["GET"], "/healthz": ["GET"], "/tasks": ["GET", "POST"],
            "/stats": ["GET"], "/scheduler/strategy": ["PUT"], "/scheduler/workers": ["PUT"], "/chat": ["POST"],
            "/events": ["GET"],
        ]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = request.uri.path
            let allowed = Self.methods[path] ?? (path.hasPrefix("/tasks/") && !path.dropFirst(7).contains("/") ? ["GET", "DELETE"] : nil)
            if let allowed {
                var problem = Problem(.methodNotAllowed, "\(path) answers \(allowed.joined(separator: " and ")).")
                problem.allow = allowed
                throw problem
            }
            throw Problem(.notFound, "There is no \(path.prefix(200)); the API is described at /openapi.json.")
        } catch let error as HTTPError {
            throw Problem(error.status, error.body ?? error.status.reasonPhrase)
        }
    }
}

/// With a token set, every request but the pages, the document and the health check must carry
/// `Authorization: Bearer TOKEN` (401 otherwise). The comparison takes the same time wherever the
/// tokens differ.
struct BearerTokenMiddleware<Context: RequestContext>: RouterMiddleware {
    let token: String?
    static var open: Set<String> { ["/", "/docs", "/openapi.json", "/healthz"] }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let token, !Self.open.contains(request.uri.path) else { return try await next(request, context) }
        let given = request.headers[.authorization].flatMap { $0.hasPrefix("Bearer ") ? $0.dropFirst(7) : nil }
        guard let given, Self.equal(Array(given.utf8), Array(token.utf8)) else {
            var problem = Problem(.unauthorized, "This server needs a bearer token: send Authorization: Bearer TOKEN.")
            problem.challenge = true
            throw problem
        }
        return try await next(request, context)
    }

    static func equal(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for index in 0..<max(a.count, b.count) {
            difference |= (index < a.count ? a[index] : 0) ^ (index < b.count ? b[index] : 0)
        }
        return difference == 0
    }
}
