/// The limits of the Tools layer in one place.
public enum ToolLimits {
    /// The largest `tools.d` file read: 1 MiB. A larger file is a diagnostic; the others still load.
    public static let maxFileBytes = 1 << 20
}
