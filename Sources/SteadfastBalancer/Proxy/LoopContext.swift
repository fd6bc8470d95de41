import NIOCore

/// What one event loop's client connections share: the settings in force for new connections,
/// the per-server backend pools of this loop, and the shared ``ServerPool``. Lives on, and is
/// only touched from, its event loop (it travels between threads only inside `NIOLoopBound`).
final class LoopContext {
    let eventLoop: any EventLoop
    let pool: ServerPool
    let metrics: ProxyMetrics
    var settings: ProxySettings
    private var backendPools: [String: BackendConnectionPool] = [:]
    /// The pool handed out last: with one server, or a run of picks of the same one, this saves
    /// hashing the server name per request. Cleared whenever pools are dropped or replaced.
    private var lastPool: BackendConnectionPool?
    private var sweepTask: RepeatedTask?
    private var requestCounter: UInt64 = 0
    private let requestIDPrefix: String

    init(eventLoop: any EventLoop, pool: ServerPool, metrics: ProxyMetrics, settings: ProxySettings) {
        self.eventLoop = eventLoop
        self.pool = pool
        self.metrics = metrics
        self.settings = settings
        // Six hex digits plus a counter keep ids within Swift's 15-byte small-string storage.
        self.requestIDPrefix = String(UInt32.random(in: 0x10_0000...0xFF_FFFF), radix: 16)
    }

    /// Starts the periodic closing of idle backend connections.
    func start() {
        let bound = NIOLoopBound(self, eventLoop: eventLoop)
        sweepTask = eventLoop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { _ in
            let context = bound.value
            let cutoff = NIODeadline.now() - context.settings.limits.backendIdleTimeout
            for pool in context.backendPools.values { pool.closeIdle(before: cutoff) }
        }
    }

    func stop() {
        sweepTask?.cancel()
        sweepTask = nil
        for pool in backendPools.values { pool.closeAll() }
        backendPools.removeAll()
        lastPool = nil
    }

    /// The backend pool for `choice`, replaced when the server's address changed by a reload.
    func backendPool(for choice: BalancerStateMachine.Choice) -> BackendConnectionPool {
        if let last = lastPool, last.serverName == choice.name, last.address == choice.address { return last }
        if let existing = backendPools[choice.name], existing.address == choice.address {
            lastPool = existing
            return existing
        }
        backendPools[choice.name]?.closeAll()
        let created = BackendConnectionPool(serverName: choice.name, address: choice.address, eventLoop: eventLoop)
        backendPools[choice.name] = created
        lastPool = created
        return created
    }

    /// Applies new settings after a reload and drops pools of servers that are gone.
    func apply(settings: ProxySettings, serverNames: Set<String>) {
        self.settings = settings
        lastPool = nil
        for (name, pool) in backendPools where !serverNames.contains(name) {
            pool.closeAll()
            backendPools[name] = nil
        }
    }

    /// A unique, cheap request id: a random per-loop prefix and a counter.
    func nextRequestID() -> String {
        requestCounter &+= 1
        // Written digit by digit: string interpolation and `String(_:radix:)` cost more than the
        // rest of the head rewrite. Up to 15 bytes the result is a small string (no allocation).
        var counter = requestCounter
        var digits = 1
        while counter >= 16 {
            counter >>= 4
            digits += 1
        }
        let prefix = requestIDPrefix.utf8
        let count = prefix.count + 1 + digits
        return String(unsafeUninitializedCapacity: count) { out in
            var index = 0
            for byte in prefix {
                out[index] = byte
                index += 1
            }
            out[index] = UInt8(ascii: "-")
            var value = requestCounter
            var position = count - 1
            while position > index {
                let digit = UInt8(truncatingIfNeeded: value & 0xF)
                out[position] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") + digit - 10
                value >>= 4
                position -= 1
            }
            return count
        }
    }
}
