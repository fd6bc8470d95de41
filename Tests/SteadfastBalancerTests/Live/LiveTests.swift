import Testing

/// Every live suite (real backend and balancer processes) runs inside this one serialized
/// suite, so two load tests never compete for the two cores of the machine.
@Suite("Live", .serialized)
struct LiveTests {}
