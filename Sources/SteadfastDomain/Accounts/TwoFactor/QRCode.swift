/// A QR code (ISO/IEC 18004) in byte mode at error-correction level M, versions 1–15 (up to
/// 412 bytes: far more than an `otpauth://` URI needs). Pure: bytes in, a square of modules
/// out; rendering (SVG) is the caller's.
///
/// The steps are the standard's: mode and length header, data, terminator and pad bytes;
/// Reed–Solomon error correction per block over GF(256) (polynomial 0x11D); blocks interleaved;
/// function patterns (finders, separators, timing, alignment, dark module, format and version
/// information); data placed in the two-column zigzag; the mask with the lowest penalty chosen.
public struct QRCode: Sendable, Equatable {
    /// 1–15.
    public let version: Int
    /// 0–7.
    public let mask: Int
    /// Modules per side: 17 + 4 × version.
    public let size: Int
    /// Row-major; `true` is dark.
    let modules: [Bool]

    /// Whether the module at `row`, `column` is dark.
    public subscript(row: Int, column: Int) -> Bool { modules[row * size + column] }

    /// The text's UTF-8 bytes, encoded; see ``encode(bytes:mask:)``.
    public static func encode(_ text: String, mask: Int? = nil) throws(QRCodeError) -> QRCode {
        try encode(bytes: Array(text.utf8), mask: mask)
    }

    /// `bytes` in the smallest version that holds them, with `mask` or (when `nil`) the mask
    /// of lowest penalty; ``QRCodeError/tooLong`` past version 15's capacity.
    public static func encode(bytes: [UInt8], mask: Int? = nil) throws(QRCodeError) -> QRCode {
        if let mask, !(0...7).contains(mask) { throw .invalidMask }
        guard let version = (1...15).first(where: { 4 + countBits($0) + 8 * bytes.count <= 8 * Layout.m[$0 - 1].dataCodewords }) else {
            throw .tooLong
        }
        let codewords = interleavedCodewords(dataCodewords(bytes, version: version), version: version)
        var grid = Grid(version: version)
        grid.drawFunctionPatterns()
        grid.place(codewords)
        let chosen = mask ?? (0...7).min(by: { grid.masked($0).penalty() < grid.masked($1).penalty() })!
        let final = grid.masked(chosen)
        return QRCode(version: version, mask: chosen, size: final.size, modules: final.modules)
    }

    /// Bits of the byte-mode character count for `version`.
    static func countBits(_ version: Int) -> Int { version <= 9 ? 8 : 16 }

    /// Mode, count, data, terminator and padding: exactly the version's data codewords.
    static func dataCodewords(_ bytes: [UInt8], version: Int) -> [UInt8] {
        let capacity = Layout.m[version - 1].dataCodewords * 8
        var bits: [Bool] = []
        func append(_ value: Int, _ count: Int) {
            for i in stride(from: count - 1, through: 0, by: -1) { bits.append((value >> i) & 1 == 1) }
        }
        append(0b0100, 4)
        append(bytes.count, countBits(version))
        for byte in bytes { append(Int(byte), 8) }
        append(0, min(4, capacity - bits.count))
        append(0, (8 - bits.count % 8) % 8)
        var output = stride(from: 0, to: bits.count, by: 8).map { start in
            bits[start..<start + 8].reduce(UInt8(0)) { $0 << 1 | ($1 ? 1 : 0) }
        }
        var pad: UInt8 = 0xEC
        while output.count < capacity / 8 {
            output.append(pad)
            pad = pad == 0xEC ? 0x11 : 0xEC
        }
        return output
    }

    /// The data split into blocks, each followed by its error-correction codewords, then
    /// interleaved: first byte of every block, second of every block, ..., then the same for the
    /// error-correction codewords.
    static func interleavedCodewords(_ data: [UInt8], version: Int) -> [UInt8] {
        let layout = Layout.m[version - 1]
        var blocks: [[UInt8]] = []
        var start = 0
        for (count, length) in [(layout.shortBlocks, layout.shortLength), (layout.longBlocks, layout.shortLength + 1)] {
            for _ in 0..<count {
                blocks.append(Array(data[start..<start + length]))
                start += length
            }
        }
        let divisor = ReedSolomon.divisor(degree: layout.ecPerBlock)
        let corrections = blocks.map { ReedSolomon.remainder($0, divisor: divisor) }
        var output: [UInt8] = []
        for i in 0...(layout.shortLength) {
            for block in blocks where i < block.count { output.append(block[i]) }
        }
        for i in 0..<layout.ecPerBlock {
            for correction in corrections { output.append(correction[i]) }
        }
        return output
    }

    /// Level M's block structure per version (ISO/IEC 18004 table 9).
    struct Layout {
        let ecPerBlock: Int
        let shortBlocks: Int
        let shortLength: Int
        let longBlocks: Int
        var dataCodewords: Int { shortBlocks * shortLength + longBlocks * (shortLength + 1) }

