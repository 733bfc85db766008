import CPosix
import Foundation

/// What agent-repl does to itself at start so the key in its environment and memory stays there:
/// the process is not dumpable (no process of the same user, a tool included, may read
/// /proc/PID/environ or /proc/PID/mem or attach a debugger) and a crash writes no core file.
enum ProcessHardening {
    struct Failure: Error, CustomStringConvertible {
        enum Code: Sendable { case notDumpable, noCoreDumps }
        var code: Code
        var errno: Int32

        var description: String {
            let what = code == .notDumpable ? "make itself undumpable" : "turn off core dumps"
            return "agent-repl could not \(what): \(String(cString: strerror(errno))). Other processes of this user may be able to read its environment."
        }
    }

    /// Applies both protections; the first that fails is thrown.
    static func apply() throws(Failure) {
        try check(cposix_set_not_dumpable(), .notDumpable)
        try check(cposix_disable_core_dumps(), .noCoreDumps)
    }

    private static func check(_ status: Int32, _ code: Failure.Code) throws(Failure) {
        if status != 0 { throw Failure(code: code, errno: status) }
    }
}
