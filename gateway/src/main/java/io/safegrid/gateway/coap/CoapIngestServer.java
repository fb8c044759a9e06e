package io.safegrid.gateway.coap;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import io.safegrid.model.DeviceType;
import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.Function;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.MapBasedOptionRegistry;
import org.eclipse.californium.core.coap.option.OptionRegistry;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.interceptors.MessageInterceptorAdapter;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * CoAP ingest for constrained devices (NB-IoT gas alarms, river gauges): a Californium server
 * with a plain CoAP endpoint (RFC 7252) and a CoAPS endpoint (DTLS 1.2 with PSK, Scandium; PSK
 * identity = device id, key = the device's secret), serving {@code POST
 * /devices/{id}/telemetry} and {@code POST /devices/{id}/events} (see {@link IngestResource} for
 * the answers and {@link DeviceSecretOption} for how plain CoAP carries the secret).
 *
 * <p>Use:
 *
 * <pre>{@code
 * var server = new CoapIngestServer(CoapSettings.defaults(), ingestSink,
 *     id -> site.secretOf(id),          // Optional<byte[]>, raw secret bytes (UTF-8 of "demo-gas-001")
 *     id -> site.typeOf(id),            // Optional<DeviceType>
 *     meterRegistry);
 * server.start();                       // binds; ports 0 are resolved now
 * int coap = server.coapPort(), coaps = server.coapsPort();
 * ...
 * server.close();
 * }</pre>
 *
 * <p>Request bodies, block1 reassembly included, are bounded by {@link
 * CoapSettings#maxBodyBytes()} (Californium's {@code CoapConfig.MAX_RESOURCE_BODY_SIZE}): the
 * blockwise layer answers 4.13 as soon as the bound is passed (or at the first block when the
 * device announces a larger Size1), so a device cannot make the gateway buffer more than that.
 *
 * <p>Plain CoAP devices' last known good sources (always checked, {@link
 * io.safegrid.gateway.mqtt.auth.RefusalGuard}) are read at construction from {@link
 * CoapSettings#lastGoodSourcesFile()} when it is set, and written there within 1 s of a change
 * and at {@link #close()} ({@link LastGoodSources}, review8 R8-3).
 *
 * <p>Metrics: see {@link CoapMetrics} ({@code safegrid.coap.*}).
 */
public final class CoapIngestServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(CoapIngestServer.class);

  static {
    CoapConfig.register();
    UdpConfig.register();
    DtlsConfig.register();
  }

  /**
   * Largest UDP datagram the plain CoAP endpoint receives (Californium {@code
   * UdpConfig.UDP_DATAGRAM_SIZE}): 65,535 bytes, the UDP length field's maximum (RFC 768), so no
   * datagram is ever cut by the receive buffer (IPv4 carries at most 65,507 bytes of payload).
   * One buffer of this size per UDP receiver thread. CoAPS is bounded by DTLS instead: one record
   * carries at most 16,384 bytes of plaintext (RFC 6347 4.1.1, RFC 5246 6.2.1), which Scandium
   * receives whole by default; a larger body needs block1 there.
   */
  static final int MAX_UDP_DATAGRAM_BYTES = 65_535;

  private final CoapSettings settings;
  private final CoapServer server;
  private final CoapEndpoint plainEndpoint;
  private final CoapEndpoint secureEndpoint;
  /** Sends plain CoAP's delayed 4.01s ({@link RefusalGuard}). */
  private final ScheduledExecutorService refusalTimer;
  private final LastGoodSources lastGoodSources; // null: kept in memory only
  private boolean started;

  /**
   * Builds the server; nothing is bound until {@link #start()}.
   *
   * @param settings ports (0 = free port, -1 = off), body bound, plain CoAP policy
   * @param sink where payloads go (the shared decode-and-store path)
   * @param secretLookup device id to its secret's raw bytes (for the PSK and for plain CoAP);
   *     empty for an unknown device. Called on Californium and Scandium threads: must not block
   * @param typeLookup device id to its type, for {@link CoapSettings#plainAllowedTypes()}
   * @param registry where the {@code safegrid.coap.*} meters go
   */
  public CoapIngestServer(
      CoapSettings settings,
      IngestSink sink,
      Function<String, Optional<byte[]>> secretLookup,
      Function<String, Optional<DeviceType>> typeLookup,
      MeterRegistry registry) {
    this(settings, sink, secretLookup, typeLookup, registry, CoapPresenceListener.NONE);
  }

  /**
   * Builds the server; nothing is bound until {@link #start()}.
   *
   * @param settings ports (0 = free port, -1 = off), body bound, plain CoAP policy
   * @param sink where payloads go (the shared decode-and-store path)
   * @param secretLookup device id to its secret's raw bytes (for the PSK and for plain CoAP);
   *     empty for an unknown device. Called on Californium and Scandium threads: must not block
   * @param typeLookup device id to its type, for {@link CoapSettings#plainAllowedTypes()}
   * @param registry where the {@code safegrid.coap.*} meters go
   * @param presence told of each request of an authenticated device (device presence)
   */
  public CoapIngestServer(
      CoapSettings settings,
      IngestSink sink,
      Function<String, Optional<byte[]>> secretLookup,
      Function<String, Optional<DeviceType>> typeLookup,
      MeterRegistry registry,
      CoapPresenceListener presence) {
    this(settings, sink, secretLookup, typeLookup, registry, presence, null);
  }

  /** As above; {@code refusals} null: {@link RefusalGuard#defaultsForDatagrams} for the known devices (tests give others). */
  CoapIngestServer(
      CoapSettings settings,
      IngestSink sink,
      Function<String, Optional<byte[]>> secretLookup,
      Function<String, Optional<DeviceType>> typeLookup,
      MeterRegistry registry,
      CoapPresenceListener presence,
      RefusalGuard refusalGuard) {
    Objects.requireNonNull(presence, "presence");
    this.settings = Objects.requireNonNull(settings, "settings");
    Objects.requireNonNull(sink, "sink");
    Objects.requireNonNull(registry, "registry");
    if (settings.coapPort() < 0 && settings.coapsPort() < 0) {
      throw new IllegalArgumentException("both CoAP and CoAPS are off");
    }
    Configuration config = configuration(settings.maxBodyBytes());
    CoapMetrics metrics = new CoapMetrics(registry);
    DeviceAuthenticator authenticator =
        new DeviceAuthenticator(secretLookup, typeLookup, settings.plainAllowedTypes());
    // plain CoAP's wrong secrets: the refusal policy of MQTT CONNECT (delay, slots, budget), for
    // datagrams whose source can be forged (a device's last known good source is always checked)
    RefusalGuard refusals = refusalGuard != null
        ? refusalGuard : RefusalGuard.defaultsForDatagrams(id -> secretLookup.apply(id).isPresent());
    // requests that proved their address with an Echo value (EchoChallenge): MQTT's policy, slots
    // and budgets of their own that forged datagrams cannot reach
    RefusalGuard provenRefusals = RefusalGuard.defaults(id -> secretLookup.apply(id).isPresent());
    EchoChallenge echo = new EchoChallenge(System::currentTimeMillis);
    refusalTimer = Executors.newSingleThreadScheduledExecutor(
        new DefaultThreadFactory("safegrid-coap-refusals", true));
    // the last known good sources of the previous run: a device at its usual address is checked
    // from its first request after a start, whatever forged datagrams were sent (review8 R8-3)
    if (settings.lastGoodSourcesFile() != null) {
      lastGoodSources = new LastGoodSources(settings.lastGoodSourcesFile(), refusalTimer);
      int n = lastGoodSources.restoreInto(refusals, provenRefusals);
      log.info("plain CoAP: last known good sources of {} devices read from {}", n, settings.lastGoodSourcesFile());
    } else {
      lastGoodSources = null;
    }

    server = new CoapServer(config);
    server.add(
        new DevicesResource(
            new IngestResource(IngestResource.Kind.TELEMETRY, sink, authenticator, metrics,
                settings.maxBodyBytes(), settings.overloadMaxAgeSeconds(), presence, refusals, provenRefusals,
                echo, refusalTimer),
            new IngestResource(IngestResource.Kind.EVENTS, sink, authenticator, metrics,
                settings.maxBodyBytes(), settings.overloadMaxAgeSeconds(), presence, refusals, provenRefusals,
                echo, refusalTimer)));

    OptionRegistry options =
        new MapBasedOptionRegistry(
            StandardOptionRegistry.getDefaultOptionRegistry(), DeviceSecretOption.DEFINITION);
    // answers Californium gives before (or instead of) a resource: count them with a reason
    MessageInterceptorAdapter rejectCounter =
        new MessageInterceptorAdapter() {
          @Override
          public void sendResponse(Response response) {
            switch (response.getCode()) {
              case REQUEST_ENTITY_TOO_LARGE -> metrics.reject("too_large");
              case NOT_FOUND -> metrics.reject("not_found");
              case METHOD_NOT_ALLOWED -> metrics.reject("method_not_allowed");
              default -> { }
            }
          }
        };

    if (settings.coapPort() >= 0) {
      plainEndpoint =
          new CoapEndpoint.Builder()
              .setConfiguration(config)
              .setInetSocketAddress(new InetSocketAddress(settings.host(), settings.coapPort()))
              .setOptionRegistry(options)
              .setLoggingTag("coap")
              .build();
      plainEndpoint.addInterceptor(rejectCounter);
      server.addEndpoint(plainEndpoint);
    } else {
      plainEndpoint = null;
    }
    if (settings.coapsPort() >= 0) {
      DtlsHandshakeFailures handshakeFailures =
          new DtlsHandshakeFailures(metrics, System::currentTimeMillis);
      DtlsConnectorConfig dtls =
          DtlsConnectorConfig.builder(config)
              .setAddress(new InetSocketAddress(settings.host(), settings.coapsPort()))
              .setAdvancedPskStore(new SecretPskStore(secretLookup))
              .setSessionListener(handshakeFailures.sessionListener())
              .setDatagramFilter(handshakeFailures.datagramFilter(config))
              .build();
      secureEndpoint =
          new CoapEndpoint.Builder()
              .setConfiguration(config)
              .setConnector(new DTLSConnector(dtls))
              .setOptionRegistry(options)
              .setLoggingTag("coaps")
              .build();
      secureEndpoint.addInterceptor(rejectCounter);
      server.addEndpoint(secureEndpoint);
    } else {
      secureEndpoint = null;
    }
  }

  private static Configuration configuration(int maxBodyBytes) {
    Configuration config = Configuration.createStandardWithoutFile();
    config.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, maxBodyBytes);
    // Receive any datagram UDP can carry. Californium's default UDP_DATAGRAM_SIZE (2,048 bytes)
    // discarded a larger single-datagram request (a device's cached backlog, no block1) before any
    // layer saw it: no answer, no count, no log (newcomer5 F2). With the whole UDP size, a body up
    // to maxBodyBytes is stored and one above it reaches IngestResource: 4.13, counted and kept.
    config.set(UdpConfig.UDP_DATAGRAM_SIZE, MAX_UDP_DATAGRAM_BYTES);
    // take block1 transfers in the 1 KiB blocks devices send, rather than asking for 512 bytes
    config.set(CoapConfig.PREFERRED_BLOCK_SIZE, 1024);
    config.set(DtlsConfig.DTLS_ROLE, DtlsRole.SERVER_ONLY);
    // Deduplication remembers each CON for EXCHANGE_LIFETIME (247 s) with its payload: bound it
    // per peer (64 messages) so a chatty device cannot grow the heap with its message rate.
    config.set(CoapConfig.DEDUPLICATOR, CoapConfig.DEDUPLICATOR_PEERS_MARK_AND_SWEEP);
    config.set(CoapConfig.PEERS_MARK_AND_SWEEP_MESSAGES, 64);
    return config;
  }

  /**
   * Binds the endpoints and starts serving; logs the bound ports.
   *
   * @throws IllegalStateException if a port cannot be bound
   */
  public synchronized void start() {
    if (started) {
      return;
    }
    server.start();
    for (var endpoint : server.getEndpoints()) {
      if (!endpoint.isStarted()) {
        server.destroy();
        throw new IllegalStateException("CoAP endpoint could not bind " + endpoint.getAddress());
      }
    }
    started = true;
    log.info("CoAP ingest listening: coap port {}, coaps port {} (max body {} bytes)",
        coapPort(), coapsPort(), settings.maxBodyBytes());
  }

  /** The bound UDP port of plain CoAP, after {@link #start()}; -1 if switched off. */
  public int coapPort() {
    return plainEndpoint == null ? -1 : plainEndpoint.getAddress().getPort();
  }

  /** The bound UDP port of CoAPS (DTLS PSK), after {@link #start()}; -1 if switched off. */
  public int coapsPort() {
    return secureEndpoint == null ? -1 : secureEndpoint.getAddress().getPort();
  }

  /** The settings this server was built with. */
  public CoapSettings settings() {
    return settings;
  }

  /** Stops serving and releases the sockets and threads. Idempotent. */
  @Override
  public synchronized void close() {
    server.destroy();
    refusalTimer.shutdownNow();
    if (lastGoodSources != null) {
      lastGoodSources.close(); // what changed in the last second
    }
    started = false;
  }
}
