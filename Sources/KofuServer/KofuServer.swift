import CardAuth
import Certificates
import Foundation
import Hummingbird
import HummingbirdCore
import HummingbirdTLS
import Issuance
import KofuConfiguration
import KofuJSON
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Replica
import ServiceLifecycle
import UnixSignals
import Typesetting

/// Why the server cannot start: names the configuration key or file. `kofu serve` exits 1 with it.
public struct StartError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

/// The two listeners of one `kofu serve`: the Center API (center-api.md) and the sync feed
/// (sync-feed.md), each with TLS and mutual TLS as configured, under one service group that
/// drains in-flight requests on SIGTERM/SIGINT.
public final class KofuServer: Sendable {
    public let config: KofuConfig
    public let replica: any ReplicaStore
    public let service: IssuanceService
    let trust: TrustStore
    let metrics = ServerMetrics()
    let logger: Logger
    let pool: NIOThreadPool
    let started = Date()
    let suspension: Suspension
    private let groupBox = GroupBox()

    /// Where the operators' suspension switch is (`kofu suspend`, `kofu resume`).
    public enum Suspension: Sendable {
        /// `<replica path>/SUSPENDED`: one server.
        case file(String)
        /// A row of the database: every server on it.
        case database(PostgresIssuanceState)

        public init(_ replica: KofuConfig.Replica) throws(StoreError) {
            switch replica {
            case .sqlite(let folder): self = .file(folder + "/" + KofuServer.suspensionFileName)
            case .postgres(let url): self = .database(try PostgresIssuanceState(url: url))
            }
        }

        /// Whether issuance is suspended now.
        public func isSet() throws(StoreError) -> Bool {
            switch self {
            case .file(let path): return FileManager.default.fileExists(atPath: path)
            case .database(let state): return try state.suspendedSince() != nil
            }
        }
    }

    final class GroupBox: @unchecked Sendable {
        let lock = NSLock()
        var group: ServiceGroup?
        var shutdownRequested = false
    }

    /// Graceful shutdown, as on SIGTERM: stop accepting, answer what is in flight, return from `run`.
    public func shutdown() async {
        let group = groupBox.lock.withLock {
            groupBox.shutdownRequested = true
            return groupBox.group
        }
        await group?.triggerGracefulShutdown()
    }

    /// Opens everything the server needs, refusing (naming the key or file) whatever is missing
    /// or unreadable, before any listener opens.
    public init(config: KofuConfig, templatesDirectory: String, logger: Logger) throws(StartError) {
        self.config = config
        self.logger = logger
        let records: any IssuanceRecords
        let hasher: KeyedHasher
        switch config.replica {
        case .sqlite(let folder):
            let state: IssuanceStateStore
            do {
                replica = try SQLiteReplica(folder: folder)
                state = try IssuanceStateStore(folder: folder)
                suspension = .file(folder + "/" + Self.suspensionFileName)
            } catch {
                throw StartError("replica.path \(folder): \(error)")
            }
            do {
                records = LocalIssuanceRecords(state: state, audit: try AuditLog(folder: config.audit.path))
                hasher = try KeyedHasher.loadOrCreate(folder: config.audit.path)
            } catch {
                throw StartError("audit.path: \(error)")
            }
        case .postgres(let url):
            // Several servers on one database: the replica, the answers, the audit chain and the
            // keyed-hash key all live there (operations.md "More than one server").
            do {
                replica = try PostgresReplica(url: url)
                let shared = try PostgresIssuanceState(url: url)
                records = SharedIssuanceRecords(store: shared)
                hasher = KeyedHasher(key: try shared.keyedHashKey())
                suspension = .database(shared)
            } catch {
                throw StartError("\(ReplicaStores.describe(config.replica)): \(error)")
            }
        }
        do {
            trust = try TrustStore(anchorFiles: config.trust.anchors, intermediateFiles: config.trust.intermediates,
                                   crlDirectory: config.trust.crlDir, policyOID: config.trust.policyOID)
        } catch {
            throw StartError("trust: \(error)")
        }
        let renderer = try Self.renderer(config, templatesDirectory: templatesDirectory)
        let threads = max(2, System.coreCount)
        pool = NIOThreadPool(numberOfThreads: threads)
        pool.start()
        let eventLogger = logger
        service = IssuanceService(
            settings: IssuanceSettings(config), replica: replica, records: records, trust: trust,
            renderer: renderer, hasher: hasher, runner: PoolRunner(pool: pool, limit: threads * 4),
            events: { event in
                var metadata: Logger.Metadata = [:]
                if let id = event.requestId { metadata["requestId"] = .string(id) }
                switch event.level {
                case .info: eventLogger.info("\(event.message)", metadata: metadata)
                case .warning: eventLogger.warning("\(event.message)", metadata: metadata)
                case .error: eventLogger.error("\(event.message)", metadata: metadata)
                }
            })
    }

