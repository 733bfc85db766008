import Foundation
import HTTP
import JSON

/// Finds an OpenAI-compatible server on this machine: with no key and no endpoint, agent-repl asks the
/// usual local servers' ports on loopback for `GET /v1/models`, all at once, and uses the first port of
/// the list that answers with a model.
///
/// What a port's answer must be to count: 200, a JSON body (at most `maxBodyBytes`) with a `data` array
/// holding at least one `{"id": ...}` that is a usable model name (see ``usableModelName(_:)``). A port
/// that refuses the connection fails at once; one that accepts and says nothing is given up at the
/// deadline. A port earlier in the list wins over a later one that answered first, so the choice does not
/// depend on which server happened to be quicker.
public enum LocalServerProbe {
    /// Ollama, llama.cpp's server, LM Studio, vLLM: their default ports, in this order of preference.
    public static let defaultPorts = [11434, 8080, 1234, 8000]
    /// The most a `/v1/models` answer may hold; a longer one is not read and the port does not count.
    public static let maxBodyBytes = 256 * 1024
    /// The longest model name taken from a server.
    public static let maxModelNameBytes = 1024

    /// A server that answered.
    public struct Found: Sendable, Equatable {
        public var port: Int
        /// `http://127.0.0.1:PORT/v1`.
        public var baseURL: String
        /// The usable model names it listed, in its order.
        public var models: [String]
    }

    /// The first of `ports` whose server lists a model, or nil when none does within `deadline`.
    public static func find(
        ports: [Int], transport: any HTTPTransport = CurlTransport(), deadline: Duration = .milliseconds(300)
    ) async -> Found? {
        let ports = ports.filter { (1...65535).contains($0) }
        guard !ports.isEmpty else { return nil }
        return await withTaskGroup(of: (Int, Found?).self) { group in
            for (position, port) in ports.enumerated() {
                group.addTask { (position, await ask(port: port, transport: transport, deadline: deadline)) }
            }
            // Answers in the list's order: a port counts once every port before it has failed.
            var answers: [Found??] = Array(repeating: nil, count: ports.count)
            for await (position, found) in group {
                answers[position] = .some(found)
                for answer in answers {
                    guard case .some(let found) = answer else { break }  // an earlier port is still open
                    if let found {
                        group.cancelAll()
                        return found
                    }
                }
            }
            return nil
        }
    }

    /// One port's answer, or nil.
    static func ask(port: Int, transport: any HTTPTransport, deadline: Duration) async -> Found? {
        let baseURL = "http://127.0.0.1:\(port)/v1"
        // One limit for the whole exchange (connecting included): the deadline, which cancels the transfer.
        let request = HTTPRequest(url: baseURL + "/models", headers: [("Accept", "application/json")])
        let response: HTTPResponse
        do {
            response = try await LLM.withDeadline(deadline) { try await transport.fetch(request, limit: maxBodyBytes) }
        } catch {
            return nil
        }
        guard response.head.status == 200, !response.isTruncated, let models = models(in: response.body), !models.isEmpty else {
            return nil
        }
        return Found(port: port, baseURL: baseURL, models: models)
    }

    /// The usable model names of a `/v1/models` body, or nil when it is not such a list.
    static func models(in body: Data) -> [String]? {
        guard let list = try? JSONValue.parse(String(decoding: body, as: UTF8.self)), let data = list["data"]?.arrayValue else {
            return nil
        }
        return data.compactMap { $0["id"]?.stringValue }.filter(usableModelName)
    }

    /// A name agent-repl will send and show: 1 to `maxModelNameBytes` bytes (llama-cpp-python names its
    /// model by the file's whole path) without control or format characters, so a hostile server's name
    /// cannot drive the terminal when shown.
    public static func usableModelName(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= maxModelNameBytes
            && !name.unicodeScalars.contains { $0.properties.generalCategory == .control || $0.properties.generalCategory == .format }
    }

}
