import Foundation
import Logging
import SteadfastDomain
import SteadfastStorage
import Yams

/// Everything a portal node needs to start, typed and validated.
///
/// Built from ``ConfigSources`` (file < environment < flags); every key, its default and its
/// meaning is listed in ``ConfigKey/all`` and documented in `docs/configuration.md`.
public struct NodeConfiguration: Sendable {
    /// How `Secure` is decided for cookies.
    public enum SecureCookies: String, Sendable { case auto, always, never }
    /// Log output format.
    public enum LogFormat: String, Sendable { case text, json }

    public var nodeID: String
    public var dataDirectory: String
    /// `node.dev` (`serve --dev`): development conveniences that must never run in production.
    public var devMode: Bool
    public var drainDelay: Duration
    public var shutdownTimeout: Duration
    public var host: String
    public var port: Int
    public var maxBodySize: Int
    public var trustedProxies: [IPNetwork]
    public var databaseURL: String
    public var databaseMaxConnections: Int
    public var databaseTimeout: Duration
    public var databaseStandbyMaxLag: Duration
    public var databaseMonitorInterval: Duration
    public var storageLocalPath: String
    /// Every storage target and per-type route (the built-in `local` target included).
    public var storage: StorageConfiguration
    public var maxUploadSize: Int
    /// `storage.client_quota`: bytes one client's files may take in all; nil: no limit.
    public var storageClientQuota: Int64?
    public var storageRouteRefreshInterval: Duration
    /// How long after a `storage migrate` switch a node may still send uploads to the old
    /// target: one route refresh, plus a second for uploads already being written.
    public var storageRouteSettleTime: Duration { storageRouteRefreshInterval + .seconds(1) }
    /// The public base URL, if configured (no trailing slash).
    public var publicURL: String?
    public var sessionCookieName: String
    public var sessionIdleTimeout: Duration
    public var sessionAbsoluteTimeout: Duration
    public var sessionCleanupInterval: Duration
    public var secureCookies: SecureCookies
    public var secret: String?
    public var bcryptCost: Int
    /// `security.rate_limit.*`; nil: off.
    public var rateLimitLoginPerAccount: RateLimit?
    public var rateLimitLoginPerIP: RateLimit?
    public var rateLimitRegisterPerIP: RateLimit?
    public var rateLimitAPIToken: RateLimit?
    public var adminEmail: String?
    public var adminPassword: String?
    public var logLevel: Logger.Level
    public var logFormat: LogFormat
    /// The `billing.*` settings, checked for syntax here; their business meaning is checked
    /// when the node builds its billing rules (an invalid rule stops the node at start).
    public var billing: Billing
    /// The `mail.*` settings (outbox delivery, SMTP; docs/mail.md).
    public var mail: Mail
    /// The `support.*` settings (tickets and their attachments).
    public var support: Support
    /// The `accounts.*` settings (self-service, password reset, two-factor log-in; docs/accounts.md).
    public var accounts: Accounts

    /// Raw billing settings (see ``ConfigKey`` `billing.*` and docs/configuration.md).
    public struct Billing: Sendable {
        public var currency: String
        public var timeZone: String
        public var taxMode: String
        public var taxRules: [String]
        public var defaultCountry: String?
        public var invoiceNumberFormat: String
        public var invoiceDueDays: Int
        public var renewalLeadDays: Int
        public var lateFee: String
        public var lateFeeAfterDays: Int
        public var reminderDays: [Int]
        public var suspensionDays: Int
        public var acceptOrdersOnPayment: Bool
        public var gateways: [String]
        public var testCardSecret: String?
        public var bankTransferInstructions: String
        /// `billing.stripe.*`: set when `gateways` includes `stripe`.
        public var stripe: Stripe?
        /// `billing.capture_*`: the automatic capture of saved cards.
        public var capture: Capture
        /// `company.*` and `billing.pdf_*`: the seller on invoices and the PDF renderer.
        public var documents: Documents
    }
    public var jobsEnabled: Bool
    public var jobsLease: Duration
    public var jobsPollInterval: Duration
    public var jobsShutdownGrace: Duration
    public var jobsTimeZone: TimeZone
    public var jobsHistoryRetention: Duration
    /// `jobs.billing.schedule`, parsed where the jobs are built (`every 1h` or a cron expression).
    public var jobsBillingSchedule: String
    /// `nil`: the heartbeat job is off.
    public var jobsHeartbeatInterval: Duration?
    public var jobsHeartbeatDuration: Duration
    /// `run_all`, `run_all:N`, `run_once` or `skip`.
    public var jobsHeartbeatCatchUp: String

