/// Whole milliseconds of a duration, as logs and PostgreSQL settings take them.
extension Duration {
    public var wholeMilliseconds: Int64 {
        components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000
    }
}
