#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The CPU time and CPU demand of a process group, from `/proc`: what the scheduler reads, while a tool
/// runs, to tell a CPU-bound tool from one that waits, and to charge a CPU-bound one its CPU time.
///
/// Demand = time on a CPU + time runnable but waiting for a CPU (the first two fields of
/// `/proc/PID/schedstat`, nanoseconds, of each process whose group (`/proc/PID/stat`) is the tool's).
/// CPU time alone would not do: on a crowded machine a busy process gets a few percent of a core, like
/// one that mostly sleeps; but it waits for a core the rest of the time.
enum ProcessGroupCPU {
    /// No sum goes above this (about 290 years): adding can never overflow.
    private static let cap: Int64 = .max >> 3

    /// The summed CPU time and time waiting for a CPU of every live process of `group`; nil if `/proc`
    /// cannot be read or no member was found.
    static func reading(ofGroup group: pid_t) -> (cpu: Duration, waited: Duration)? {
        guard let dir = opendir("/proc") else { return nil }
        defer { closedir(dir) }
        var cpu: Int64 = 0, waited: Int64 = 0
        var found = false
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            guard let first = name.utf8.first, first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9"),
                  let stat = read("/proc/\(name)/stat"), groupOf(statLine: stat) == group,
                  let schedstat = read("/proc/\(name)/schedstat"), let times = times(schedstatLine: schedstat) else { continue }
            cpu = min(cpu + times.cpu, cap)
            waited = min(waited + times.waited, cap)
            found = true
        }
        return found ? (.nanoseconds(cpu), .nanoseconds(waited)) : nil
    }

    /// Up to 1 KiB of a `/proc` file.
    private static func read(_ path: String) -> ArraySlice<UInt8>? {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        var buffer = [UInt8](repeating: 0, count: 1024)
        let count = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
        return count > 0 ? buffer.prefix(count) : nil
    }

    /// The process group of a `stat` line: `pid (comm) state ppid pgrp ...`, where comm may hold spaces
    /// and ')'; the fields are counted from the last ')' (pgrp is the third after it).
    static func groupOf(statLine line: some BidirectionalCollection<UInt8>) -> pid_t? {
        guard let close = line.lastIndex(of: UInt8(ascii: ")")) else { return nil }
        let fields = line[line.index(after: close)...].split(separator: UInt8(ascii: " "), maxSplits: 4)
        guard fields.count >= 3 else { return nil }
        return pid_t(String(decoding: fields[2], as: UTF8.self))
    }

    /// Time on a CPU and time waiting for one, from a `schedstat` line (`run_ns wait_ns slices`); nil
    /// for anything else or negative numbers; each at most `cap`, so sums of them never overflow.
    static func times(schedstatLine line: some Collection<UInt8>) -> (cpu: Int64, waited: Int64)? {
        let fields = line.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\n") })
        guard fields.count >= 2, let run = Int64(String(decoding: fields[0], as: UTF8.self)),
              let wait = Int64(String(decoding: fields[1], as: UTF8.self)), run >= 0, wait >= 0 else { return nil }
        return (min(run, cap), min(wait, cap))
    }
}