    /// The configuration with no file, environment or flags: a single SQLite node on 127.0.0.1:8080.
    public static func defaults() throws(ConfigError) -> NodeConfiguration {
        try NodeConfiguration(ConfigSources())
    }

    public init(_ sources: ConfigSources) throws(ConfigError) {
        let reader = Reader(sources: sources)
        nodeID = try reader.string(.nodeID)
        if nodeID.isEmpty {
            let host = ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node"
            nodeID = "\(host)-\(String(UInt32.random(in: 0...0xFFFF_FFFF), radix: 16))"
        }
        dataDirectory = try reader.nonEmptyString(.dataDir)
        devMode = try reader.bool(.devMode)
        drainDelay = try reader.duration(.drainDelay)
        shutdownTimeout = try reader.duration(.shutdownTimeout)
        host = try reader.nonEmptyString(.httpHost)
        port = try reader.int(.httpPort, in: 0...65535)
        maxBodySize = try reader.byteSize(.maxBodySize, in: 1...(1 << 30))
        var proxies: [IPNetwork] = []
        for text in try reader.list(.trustedProxies) {
            do { proxies.append(try IPNetwork(text)) } catch { throw ConfigError(key: error.key, message: error.message, source: reader.source(.trustedProxies)) }
        }
        trustedProxies = proxies
        let url = try reader.string(.databaseURL)
        let hosts = try reader.list(.databaseHosts)
        if !url.isEmpty, !hosts.isEmpty {
            throw ConfigError(key: ConfigKey.databaseHosts.name, message: "give either database.url or database.hosts, not both", source: reader.source(.databaseHosts))
        }
        let attributes = try reader.string(.databaseTargetSessionAttrs)
        guard ["read-write", "prefer-standby", "any"].contains(attributes) else {
            throw reader.fail(.databaseTargetSessionAttrs, "'\(attributes)' is not one of read-write, prefer-standby, any")
        }
        if !hosts.isEmpty {
            let sslmode = try reader.string(.databaseSSLMode)
            guard ["disable", "require"].contains(sslmode) else { throw reader.fail(.databaseSSLMode, "'\(sslmode)' is not one of disable, require") }
            var allowed = CharacterSet.alphanumerics
            allowed.insert(charactersIn: "-._~")
            let user = try reader.nonEmptyString(.databaseUser).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            let password = try reader.string(.databasePassword).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            let name = try reader.nonEmptyString(.databaseName).addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
            let credentials = password.isEmpty ? user : "\(user):\(password)"
            databaseURL = "postgres://\(credentials)@\(hosts.joined(separator: ","))/\(name)?sslmode=\(sslmode)&target_session_attrs=\(attributes)"
        } else if url.isEmpty {
            databaseURL = "sqlite://" + (dataDirectory as NSString).appendingPathComponent("steadfast.sqlite")
        } else if sources.value(.databaseTargetSessionAttrs) != nil, url.hasPrefix("postgres"), !url.contains("target_session_attrs") {
            databaseURL = url + (url.contains("?") ? "&" : "?") + "target_session_attrs=\(attributes)"
        } else {
            databaseURL = url
        }
        databaseMaxConnections = try reader.int(.databaseMaxConnections, in: 1...1000)
        databaseTimeout = try reader.duration(.databaseTimeout)
        databaseStandbyMaxLag = try reader.duration(.databaseStandbyMaxLag)
        databaseMonitorInterval = try reader.duration(.databaseMonitorInterval)
        guard databaseTimeout >= .milliseconds(100) else { throw reader.fail(.databaseTimeout, "must be at least 100ms") }
        guard databaseMonitorInterval >= .milliseconds(100) else { throw reader.fail(.databaseMonitorInterval, "must be at least 100ms") }
        let localPath = try reader.string(.storageLocalPath)
        storageLocalPath = localPath.isEmpty ? (dataDirectory as NSString).appendingPathComponent("files") : localPath
        var base = try reader.string(.publicURL)
        while base.hasSuffix("/") { base.removeLast() }
        if !base.isEmpty {
            guard let url = URL(string: base), url.scheme == "http" || url.scheme == "https", url.host != nil else {
                throw reader.fail(.publicURL, "expected an absolute http(s) URL such as https://portal.example.com, got '\(base)'")
            }
        }
        publicURL = base.isEmpty ? nil : base
        maxUploadSize = try reader.byteSize(.storageMaxUploadSize, in: 1...(1 << 40))
        let quota = try reader.byteSize(.storageClientQuota, in: 0...(1 << 50))
        storageClientQuota = quota == 0 ? nil : Int64(quota)
        storageRouteRefreshInterval = try reader.duration(.storageRouteRefresh)
        storage = try Self.storageConfiguration(reader: reader, localPath: storageLocalPath, publicURL: publicURL)
        sessionCookieName = try reader.nonEmptyString(.sessionCookieName)
        guard sessionCookieName.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == "-") }) else {
            throw ConfigError(key: ConfigKey.sessionCookieName.name, message: "only letters, digits, _ and - are allowed", source: reader.source(.sessionCookieName))
        }
        sessionIdleTimeout = try reader.duration(.sessionIdleTimeout)
        sessionAbsoluteTimeout = try reader.duration(.sessionAbsoluteTimeout)
        guard sessionIdleTimeout >= .seconds(1) else {
            throw ConfigError(key: ConfigKey.sessionIdleTimeout.name, message: "must be at least 1s", source: reader.source(.sessionIdleTimeout))
        }
        guard sessionAbsoluteTimeout >= sessionIdleTimeout else {
            throw ConfigError(key: ConfigKey.sessionAbsoluteTimeout.name, message: "must be at least session.idle_timeout", source: reader.source(.sessionAbsoluteTimeout))
        }
        sessionCleanupInterval = try reader.duration(.sessionCleanupInterval)
        guard sessionCleanupInterval >= .seconds(1) else {
            throw ConfigError(key: ConfigKey.sessionCleanupInterval.name, message: "must be at least 1s", source: reader.source(.sessionCleanupInterval))
        }
        secureCookies = try reader.choice(.sessionSecureCookies)
        let secret = try reader.string(.securitySecret)
        if !secret.isEmpty, secret.utf8.count < 32 {
            throw ConfigError(key: ConfigKey.securitySecret.name, message: "must be at least 32 characters", source: reader.source(.securitySecret))
        }
        self.secret = secret.isEmpty ? nil : secret
        bcryptCost = try reader.int(.bcryptCost, in: 4...31)
        rateLimitLoginPerAccount = try reader.rateLimit(.rateLimitLoginPerAccount)
        rateLimitLoginPerIP = try reader.rateLimit(.rateLimitLoginPerIP)
        rateLimitRegisterPerIP = try reader.rateLimit(.rateLimitRegisterPerIP)
        rateLimitAPIToken = try reader.rateLimit(.rateLimitAPIToken)
        let email = try reader.string(.adminEmail)
        adminEmail = email.isEmpty ? nil : email
        let password = try reader.string(.adminPassword)
        adminPassword = password.isEmpty ? nil : password
        let level = try reader.string(.logLevel)
        guard let parsedLevel = Logger.Level(rawValue: level) else {
            throw ConfigError(key: ConfigKey.logLevel.name, message: "'\(level)' is not one of trace, debug, info, notice, warning, error, critical", source: reader.source(.logLevel))
        }
        logLevel = parsedLevel
        logFormat = try reader.choice(.logFormat)
        jobsEnabled = try reader.bool(.jobsEnabled)
        jobsLease = try reader.duration(.jobsLease)
        guard jobsLease >= .seconds(1) else { throw reader.fail(.jobsLease, "must be at least 1s") }
        jobsPollInterval = try reader.duration(.jobsPollInterval)
        guard jobsPollInterval >= .milliseconds(100), jobsPollInterval < jobsLease else {
            throw reader.fail(.jobsPollInterval, "must be at least 100ms and shorter than jobs.lease")
        }
        jobsShutdownGrace = try reader.duration(.jobsShutdownGrace)
        let zone = try reader.nonEmptyString(.jobsTimeZone)
        guard let timeZone = TimeZone(identifier: zone) else { throw reader.fail(.jobsTimeZone, "'\(zone)' is not a known time zone (use an IANA name such as Europe/Berlin)") }
        jobsTimeZone = timeZone
        jobsHistoryRetention = try reader.duration(.jobsHistoryRetention)
        guard jobsHistoryRetention >= .seconds(3600) else { throw reader.fail(.jobsHistoryRetention, "must be at least 1h") }
        jobsBillingSchedule = try reader.nonEmptyString(.jobsBillingSchedule)
        if try reader.string(.jobsHeartbeatInterval).isEmpty {
            jobsHeartbeatInterval = nil
        } else {
            let interval = try reader.duration(.jobsHeartbeatInterval)
            guard interval >= .milliseconds(100) else { throw reader.fail(.jobsHeartbeatInterval, "must be at least 100ms") }
            jobsHeartbeatInterval = interval
        }
        jobsHeartbeatDuration = try reader.duration(.jobsHeartbeatDuration)
        let catchUp = try reader.string(.jobsHeartbeatCatchUp).lowercased()
        let limit = catchUp.hasPrefix("run_all:") ? Int(catchUp.dropFirst("run_all:".count)) : nil
        guard ["run_all", "run_once", "skip"].contains(catchUp) || (limit ?? 0) >= 1 else {
            throw reader.fail(.jobsHeartbeatCatchUp, "'\(catchUp)' is not one of run_all, run_all:N, run_once, skip")
        }
        jobsHeartbeatCatchUp = catchUp
        billing = try Billing(reader, devMode: devMode)
        mail = try Mail(reader)
        support = try Support(reader)
        accounts = try Accounts(reader)
    }
}

