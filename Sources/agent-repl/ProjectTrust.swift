import Foundation
import Tools

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Decides at start whether the working folder's `./tools.d` and `./.env` are read: yes when the
/// folder is trusted; otherwise, on a terminal, the user is asked once (yes trusts it for good);
/// without one they are skipped with one line on stderr.
enum ProjectTrust {
    static func decide(folder: String, environment: [String: String], terminalPath: String = "/dev/tty") -> Bool {
        if FolderTrust.isTrusted(folder, environment: environment) { return true }
        let files = FolderTrust.projectFiles(in: folder, environment: environment)
        if files.isEmpty { return false }
        let list = FolderTrust.listFile(environment: environment)
        guard isatty(0) == 1, TerminalConfirmation.isAvailable(terminalPath: terminalPath) else {
            Output.err("Not reading this folder's \(files.description): the folder is not trusted. "
                + "To trust it, add its path to \(list), or type /trust at the prompt.\n")
            return false
        }
        guard TerminalConfirmation.askYesNo("Trust this folder? It has \(files.description) [y/N] ", terminalPath: terminalPath) else {
            return false
        }
        do {
            try FolderTrust.trust(folder, environment: environment)
        } catch {
            Output.err("Warning: could not add the folder to \(list): \(error.localizedDescription)\n")
        }
        return true
    }
}
