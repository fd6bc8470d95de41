import Foundation
import NIOCore
import SteadfastConcurrency
import SteadfastDomain

/// The two checks a target gets: the cheap one for `/readyz` and the full round trip for
/// `steadfast storage check`.
public enum StorageProbe {
    /// Runs the backend's ``FileStorage/healthCheck()``, bounded by `timeout` on `clock`.
    public static func healthCheck(
        target: String, storage: any FileStorage, timeout: Duration = .seconds(5), clock: any Clock<Duration> = ContinuousClock()
    ) async -> TargetCheck {
        await measure(target: target, storage: storage, timeout: timeout, clock: clock) {
            try await storage.healthCheck()
        }
    }

    /// Writes a small random probe object under `<keyPrefix>.steadfast-probe/`, reads it back,
    /// compares its SHA-256, deletes it and checks it is gone, bounded by `timeout` on `clock`.
    public static func roundTrip(
        target: String, storage: any FileStorage, keyPrefix: String = "", timeout: Duration = .seconds(30), clock: any Clock<Duration> = ContinuousClock()
    ) async -> TargetCheck {
        await measure(target: target, storage: storage, timeout: timeout, clock: clock) {
            let key = keyPrefix + "steadfast-probe/" + UUID().uuidString.lowercased()
            var generator = SystemRandomNumberGenerator()
            let bytes = (0..<4096).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
            let written = try await storage.write(key: key, body: StorageByteStream.bytes(bytes), size: Int64(bytes.count), contentType: "application/octet-stream")
            do {
                let read = try await storage.read(key: key, range: nil)
                let back = try await read.body.collect(upTo: bytes.count)
                guard back.readableBytes == bytes.count, SHA256Hex.of(back) == written.sha256 else {
                    throw StorageError(.checksumMismatch, "the probe object read back differs from what was written")
                }
            } catch {
                try? await storage.delete(key: key)
                throw error
            }
            try await storage.delete(key: key)
            if try await storage.metadata(key: key) != nil {
                throw StorageError(.serverError, "the probe object is still there after being deleted")
            }
        }
    }

    /// Runs `work` within `timeout` on `clock` (the one deadline helper), timing it on real time
    /// (the latency reported is the target's, whatever clock bounds it).
    private static func measure(
        target: String, storage: any FileStorage, timeout: Duration, clock: any Clock<Duration>, _ work: @escaping @Sendable () async throws -> Void
    ) async -> TargetCheck {
        let stopwatch = ContinuousClock()
        let start = stopwatch.now
        do {
            do {
                try await withDeadline(timeout, clock: clock, work)
            } catch is DeadlineExceeded {
                throw StorageError(.unavailable, "no answer within \(DurationText.formatMeasured(timeout))")
            }
            return TargetCheck(target: target, targetDescription: storage.displayName, latency: stopwatch.now - start, error: nil)
        } catch let error as StorageError {
            return TargetCheck(target: target, targetDescription: storage.displayName, latency: nil, error: error)
        } catch {
            return TargetCheck(target: target, targetDescription: storage.displayName, latency: nil, error: StorageError(.io, "\(error)"))
        }
    }
}