extension NodeConfiguration.Billing {
    init(_ reader: Reader, devMode: Bool) throws(ConfigError) {
        currency = try reader.nonEmptyString(.billingCurrency).uppercased()
        guard currency.count == 3, currency.allSatisfy({ $0.isASCII && $0.isLetter }) else {
            throw reader.fail(.billingCurrency, "expected a three-letter ISO 4217 code such as USD or EUR, got '\(currency)'")
        }
        timeZone = try reader.nonEmptyString(.billingTimeZone)
        guard TimeZone(identifier: timeZone) != nil else {
            throw reader.fail(.billingTimeZone, "'\(timeZone)' is not a time zone name such as UTC or Europe/Berlin")
        }
        taxMode = try reader.string(.billingTaxMode).lowercased()
        guard ["exclusive", "inclusive"].contains(taxMode) else { throw reader.fail(.billingTaxMode, "expected exclusive or inclusive, got '\(taxMode)'") }
        taxRules = try reader.list(.billingTaxRules)
        let country = try reader.string(.billingDefaultCountry).uppercased()
        defaultCountry = country.isEmpty ? nil : country
        invoiceNumberFormat = try reader.nonEmptyString(.billingInvoiceNumberFormat)
        invoiceDueDays = try reader.int(.billingInvoiceDueDays, in: 0...365)
        renewalLeadDays = try reader.int(.billingRenewalLeadDays, in: 0...365)
        lateFee = try reader.string(.billingLateFee)
        lateFeeAfterDays = try reader.int(.billingLateFeeAfterDays, in: 1...365)
        var days: [Int] = []
        for item in try reader.list(.billingReminderDays) {
            guard let day = Int(item.trimmingCharacters(in: .whitespaces)), (0...365).contains(day) else {
                throw reader.fail(.billingReminderDays, "expected whole numbers of days such as 1,7,14, got '\(item)'")
            }
            days.append(day)
        }
        reminderDays = Array(Set(days)).sorted()
        suspensionDays = try reader.int(.billingSuspensionDays, in: 0...3650)
        switch try reader.string(.billingAcceptOrdersOnPayment).lowercased() {
        case "true", "yes", "1": acceptOrdersOnPayment = true
        case "false", "no", "0": acceptOrdersOnPayment = false
        case let other: throw reader.fail(.billingAcceptOrdersOnPayment, "expected true or false, got '\(other)'")
        }
        // The test card gateway lets anyone mark an invoice paid: only when named explicitly,
        // or by --dev when billing.gateways is not set at all.
        let gatewayNames = reader.source(.billingGateways) == nil && devMode ? ["banktransfer", "testcard"] : try reader.list(.billingGateways)
        gateways = gatewayNames.map { $0.trimmingCharacters(in: .whitespaces).lowercased() }.filter { !$0.isEmpty }
        for gateway in gateways where !["banktransfer", "testcard", "stripe"].contains(gateway) {
            throw reader.fail(.billingGateways, "'\(gateway)' is not a payment gateway (banktransfer, stripe, testcard)")
        }
        stripe = try Stripe.read(reader, enabled: gateways.contains("stripe"))
        capture = try Capture.read(reader)
        documents = try Documents.read(reader)
        let secret = try reader.string(.billingTestCardSecret)
        if !secret.isEmpty, secret.utf8.count < 16 {
            throw reader.fail(.billingTestCardSecret, "must be at least 16 characters")
        }
        testCardSecret = secret.isEmpty ? nil : secret
        bankTransferInstructions = try reader.nonEmptyString(.billingBankTransferInstructions)
    }
}

