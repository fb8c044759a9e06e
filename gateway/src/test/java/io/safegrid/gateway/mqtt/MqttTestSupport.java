package io.safegrid.gateway.mqtt;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.mqtt.auth.Pbkdf2DeviceAuthenticator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;

/** A server on a free loopback port with devices {@code gas-001..gas-003} (secret {@code s-ID}). */
final class MqttTestSupport implements AutoCloseable {

  static final Pbkdf2DeviceAuthenticator AUTH =
      Pbkdf2DeviceAuthenticator.fromSecrets(
          Map.of("gas-001", "s-gas-001", "gas-002", "s-gas-002", "gas-003", "s-gas-003"));

  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  final List<PresenceEvent> presence = new CopyOnWriteArrayList<>();
  final MqttServer server;

  MqttTestSupport(IngestSink sink, MqttLimits limits) {
    this(sink, limits, true);
  }

  /** @param nativeTransport false forces the JDK's NIO ({@link MqttServer.Builder#nativeTransport}) */
  MqttTestSupport(IngestSink sink, MqttLimits limits, boolean nativeTransport) {
    this(sink, limits, nativeTransport, MqttTransport::ioHandlerFactory);
  }

  /** @param ioHandlers the event loops' I/O handler per transport ({@link MqttServer.Builder#ioHandlers}) */
  MqttTestSupport(IngestSink sink, MqttLimits limits, boolean nativeTransport,
      java.util.function.Function<MqttTransport, io.netty.channel.IoHandlerFactory> ioHandlers) {
    this(sink, limits, nativeTransport, null, ioHandlers);
  }

  /**
   * @param transport a transport forced by name ({@link MqttServer.Builder#transport}: this server
   *     only, no JVM-wide property), or null
   * @param ioHandlers the event loops' I/O handler per transport ({@link MqttServer.Builder#ioHandlers})
   */
  MqttTestSupport(IngestSink sink, MqttLimits limits, boolean nativeTransport, String transport,
      java.util.function.Function<MqttTransport, io.netty.channel.IoHandlerFactory> ioHandlers) {
    server =
        MqttServer.builder()
            .ioHandlers(ioHandlers)
            .host("127.0.0.1")
            .port(0)
            .ingest(sink)
            .authenticator(AUTH)
            .limits(limits)
            .meterRegistry(registry)
            .presence(presence::add)
            .ioThreads(2)
            .nativeTransport(nativeTransport)
            .transport(transport)
            .build()
            .start();
  }

  /**
   * A started server on a free loopback port in front of the real ingest path, its meters in the
   * same registry, for devices {@code ids} with the demo secrets ({@code demo-ID}); {@code
   * ingest.close()} closes it.
   */
  static MqttServer onTestDatabase(IngestOnTestDatabase ingest, MqttLimits limits, String... ids) {
    Map<String, String> secrets = new java.util.HashMap<>();
    for (String id : ids) {
      secrets.put(id, "demo-" + id);
    }
    return ingest.closing(MqttServer.builder()
        .host("127.0.0.1")
        .port(0)
        .ingest(ingest.sink)
        .authenticator(Pbkdf2DeviceAuthenticator.fromSecrets(secrets))
        .limits(limits)
        .meterRegistry(ingest.registry)
        .build()
        .start());
  }

  String tcpUrl() {
    return "tcp://127.0.0.1:" + server.port();
  }

  double rejects(String reason) {
    var c = registry.find("safegrid.mqtt.rejects").tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  @Override
  public void close() {
    server.close();
  }
}
