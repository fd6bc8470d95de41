/// SplitMix64: a small deterministic random number generator, the same on every machine for a
/// seed, so a generated or fuzzed input that fails can be reproduced from its seed.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) {
        state = seed
    }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// Fills `buffer` with pseudo-random bytes, eight per word, lowest byte first.
    public mutating func fill(_ buffer: inout ArraySlice<UInt8>) {
        var index = buffer.startIndex
        while index < buffer.endIndex {
            var word = next()
            for _ in 0..<8 where index < buffer.endIndex {
                buffer[index] = UInt8(truncatingIfNeeded: word)
                word >>= 8
                index += 1
            }
        }
    }
}