    static func renderer(_ config: KofuConfig, templatesDirectory: String) throws(StartError) -> CertificateRenderer {
        let base: FontFace
        var gaiji: [FontFace] = []
        do {
            base = try FontFace(path: config.fonts.base)
        } catch {
            throw StartError("fonts.base \(config.fonts.base): \(error)")
        }
        for path in config.fonts.gaiji {
            do {
                gaiji.append(try FontFace(path: path))
            } catch {
                throw StartError("fonts.gaiji \(path): \(error)")
            }
        }
        guard let seal = FileManager.default.contents(atPath: config.municipality.officialSeal) else {
            throw StartError("municipality.official_seal \(config.municipality.officialSeal): cannot read")
        }
        let municipality = Municipality(name: config.municipality.name, authority: config.municipality.authority,
                                        officialSealPNG: Array(seal), officialSealMm: config.municipality.officialSealMm)
        do {
            let renderer = try CertificateRenderer(templatesDirectory: templatesDirectory,
                                                   fonts: FontStack(base: base, gaiji: gaiji), municipality: municipality)
            renderer.warmUp()
            return renderer
        } catch {
            throw StartError("templates or official seal: \(error)")
        }
    }

    /// `<replica path>/SUSPENDED`: while this file exists every card request is answered 503
    /// SERVICE_SUSPENDED (maintenance); removing it resumes issuance within a second. With
    /// `[replica] url` the switch is a row of the database instead, for every server at once.
    public static let suspensionFileName = "SUSPENDED"

    /// Follows the switch. A database that cannot be asked keeps the last state (its issuances
    /// fail meanwhile anyway) and is logged.
    func followSuspension() {
        do {
            let now = try suspension.isSet()
            if now != service.isSuspended {
                logger.notice(now ? "issuance suspended by the operators (SERVICE_SUSPENDED)" : "issuance resumed")
            }
            service.isSuspended = now
        } catch {
            logger.warning("suspension switch: \(error)")
        }
    }

    /// Ready when the replica, fonts, trust anchors (all opened at init) and a valid CRL are loaded.
    public var isReady: Bool { trust.hasValidCRL(at: Date()) }

    // MARK: - Running

    /// Runs both listeners until SIGTERM or SIGINT (or the surrounding task's graceful shutdown),
    /// then stops accepting, answers what is in flight and returns. `onListening` receives each
    /// listener's name and bound port.
    public func run(signals: [UnixSignal] = [.sigterm, .sigint],
                    onListening: @escaping @Sendable (String, Int) -> Void = { _, _ in }) async throws {
        let center = try application(name: "center", router: centerRouter(), address: config.listen.center,
                                     tls: try config.tls.map { tls throws(StartError) in
                                         try Self.tlsConfiguration(cert: tls.centerCert, key: tls.centerKey,
                                                                   clientCA: tls.centerClientCA, listener: "center")
                                     }, onListening: onListening)
        let sync = try application(name: "sync", router: syncRouter(), address: config.listen.sync,
                                   tls: try config.tls.map { tls throws(StartError) in
                                       try Self.tlsConfiguration(cert: tls.syncCert, key: tls.syncKey,
                                                                 clientCA: tls.syncClientCA, listener: "sync")
                                   }, onListening: onListening)
        if config.tls == nil {
            logger.warning("""
                DEVELOPMENT MODE: no [tls] — plain HTTP on loopback only (center \(config.listen.center), \
                sync \(config.listen.sync)); any loopback caller counts as the center and as the upstream
                """)
        }
        for notice in trust.crlNotices() where notice.problem != nil {
            logger.warning("trust.crl_dir \(notice)")
        }
        if !isReady {
            logger.warning("no currently valid CRL in trust.crl_dir: not ready; card requests get REVOCATION_UNAVAILABLE")
        }
        followSuspension()
        let group = ServiceGroup(configuration: .init(
            services: [center, sync, Housekeeping(server: self)],
            gracefulShutdownSignals: signals, logger: logger))
        let early = groupBox.lock.withLock {
            groupBox.group = group
            return groupBox.shutdownRequested
        }
        if early { await group.triggerGracefulShutdown() }
        try await group.run()
        try? await pool.shutdownGracefully()
    }