extension NodeConfiguration {
    /// Whether every page is served over HTTPS: `session.secure_cookies=always`, or `auto` with an
    /// https `http.public_url`. Then every cookie is `Secure` and named with the `__Host-` prefix,
    /// which browsers accept only from a secure origin, for the whole host (`Path=/`, no
    /// `Domain`): a sibling subdomain can no longer plant or overwrite them.
    public var servedOverHTTPS: Bool {
        switch secureCookies {
        case .always: true
        case .never: false
        case .auto: publicURL?.lowercased().hasPrefix("https://") == true
        }
    }

    /// The session cookie's name on the wire: `session.cookie_name`, `__Host-` prefixed over HTTPS.
    public var sessionCookie: String { (servedOverHTTPS ? "__Host-" : "") + sessionCookieName }

    /// The CSRF nonce cookie's name on the wire, `__Host-` prefixed over HTTPS.
    public var csrfCookie: String { (servedOverHTTPS ? "__Host-" : "") + "steadfast_csrf" }

    /// Host name used in local download links when no `http.public_url` is configured; links on
    /// it are handed out as paths relative to the node that made them.
    public static let relativeLinkHost = "steadfast.invalid"

    /// Builds the storage configuration: configured targets plus the built-in `local` target at
    /// `storage.local_path`, the default target and per-type routes, checked for consistency.
    static func storageConfiguration(reader: Reader, localPath: String, publicURL: String?) throws(ConfigError) -> StorageConfiguration {
        let absoluteLocal = URL(fileURLWithPath: localPath).standardizedFileURL.path
        var targets: [StorageTarget] = []
        if let yaml = reader.sources.value(.storageTargets)?.scalar, !yaml.isEmpty {
            do {
                targets = try YAMLDecoder().decode([StorageTarget].self, from: yaml)
            } catch {
                throw reader.fail(.storageTargets, "expected a list of targets (name, kind: local|s3, ...): \(Self.describe(error))")
            }
        }
        if !targets.contains(where: { $0.name == "local" }) {
            targets.insert(StorageTarget(name: "local", kind: .local, path: absoluteLocal), at: 0)
        }
        let linkBase = publicURL ?? "http://\(relativeLinkHost)"
        for index in targets.indices where targets[index].kind == .local {
            if let path = targets[index].path, !path.hasPrefix("/") {
                targets[index].path = URL(fileURLWithPath: path).standardizedFileURL.path
            }
            if targets[index].downloadBaseURL == nil {
                targets[index].downloadBaseURL = "\(linkBase)/files/\(targets[index].name)"
            }
        }
        var types: [FileType: StorageConfiguration.TypeRoute] = [:]
        if let yaml = reader.sources.value(.storageTypes)?.scalar, !yaml.isEmpty {
            let raw: [String: StorageConfiguration.TypeRoute]
            do {
                raw = try YAMLDecoder().decode([String: StorageConfiguration.TypeRoute].self, from: yaml)
            } catch {
                throw reader.fail(.storageTypes, "expected a map of file type to {target, prefix}: \(Self.describe(error))")
            }
            for (name, route) in raw {
                guard let type = FileType(rawValue: name) else {
                    throw reader.fail(.storageTypes, "unknown file type '\(name)' (known: \(FileType.allCases.map(\.rawValue).joined(separator: ", ")))")
                }
                types[type] = route
            }
        }
        // Blame the key at fault: the targets themselves (names, prefixes), checked with every
        // type routed to one of them; then the default target, checked with no per-type routes.
        do {
            _ = try StorageConfiguration(targets: targets, defaultTarget: targets[0].name).resolvedRoutes()
        } catch {
            throw reader.fail(.storageTargets, "\(error)")
        }
        let defaultTarget = try reader.nonEmptyString(.storageDefaultTarget)
        let configuration = StorageConfiguration(targets: targets, defaultTarget: defaultTarget, types: types)
        do {
            _ = try configuration.resolvedRoutes()
        } catch {
            let defaultIsUsed = FileType.allCases.contains { types[$0] == nil }
            let defaultIsAtFault = defaultIsUsed && (try? StorageConfiguration(targets: targets, defaultTarget: defaultTarget).resolvedRoutes()) == nil
            throw reader.fail(defaultIsAtFault ? .storageDefaultTarget : .storageTypes, "\(error)")
        }
        return configuration
    }

