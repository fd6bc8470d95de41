import Foundation
import SteadfastDomain

extension ConfigKey {
    public static let billingCaptureDaysBeforeDue = ConfigKey("billing.capture_days_before_due", default: "0", "The automatic capture job charges a client's default saved card for invoices due within this many days (0: on the due day or later). Needs stripe in billing.gateways.")
    public static let billingCaptureRetry = ConfigKey("billing.capture_retry", default: "1d,3d,5d", "After a failed automatic capture, the delays before the next attempts (the first after the first failure, and so on); empty: no retries. Durations of at least 1m.", isList: true)

    /// The `billing.capture_*` keys, in documentation order.
    public static let captureKeys: [ConfigKey] = [billingCaptureDaysBeforeDue, billingCaptureRetry]
}

extension NodeConfiguration.Billing {
    /// `billing.capture_*`: when the automatic capture job charges saved cards.
    public struct Capture: Sendable {
        public var daysBeforeDue: Int
        public var retry: [Duration]
    }
}

extension NodeConfiguration.Billing.Capture {
    static func read(_ reader: Reader) throws(ConfigError) -> Self {
        let days = try reader.int(.billingCaptureDaysBeforeDue, in: 0...365)
        switch CapturePlan.parseRetry(try reader.list(.billingCaptureRetry)) {
        case .success(let retry): return Self(daysBeforeDue: days, retry: retry)
        case .failure(let error):
            throw reader.fail(.billingCaptureRetry, "expected durations of at least 1m such as 1d,3d,5d, got '\(error.item.prefix(100))'")
        }
    }
}
