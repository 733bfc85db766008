import Foundation
import Tools

/// Where the session database lives and whether logging is switched off.
public enum StoreLocation {
    /// `$XDG_DATA_HOME/agent-repl`, falling back to `~/.local/share/agent-repl`; nil without either.
    public static func dataFolder(environment: [String: String]) -> URL? {
        if let xdg = environment["XDG_DATA_HOME"], !xdg.isEmpty {
            return URL(fileURLWithPath: xdg).appendingPathComponent("agent-repl")
        }
        if let home = environment["HOME"], !home.isEmpty {
            return URL(fileURLWithPath: home).appendingPathComponent(".local/share/agent-repl")
        }
        return nil
    }

    /// `explicit` (the front end's choice), else `$AGENT_DB`, else `agent-repl.db` in the data folder.
    public static func databasePath(explicit: String?, environment: [String: String]) -> String? {
        if let explicit, !explicit.isEmpty { return explicit }
        if let path = environment["AGENT_DB"], !path.isEmpty { return path }
        return dataFolder(environment: environment)?.appendingPathComponent("agent-repl.db").path
    }

    /// The file whose presence switches logging off for the user (`logs off`), in the config folder.
    public static func loggingOffMarker(environment: [String: String]) -> String {
        (FolderTrust.configFolder(environment: environment) as NSString).appendingPathComponent("logging-off")
    }

    public static func isLoggingOff(environment: [String: String]) -> Bool {
        FileManager.default.fileExists(atPath: loggingOffMarker(environment: environment))
    }

    /// Switches logging off (creating the marker) or on (removing it).
    public static func setLoggingOff(_ off: Bool, environment: [String: String]) throws {
        let marker = loggingOffMarker(environment: environment)
        if off {
            try FileManager.default.createDirectory(
                atPath: (marker as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
            try Data("Logging to the session database is off while this file exists.\n".utf8)
                .write(to: URL(fileURLWithPath: marker))
        } else if FileManager.default.fileExists(atPath: marker) {
            try FileManager.default.removeItem(atPath: marker)
        }
    }
}