    static func describe(_ error: any Error) -> String {
        if case DecodingError.keyNotFound(let key, _) = error { return "missing '\(key.stringValue)'" }
        if case DecodingError.typeMismatch(_, let context) = error { return "wrong type at \(context.codingPath.map(\.stringValue).joined(separator: "."))" }
        if case DecodingError.dataCorrupted(let context) = error { return context.debugDescription }
        return "\(error)"
    }
}

/// Parses raw strings into typed values, with errors naming the key and the value's source.
struct Reader {
    let sources: ConfigSources

    func raw(_ key: ConfigKey) -> String { sources.value(key)?.scalar ?? key.defaultValue }
    func source(_ key: ConfigKey) -> String? { sources.value(key)?.source }
    func fail(_ key: ConfigKey, _ message: String) -> ConfigError { ConfigError(key: key.name, message: message, source: source(key)) }

    func string(_ key: ConfigKey) throws(ConfigError) -> String { raw(key).trimmingCharacters(in: .whitespaces) }

    func nonEmptyString(_ key: ConfigKey) throws(ConfigError) -> String {
        let value = try string(key)
        guard !value.isEmpty else { throw fail(key, "must not be empty") }
        return value
    }

    func list(_ key: ConfigKey) throws(ConfigError) -> [String] {
        sources.value(key)?.items ?? ConfigSources.splitList(key.defaultValue)
    }

