/// The limits of the JSON layer in one place.
public enum JSONLimits {
    /// The deepest nesting of arrays and objects the parser reads.
    public static let maxNestingDepth = 512
    /// The largest value of a length or count keyword (`maxLength`, `minItems`, ...) a schema may
    /// declare: 2^31 - 1, beyond any string or array a tool call carries.
    public static let maxCountKeyword = Int(Int32.max)
}
