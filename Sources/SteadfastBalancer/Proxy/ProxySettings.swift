/// The part of the configuration a client connection needs, captured when the connection is
/// accepted (so a reload never changes the rules under an established connection).
struct ProxySettings: Sendable {
    var limits: BalancerConfiguration.Limits
    var retries: BalancerConfiguration.Retries
    var sticky: BalancerConfiguration.Sticky

    init(_ config: BalancerConfiguration) {
        self.limits = config.limits
        self.retries = config.retries
        self.sticky = config.sticky
    }
}
