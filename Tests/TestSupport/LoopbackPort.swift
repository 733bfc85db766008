import Foundation

/// Ports on 127.0.0.1 for tests that need one by number.
public enum LoopbackPort {
    /// A port nothing listens on now: bound by the kernel's choice, then closed. A refused connection
    /// there fails at once; a server started on it right away will very likely get it.
    public static func unused() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
        }
        guard fd >= 0, bound else { throw CocoaError(.fileReadUnknown, userInfo: [NSLocalizedDescriptionKey: "no loopback port: errno \(errno)"]) }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