    func application(name: String, router: Router<BasicRequestContext>, address: ListenAddress,
                     tls: TLSConfiguration?, onListening: @escaping @Sendable (String, Int) -> Void) throws(StartError) -> some Service {
        let configuration = ApplicationConfiguration(address: .hostname(address.host, port: address.port),
                                                     serverName: nil)
        let server: HTTPServerBuilder
        if let tls {
            do {
                server = try .tls(.http1(), tlsConfiguration: tls)
            } catch {
                throw StartError("tls (\(name)): \(error)")
            }
        } else {
            server = .http1()
        }
        return Application(router: router, server: server, configuration: configuration,
                           onServerRunning: { channel in onListening(name, channel.localAddress?.port ?? address.port) },
                           logger: logger)
    }

    static func tlsConfiguration(cert: String, key: String, clientCA: String?, listener: String) throws(StartError) -> TLSConfiguration {
        let chain: [NIOSSLCertificate]
        let privateKey: NIOSSLPrivateKey
        do {
            chain = try NIOSSLCertificate.fromPEMFile(cert)
        } catch {
            throw StartError("tls.\(listener)_cert \(cert): cannot read a PEM certificate (\(error))")
        }
        do {
            privateKey = try NIOSSLPrivateKey(file: key, format: .pem)
        } catch {
            throw StartError("tls.\(listener)_key \(key): cannot read a PEM private key (\(error))")
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) }, privateKey: .privateKey(privateKey))
        configuration.minimumTLSVersion = .tlsv12
        if let clientCA {
            let roots: [NIOSSLCertificate]
            do {
                roots = try NIOSSLCertificate.fromPEMFile(clientCA)
            } catch {
                throw StartError("tls.\(listener)_client_ca \(clientCA): cannot read PEM certificates (\(error))")
            }
            // Clients must present a certificate from this CA; the handshake refuses any other.
            configuration.certificateVerification = .noHostnameVerification
            configuration.trustRoots = .certificates(roots)
        }
        return configuration
    }
}

/// Re-reads the CRL folder every second (a change takes effect well within the spec's 10 s),
/// follows the operators' suspension file, and erases expired answer bodies every minute, until
/// graceful shutdown.
struct Housekeeping: Service {
    let server: KofuServer

    func run() async throws {
        var ticks = 0
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            // On a thread of its own: parsing a CRL of a million entries takes about a second,
            // which would hold one of the cooperative pool's few threads (and so requests).
            // The suspension row of a database is asked there too (a query, not a file check).
            let trust = server.trust
            let notices = await withCheckedContinuation { (done: CheckedContinuation<[CRLNotice], Never>) in
                Thread.detachNewThread {
                    server.followSuspension()
                    done.resume(returning: trust.refreshCRLs())
                }
            }
            for notice in notices {
                if notice.problem == nil {
                    server.logger.info("trust.crl_dir \(notice)")
                } else {
                    server.logger.warning("trust.crl_dir \(notice)")
                }
            }
            ticks += 1
            if ticks % 60 == 0 { server.service.maintenance() }
        }
    }
}

/// Runs the issuance layer's blocking work on the server's thread pool, off the event loops.
/// At most `limit` jobs are handed to the pool at a time; later callers wait (asynchronously,
/// holding no thread) in arrival order, which pushes back on their connections instead of
/// growing the pool's queue without bound.
struct PoolRunner: WorkRunner {
    let pool: NIOThreadPool
    let limiter: WorkLimiter

    init(pool: NIOThreadPool, limit: Int) {
        self.pool = pool
        limiter = WorkLimiter(limit: limit)
    }

    func run<T: Sendable>(_ body: @escaping @Sendable () throws(IssuanceError) -> T) async throws(IssuanceError) -> T {
        await limiter.acquire()
        defer { limiter.release() }
        do {
            return try await pool.runIfActive { () throws -> T in try body() }
        } catch let error as IssuanceError {
            throw error
        } catch {
            throw IssuanceError(.internalError, "work pool: \(error)")
        }
    }
}

/// A counting semaphore for async callers (FIFO).
final class WorkLimiter: @unchecked Sendable {
    private let lock = NSLock()
    private let limit: Int
    private var active = 0
    private var waiting: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) { self.limit = max(1, limit) }

    func acquire() async {
        await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
            let admitted: Bool = lock.withLock {
                if active < limit {
                    active += 1
                    return true
                }
                waiting.append(c)
                return false
            }
            if admitted { c.resume() }
        }
    }

    func release() {
        let next: CheckedContinuation<Void, Never>? = lock.withLock {
            if waiting.isEmpty {
                active -= 1
                return nil
            }
            return waiting.removeFirst()  // the slot passes to the next caller
        }
        next?.resume()
    }
}
