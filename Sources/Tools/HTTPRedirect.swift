import Foundation
import HTTP

/// Which redirects an `http` tool follows, decided one answer at a time (the executor loops).
///
/// libcurl's own following re-sends every header the declaration added (an `X-Api-Key`, say) to
/// whatever host a `Location` names, so the tool follows redirects itself:
/// - only 301, 302, 303, 307 and 308 with a `Location`; any other answer is the result;
/// - only to `http` or `https`, and only within the first request's origin (scheme, host, port):
///   a redirect elsewhere is refused, so the declaration's headers and body never leave that origin;
/// - at most `limit` in a row;
/// - 303, and 301 or 302 after a POST, continue as a GET without the body (as browsers and libcurl do).
struct HTTPRedirect {
    static let limit = 5

    enum Decision {
        /// Not a redirect: this answer is the result.
        case done
        case follow(HTTPRequest)
        /// A sentence for the model.
        case refused(String)
    }

    /// Where the first request went.
    let origin: Origin

    struct Origin: Equatable {
        var scheme: String
        var host: String
        var port: Int

        init?(_ url: URL) {
            guard let scheme = url.scheme?.lowercased(), scheme == "http" || scheme == "https", let host = url.host?.lowercased() else { return nil }
            self.scheme = scheme
            self.host = host
            port = url.port ?? (scheme == "https" ? 443 : 80)
        }
    }

    init?(first request: HTTPRequest) {
        guard let url = URL(string: request.url), let origin = Origin(url) else { return nil }
        self.origin = origin
    }

    func decide(_ head: HTTPResponseHead, after request: HTTPRequest) -> Decision {
        guard [301, 302, 303, 307, 308].contains(head.status), let location = head.headers["location"], !location.isEmpty else { return .done }
        guard let target = URL(string: location, relativeTo: URL(string: request.url))?.absoluteURL else {
            return .refused("the server redirected (HTTP \(head.status)) to '\(location)', which is not a URL")
        }
        guard let origin = Origin(target) else {
            return .refused("the server redirected (HTTP \(head.status)) to \(target.absoluteString); only http and https are followed")
        }
        guard origin == self.origin else {
            return .refused("the server redirected (HTTP \(head.status)) to \(target.absoluteString), another origin; "
                + "redirects are followed only within \(self.origin.scheme)://\(self.origin.host):\(self.origin.port), "
                + "so the tool's headers are not sent elsewhere")
        }
        var next = request
        next.url = target.absoluteString
        let method = request.method.uppercased()
        if (head.status == 303 && method != "HEAD") || ((head.status == 301 || head.status == 302) && method == "POST") {
            next.method = "GET"
            next.body = nil
            next.headers.removeAll { $0.name.lowercased() == "content-type" || $0.name.lowercased() == "content-length" }
        }
        return .follow(next)
    }
}
