import Foundation
import Prometheus

/// The Prometheus metrics of center-api.md, in a registry of this server's own (no process-wide
/// bootstrap, so several servers in one test process keep separate counts). Labels carry
/// endpoints, status codes, kinds and CRL issuers only: never resident data.
public final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let issued: [String: Counter]
    private let lastSeq: Gauge
    private let replicaAge: Gauge
    static let buckets: [Duration] = [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
                                      .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250),
                                      .milliseconds(500), .seconds(1), .seconds(2), .seconds(5), .seconds(10)]

    public init() {
        var issued: [String: Counter] = [:]
        for kind in ["juminhyo", "inkan"] {
            issued[kind] = registry.makeCounter(
                descriptor: MetricNameDescriptor(namespace: "kofu", metricName: "issuances", unitName: "total",
                                                 helpText: "Certificates issued (one per new 交付番号; replays not counted)"),
                labels: [("kind", kind)])
        }
        self.issued = issued
        lastSeq = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "kofu", metricName: "replica_last_seq", unitName: "", helpText: "The replica's last applied sync seq"))
        replicaAge = registry.makeGauge(descriptor: MetricNameDescriptor(
            namespace: "kofu", metricName: "replica_age", unitName: "seconds",
            helpText: "Seconds since the replica last changed (batch applied or reseed)"))
    }

    func request(endpoint: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: MetricNameDescriptor(namespace: "kofu", metricName: "requests", unitName: "total",
                                             helpText: "Requests answered, by endpoint and HTTP status"),
            labels: [("endpoint", endpoint), ("code", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: MetricNameDescriptor(namespace: "kofu", metricName: "request_duration", unitName: "seconds",
                                             helpText: "Request handling time, by endpoint"),
            labels: [("endpoint", endpoint)], buckets: Self.buckets
        ).record(duration)
    }

    func issuance(kind: String) { issued[kind]?.increment() }

    /// Sets the gauges that are read at scrape time and renders the text format.
    func exposition(lastSeq seq: Int64?, replicaChangedAt: Date?, crlAges: [(issuer: String, seconds: Double)], now: Date) -> [UInt8] {
        if let seq { lastSeq.set(Double(seq)) }
        replicaAge.set(replicaChangedAt.map { max(0, now.timeIntervalSince($0)) } ?? -1)
        for (issuer, seconds) in crlAges {
            registry.makeGauge(
                descriptor: MetricNameDescriptor(namespace: "kofu", metricName: "crl_age", unitName: "seconds",
                                                 helpText: "Seconds since the thisUpdate of the newest CRL loaded for the issuer"),
                labels: [("issuer", issuer)]
            ).set(seconds)
        }
        return registry.emitToBuffer()
    }
}