    func int(_ key: ConfigKey, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string(key)
        guard let value = Int(text), range.contains(value) else {
            throw fail(key, "expected a whole number from \(range.lowerBound) to \(range.upperBound), got '\(text)'")
        }
        return value
    }

    /// true/false, yes/no, on/off, 1/0.
    func bool(_ key: ConfigKey) throws(ConfigError) -> Bool {
        switch try string(key).lowercased() {
        case "true", "yes", "on", "1": return true
        case "false", "no", "off", "0": return false
        case let other: throw fail(key, "expected true or false, got '\(other)'")
        }
    }

    func choice<T: RawRepresentable>(_ key: ConfigKey) throws(ConfigError) -> T where T.RawValue == String {
        let text = try string(key).lowercased()
        guard let value = T(rawValue: text) else { throw fail(key, "'\(text)' is not an allowed value") }
        return value
    }

    /// "500ms", "5s", "2m", "1h", "1d" or a plain number of seconds.
    func duration(_ key: ConfigKey) throws(ConfigError) -> Duration {
        let text = try string(key)
        guard let value = DurationText.parse(text) else {
            throw fail(key, "expected a duration like 500ms, 5s, 2m, 1h or 1d, got '\(text)'")
        }
        return value
    }

    /// "N/DURATION" (at most N events per window, e.g. 10/15m) or "off" (nil).
    func rateLimit(_ key: ConfigKey) throws(ConfigError) -> RateLimit? {
        let text = try string(key).lowercased()
        if text == "off" { return nil }
        let parts = text.split(separator: "/", maxSplits: 1).map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let count = Int(parts[0]), (1...1_000_000).contains(count), let window = DurationText.parse(parts[1]),
              let limit = RateLimit(limit: count, window: window), window <= .seconds(86400 * 7)
        else {
            throw fail(key, "expected N/DURATION such as 10/15m (1 to 1000000 per 1s to 7d) or off, got '\(text)'")
        }
        return limit
    }

    /// "1048576", "512KiB", "1MiB", "1GiB" (also KB/MB/GB as powers of 1000): the one byte-size
    /// grammar, ``ByteCount/parse(_:)``, the storage targets' too.
    func byteSize(_ key: ConfigKey, in range: ClosedRange<Int>) throws(ConfigError) -> Int {
        let text = try string(key)
        guard let value = ByteCount.parse(text).flatMap({ Int(exactly: $0) }), range.contains(value) else {
            throw fail(key, "expected a size like 512KiB, 1MiB or 1048576 (bytes), up to \(range.upperBound) bytes, got '\(text)'")
        }
        return value
    }
}
