extension Character {
    /// True for 0-9 only: `isNumber` would also accept other scripts' digits and fractions like "½".
    var isASCIIDigit: Bool { ("0"..."9").contains(self) }
}
