#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import NIOCore

/// An open file descriptor, closed when the last reference goes away.
///
/// `Sendable` because its only state is an immutable descriptor; reads use `pread` at explicit
/// offsets and writes happen from one task at a time, so sharing it between the tasks of a
/// thread pool is safe. Closing happens once, in `deinit`, so a descriptor number is never
/// closed twice (which could close someone else's file after reuse).
final class LocalOpenFile: Sendable {
    let descriptor: CInt

    init(descriptor: CInt) {
        self.descriptor = descriptor
    }

    deinit {
        _ = close(descriptor)
    }

    /// Opens `path` with `flags`; throws `SystemCallError`.
    static func open(_ path: String, flags: CInt, mode: mode_t = 0o640) throws -> LocalOpenFile {
        while true {
            let fd = path.withCString { systemOpen($0, flags | O_CLOEXEC, mode) }
            if fd >= 0 { return LocalOpenFile(descriptor: fd) }
            if errno == EINTR { continue }
            throw SystemCallError.last("open")
        }
    }

    /// Writes every readable byte of `buffer` at the current position.
    func writeAll(_ buffer: ByteBuffer) throws {
        try buffer.withUnsafeReadableBytes { raw in
            var done = 0
            while done < raw.count {
                let written = systemWrite(descriptor, raw.baseAddress! + done, raw.count - done)
                if written < 0 {
                    if errno == EINTR { continue }
                    throw SystemCallError.last("write")
                }
                done += written
            }
        }
    }

    /// Reads up to `count` bytes at `offset` (fewer only at end of file).
    func read(count: Int, at offset: Int64) throws -> ByteBuffer {
        var buffer = ByteBufferAllocator().buffer(capacity: count)
        var done = 0
        while done < count {
            let got = try buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count - done) { raw -> Int in
                while true {
                    let n = pread(descriptor, raw.baseAddress!, count - done, off_t(offset) + off_t(done))
                    if n >= 0 { return n }
                    if errno == EINTR { continue }
                    throw SystemCallError.last("pread")
                }
            }
            if got == 0 { break }
            done += got
        }
        return buffer
    }

    /// Flushes data and metadata to stable storage.
    func sync() throws {
        while fsync(descriptor) != 0 {
            if errno == EINTR { continue }
            throw SystemCallError.last("fsync")
        }
    }

    /// `fstat` of the open file.
    func status() throws -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemCallError.last("fstat") }
        return info
    }
}

private func systemOpen(_ path: UnsafePointer<CChar>, _ flags: CInt, _ mode: mode_t) -> CInt {
    open(path, flags, mode)
}

private func systemWrite(_ fd: CInt, _ pointer: UnsafeRawPointer, _ count: Int) -> Int {
    write(fd, pointer, count)
}
