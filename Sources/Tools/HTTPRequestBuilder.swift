import Foundation
import HTTP
import JSON

/// Fills an `http` template from the call's arguments: `{param}` placeholders in the URL (percent-encoded),
/// in a text body and in a JSON body's strings; `${NAME}` in header values from the tool's environment.
enum HTTPRequestBuilder {
    static func build(_ t: HTTPRequestTemplate, arguments: JSONValue, environment: [String: String], settings: HTTPSettings) -> HTTPRequest {
        let args = arguments.objectValue ?? [:]
        let url = substitute(t.url) { name in args[name].map { percentEncode(plain($0)) } }
        var headers = t.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: expandEnvironment($0.value, environment)) }
        var body: String?
        switch t.body {
        case nil, .null?:
            body = nil
        case .string(let text)?:
            body = substitute(text) { name in args[name].map(plain) }
        case let value?:
            body = fillJSON(value, args).jsonString
            if !headers.contains(where: { $0.name.lowercased() == "content-type" }) {
                headers.append((name: "Content-Type", value: "application/json"))
            }
        }
        return HTTPRequest(url: url, method: t.method, headers: headers, body: body.map { Data($0.utf8) }, settings: settings)
    }

    /// A string that is exactly `{param}` becomes the argument's JSON value (or null when absent);
    /// placeholders inside longer strings are replaced by the argument's text.
    static func fillJSON(_ value: JSONValue, _ args: [String: JSONValue]) -> JSONValue {
        switch value {
        case .string(let s):
            if s.hasPrefix("{"), s.hasSuffix("}"), s.count > 2 {
                let name = String(s.dropFirst().dropLast())
                if isIdentifier(name) { return args[name] ?? .null }
            }
            return .string(substitute(s) { name in args[name].map(plain) })
        case .array(let items):
            return .array(items.map { fillJSON($0, args) })
        case .object(let members):
            return .object(members.mapValues { fillJSON($0, args) })
        default:
            return value
        }
    }

    /// Replaces `{name}` (letters, digits, `_`) using `lookup`; absent names become "".
    static func substitute(_ text: String, _ lookup: (String) -> String?) -> String {
        var out = ""
        var i = text.startIndex
        while i < text.endIndex {
            if text[i] == "{", let close = text[i...].firstIndex(of: "}") {
                let name = String(text[text.index(after: i)..<close])
                if isIdentifier(name) {
                    out += lookup(name) ?? ""
                    i = text.index(after: close)
                    continue
                }
            }
            out.append(text[i])
            i = text.index(after: i)
        }
        return out
    }

    /// `${NAME}` from the (secret-filtered) environment; unknown names become "".
    static func expandEnvironment(_ text: String, _ environment: [String: String]) -> String {
        var out = ""
        var rest = Substring(text)
        while let start = rest.range(of: "${") {
            out += rest[..<start.lowerBound]
            guard let close = rest[start.upperBound...].firstIndex(of: "}") else {
                out += rest[start.lowerBound...]
                return out
            }
            out += environment[String(rest[start.upperBound..<close])] ?? ""
            rest = rest[rest.index(after: close)...]
        }
        return out + rest
    }

    static func isIdentifier(_ s: String) -> Bool {
        !s.isEmpty && s.unicodeScalars.allSatisfy { CharacterSet.alphanumerics.contains($0) || $0 == "_" }
    }

    static func plain(_ v: JSONValue) -> String {
        switch v {
        case .string(let s): return s
        default: return v.jsonString
        }
    }

    static func percentEncode(_ s: String) -> String {
        var allowed = CharacterSet.alphanumerics
        allowed.insert(charactersIn: "-._~")
        return s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s
    }
}
