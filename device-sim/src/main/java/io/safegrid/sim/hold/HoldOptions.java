package io.safegrid.sim.hold;

import io.netty.handler.codec.mqtt.MqttVersion;
import io.safegrid.sim.link.netty.SocketTransport;
import java.nio.file.Path;

/**
 * What {@code sim hold} does.
 *
 * @param devices devices to connect, >= 1
 * @param holdS seconds to stay connected once all handshakes are done; 0 = until the process is
 *     stopped (SIGTERM / Ctrl-C)
 * @param mqttUri broker or gateway, {@code tcp://host:port}
 * @param site site file to take device ids and secrets from, or null for synthetic devices
 *     {@code hold-00001}.. (secret {@code demo-hold-00001}) for a broker without authentication
 * @param idPrefix only the site's devices whose id starts with this (e.g. {@code bench-}); empty
 *     for all, in file order
 * @param version MQTT 3.1.1 or 5
 * @param keepAliveS MQTT keepalive announced and kept (PINGREQ), seconds
 * @param ioThreads Netty event loop threads
 * @param connectConcurrency most handshakes at a time
 * @param connectBudgetS stop starting handshakes after this many seconds
 * @param publishOnce whether each device publishes one QoS 1 reading (0 %LEL) after connecting,
 *     as a device's first report would
 * @param ioTransport socket transport of the event loops (io_uring, epoll or NIO, as {@link
 *     SocketTransport#choose} gave it)
 */
public record HoldOptions(
    int devices,
    int holdS,
    String mqttUri,
    Path site,
    String idPrefix,
    MqttVersion version,
    int keepAliveS,
    int ioThreads,
    int connectConcurrency,
    int connectBudgetS,
    boolean publishOnce,
    SocketTransport ioTransport) {

  /**
   * Validates every value against what it means (the simulator turns the exception into a usage
   * error, exit code 2, before anything connects).
   *
   * @throws IllegalArgumentException naming the bad option and the value given
   */
  public HoldOptions {
    if (devices < 1) {
      throw new IllegalArgumentException("--devices must be >= 1, was " + devices);
    }
    if (holdS < 0) {
      throw new IllegalArgumentException("--hold-s must be >= 0 (0 = until stopped), was " + holdS);
    }
    if (keepAliveS < 1 || keepAliveS > 65_535) {
      throw new IllegalArgumentException("--keepalive must be 1..65535 s, was " + keepAliveS);
    }
    if (ioThreads < 1) {
      throw new IllegalArgumentException("--io-threads must be >= 1, was " + ioThreads);
    }
    if (connectConcurrency < 1) {
      throw new IllegalArgumentException("--connect-concurrency must be >= 1, was " + connectConcurrency);
    }
    if (connectBudgetS < 1) {
      throw new IllegalArgumentException("--connect-budget-s must be >= 1, was " + connectBudgetS);
    }
    idPrefix = idPrefix == null ? "" : idPrefix;
    ioTransport = ioTransport == null ? SocketTransport.NIO : ioTransport;
  }
}