        static let m: [Layout] = [
            .init(ecPerBlock: 10, shortBlocks: 1, shortLength: 16, longBlocks: 0),
            .init(ecPerBlock: 16, shortBlocks: 1, shortLength: 28, longBlocks: 0),
            .init(ecPerBlock: 26, shortBlocks: 1, shortLength: 44, longBlocks: 0),
            .init(ecPerBlock: 18, shortBlocks: 2, shortLength: 32, longBlocks: 0),
            .init(ecPerBlock: 24, shortBlocks: 2, shortLength: 43, longBlocks: 0),
            .init(ecPerBlock: 16, shortBlocks: 4, shortLength: 27, longBlocks: 0),
            .init(ecPerBlock: 18, shortBlocks: 4, shortLength: 31, longBlocks: 0),
            .init(ecPerBlock: 22, shortBlocks: 2, shortLength: 38, longBlocks: 2),
            .init(ecPerBlock: 22, shortBlocks: 3, shortLength: 36, longBlocks: 2),
            .init(ecPerBlock: 26, shortBlocks: 4, shortLength: 43, longBlocks: 1),
            .init(ecPerBlock: 30, shortBlocks: 1, shortLength: 50, longBlocks: 4),
            .init(ecPerBlock: 22, shortBlocks: 6, shortLength: 36, longBlocks: 2),
            .init(ecPerBlock: 22, shortBlocks: 8, shortLength: 37, longBlocks: 1),
            .init(ecPerBlock: 24, shortBlocks: 4, shortLength: 40, longBlocks: 5),
            .init(ecPerBlock: 24, shortBlocks: 5, shortLength: 41, longBlocks: 5),
        ]

        /// Centres of the alignment patterns, per version (rows and columns alike).
        static let alignment: [[Int]] = [
            [], [6, 18], [6, 22], [6, 26], [6, 30], [6, 34], [6, 22, 38], [6, 24, 42], [6, 26, 46], [6, 28, 50],
            [6, 30, 54], [6, 32, 58], [6, 34, 62], [6, 26, 46, 66], [6, 26, 48, 70],
        ]
    }

    /// Reed–Solomon over GF(2^8) with the QR polynomial x^8 + x^4 + x^3 + x^2 + 1.
    enum ReedSolomon {
        static func multiply(_ x: UInt8, _ y: UInt8) -> UInt8 {
            var result: UInt16 = 0
            for i in stride(from: 7, through: 0, by: -1) {
                result = (result << 1) ^ ((result >> 7) * 0x11D)
                result ^= UInt16((y >> UInt8(i)) & 1) * UInt16(x)
            }
            return UInt8(result & 0xFF)
        }

        /// The generator polynomial's coefficients (highest first, leading 1 dropped).
        static func divisor(degree: Int) -> [UInt8] {
            var result = [UInt8](repeating: 0, count: degree)
            result[degree - 1] = 1
            var root: UInt8 = 1
            for _ in 0..<degree {
                for j in 0..<degree {
                    result[j] = multiply(result[j], root)
                    if j + 1 < degree { result[j] ^= result[j + 1] }
                }
                root = multiply(root, 0x02)
            }
            return result
        }

        static func remainder(_ data: [UInt8], divisor: [UInt8]) -> [UInt8] {
            var result = [UInt8](repeating: 0, count: divisor.count)
            for byte in data {
                let factor = byte ^ result.removeFirst()
                result.append(0)
                for i in result.indices { result[i] ^= multiply(divisor[i], factor) }
            }
            return result
        }
    }

    /// The module grid while it is built: which modules are function patterns, and their colour.
    struct Grid {
        let version: Int
        let size: Int
        var modules: [Bool]
        var isFunction: [Bool]

        init(version: Int) {
            self.version = version
            self.size = 17 + 4 * version
            self.modules = Array(repeating: false, count: size * size)
            self.isFunction = Array(repeating: false, count: size * size)
        }

        subscript(x: Int, y: Int) -> Bool {
            get { modules[y * size + x] }
            set { modules[y * size + x] = newValue }
        }

        mutating func setFunction(x: Int, y: Int, _ dark: Bool) {
            modules[y * size + x] = dark
            isFunction[y * size + x] = true
        }

        mutating func drawFunctionPatterns() {
            for i in 0..<size {
                setFunction(x: 6, y: i, i % 2 == 0)
                setFunction(x: i, y: 6, i % 2 == 0)
            }
            for (cx, cy) in [(3, 3), (size - 4, 3), (3, size - 4)] {
                for dy in -4...4 {
                    for dx in -4...4 where (0..<size).contains(cx + dx) && (0..<size).contains(cy + dy) {
                        let distance = max(abs(dx), abs(dy))
                        setFunction(x: cx + dx, y: cy + dy, distance != 2 && distance != 4)
                    }
                }
            }
            let centres = Layout.alignment[version - 1]
            for (i, cy) in centres.enumerated() {
                for (j, cx) in centres.enumerated() {
                    let last = centres.count - 1
                    if (i == 0 && j == 0) || (i == 0 && j == last) || (i == last && j == 0) { continue }
                    for dy in -2...2 {
                        for dx in -2...2 { setFunction(x: cx + dx, y: cy + dy, max(abs(dx), abs(dy)) != 1) }
                    }
                }
            }
            drawFormatBits(mask: 0)
            drawVersionBits()
        }

