#if canImport(Glibc)
import Glibc
#endif

/// The machine's load as the scheduler samples it (``SchedulerStateMachine/observedLoad(runnable:now:)``).
public enum SystemLoad {
    /// How often the load is sampled while CPU-bound tasks run.
    public static let samplePeriod: Duration = .milliseconds(200)

    /// Threads runnable on the machine right now, the caller included: the number before the slash in
    /// the fourth field of `/proc/loadavg` ("0.52 1.17 2.21 3/86 30987"); nil where there is no such file.
    @Sendable public static func runnable() -> Int? {
        let fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 128)
        let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return nil }
        return runnable(inLoadavg: buffer[..<count])
    }

    /// The runnable count in a `/proc/loadavg` line, or nil if it is not such a line.
    static func runnable(inLoadavg line: some Collection<UInt8>) -> Int? {
        let fields = line.split(separator: UInt8(ascii: " "))
        guard fields.count >= 4, let slash = fields[3].firstIndex(of: UInt8(ascii: "/")) else { return nil }
        let digits = fields[3][..<slash]
        guard !digits.isEmpty, digits.count <= 9, digits.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) else { return nil }
        return digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }
}