        /// The 15 format bits (level M, `mask`) in both copies, and the dark module.
        mutating func drawFormatBits(mask: Int) {
            let data = (0b00 << 3) | mask
            var remainder = data
            for _ in 0..<10 { remainder = (remainder << 1) ^ ((remainder >> 9) * 0x537) }
            let bits = ((data << 10) | remainder) ^ 0x5412
            func bit(_ i: Int) -> Bool { (bits >> i) & 1 == 1 }
            for i in 0...5 { setFunction(x: 8, y: i, bit(i)) }
            setFunction(x: 8, y: 7, bit(6))
            setFunction(x: 8, y: 8, bit(7))
            setFunction(x: 7, y: 8, bit(8))
            for i in 9..<15 { setFunction(x: 14 - i, y: 8, bit(i)) }
            for i in 0..<8 { setFunction(x: size - 1 - i, y: 8, bit(i)) }
            for i in 8..<15 { setFunction(x: 8, y: size - 15 + i, bit(i)) }
            setFunction(x: 8, y: size - 8, true)
        }

        /// The 18 version bits (versions 7 and up) in both corners.
        mutating func drawVersionBits() {
            guard version >= 7 else { return }
            var remainder = version
            for _ in 0..<12 { remainder = (remainder << 1) ^ ((remainder >> 11) * 0x1F25) }
            let bits = (version << 12) | remainder
            for i in 0..<18 {
                let dark = (bits >> i) & 1 == 1
                let a = size - 11 + i % 3, b = i / 3
                setFunction(x: a, y: b, dark)
                setFunction(x: b, y: a, dark)
            }
        }

        /// Codewords in the zigzag: two-column strips from the right, up then down, skipping
        /// the vertical timing column; remainder modules stay light.
        mutating func place(_ codewords: [UInt8]) {
            var index = 0
            var right = size - 1
            while right >= 1 {
                if right == 6 { right = 5 }
                let upward = (right + 1) & 2 == 0
                for vertical in 0..<size {
                    for j in 0..<2 {
                        let x = right - j
                        let y = upward ? size - 1 - vertical : vertical
                        if !isFunction[y * size + x] && index < codewords.count * 8 {
                            self[x, y] = (codewords[index >> 3] >> UInt8(7 - (index & 7))) & 1 == 1
                            index += 1
                        }
                    }
                }
                right -= 2
            }
        }

        /// A copy with `mask` applied to the data modules and its format bits drawn.
        func masked(_ mask: Int) -> Grid {
            var copy = self
            for y in 0..<size {
                for x in 0..<size where !isFunction[y * size + x] {
                    let invert = switch mask {
                    case 0: (x + y) % 2 == 0
                    case 1: y % 2 == 0
                    case 2: x % 3 == 0
                    case 3: (x + y) % 3 == 0
                    case 4: (x / 3 + y / 2) % 2 == 0
                    case 5: x * y % 2 + x * y % 3 == 0
                    case 6: (x * y % 2 + x * y % 3) % 2 == 0
                    default: ((x + y) % 2 + x * y % 3) % 2 == 0
                    }
                    if invert { copy[x, y].toggle() }
                }
            }
            copy.drawFormatBits(mask: mask)
            return copy
        }

        /// The standard's penalty score (rules N1–N4); the lowest wins.
        func penalty() -> Int {
            var score = 0
            let finderLike: [[Bool]] = [
                [true, false, true, true, true, false, true, false, false, false, false],
                [false, false, false, false, true, false, true, true, true, false, true],
            ]
            for horizontal in [true, false] {
                for a in 0..<size {
                    let line = (0..<size).map { b in horizontal ? self[b, a] : self[a, b] }
                    var run = 1
                    for b in 1...size {
                        if b < size && line[b] == line[b - 1] {
                            run += 1
                        } else {
                            if run >= 5 { score += 3 + run - 5 }
                            run = 1
                        }
                    }
                    if size >= 11 {
                        for b in 0...(size - 11) {
                            for pattern in finderLike where Array(line[b..<b + 11]) == pattern { score += 40 }
                        }
                    }
                }
            }
            for y in 0..<(size - 1) {
                for x in 0..<(size - 1) {
                    let colour = self[x, y]
                    if self[x + 1, y] == colour && self[x, y + 1] == colour && self[x + 1, y + 1] == colour { score += 3 }
                }
            }
            let dark = modules.lazy.filter { $0 }.count
            let percent = dark * 100 / (size * size)
            score += 10 * (abs(percent - 50) / 5)
            return score
        }
    }
}

/// Why text cannot be made into a ``QRCode``.
public enum QRCodeError: Error, Sendable, Equatable {
    /// More bytes than version 15 at level M holds (412).
    case tooLong
    /// A mask outside 0–7.
    case invalidMask
}
