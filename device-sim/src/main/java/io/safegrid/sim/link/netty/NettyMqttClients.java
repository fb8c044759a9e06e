package io.safegrid.sim.link.netty;

import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.util.concurrent.EventExecutor;
import io.safegrid.sim.site.SimDevice;
import java.net.URI;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The shared side of the Netty MQTT devices: one event loop group (by default 2 threads, daemon,
 * named {@code sim-mqtt-io-*}) that every {@link NettyMqttLink} it opens runs on, on io_uring,
 * else epoll, else NIO, as the gateway's MQTT server ({@link SocketTransport}). A
 * simulator run makes one, opens its links, and closes it last (closing it drops every link
 * still open).
 *
 * <p>Only plain TCP ({@code tcp://host:port} or {@code mqtt://host:port}); TLS is not
 * supported here (use the Paho client).
 */
public final class NettyMqttClients implements AutoCloseable {

  /** MQTT keepalive the links announce in CONNECT unless told otherwise, seconds. */
  public static final int DEFAULT_KEEPALIVE_S = 30;

  /** Largest packet the links accept from the far end, bytes (they only expect acks). */
  static final int MAX_INBOUND_PACKET_BYTES = 1 << 20;

  private final EventLoopGroup group;
  private final Bootstrap bootstrap;
  private final int keepAliveS;
  private final long connAckTimeoutMillis;
  private final SocketTransport transport;

  /**
   * On the transport {@link SocketTransport#fromProperty()} gives (io_uring, else epoll, else NIO).
   *
   * @param ioThreads event loop threads, 1 or more (2 suits a 2-core machine)
   * @param keepAliveS MQTT keepalive announced in CONNECT, seconds, 1..65535; a link sends
   *     PINGREQ when it wrote nothing for that long and drops the connection when it heard
   *     nothing for twice that long
   * @param connAckTimeoutMillis how long a link waits for CONNACK after the TCP connect, ms
   *     (the gateway checks a first CONNECT with PBKDF2: allow seconds under load)
   * @throws IllegalArgumentException on a bad thread count or keepalive
   */
  public NettyMqttClients(int ioThreads, int keepAliveS, long connAckTimeoutMillis) {
    this(ioThreads, keepAliveS, connAckTimeoutMillis, SocketTransport.fromProperty());
  }

  /**
   * @param ioThreads event loop threads, 1 or more (2 suits a 2-core machine)
   * @param keepAliveS MQTT keepalive announced in CONNECT, seconds, 1..65535
   * @param connAckTimeoutMillis how long a link waits for CONNACK after the TCP connect, ms
   * @param transport the socket transport wanted ({@link SocketTransport#choose}); io_uring whose
   *     rings cannot be set up steps back to epoll ({@link SocketTransport#newGroup})
   * @throws IllegalArgumentException on a bad thread count or keepalive
   */
  public NettyMqttClients(int ioThreads, int keepAliveS, long connAckTimeoutMillis, SocketTransport transport) {
    if (ioThreads < 1) {
      throw new IllegalArgumentException("--io-threads must be >= 1, was " + ioThreads);
    }
    if (keepAliveS < 1 || keepAliveS > 65_535) {
      throw new IllegalArgumentException("--keepalive must be 1..65535 s, was " + keepAliveS);
    }
    this.keepAliveS = keepAliveS;
    this.connAckTimeoutMillis = connAckTimeoutMillis;
    group = transport.newGroup(ioThreads, "sim-mqtt-io");
    this.transport = SocketTransport.of((EventLoop) group.next());
    bootstrap = new Bootstrap()
        .group(group)
        .channel(this.transport.socketChannel())
        .option(ChannelOption.TCP_NODELAY, true)
        .option(ChannelOption.SO_KEEPALIVE, false)
        .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, 10_000);
  }

  /** Two event loop threads (one on a single-core machine), keepalive 30 s, CONNACK within 30 s. */
  public NettyMqttClients() {
    this(Math.min(2, Runtime.getRuntime().availableProcessors()), DEFAULT_KEEPALIVE_S, 30_000);
  }

  /**
   * A link for {@code device} (not yet connected: call {@link NettyMqttLink#connect()}).
   *
   * @param brokerUri {@code tcp://host:port} (port default 1883)
   * @param password the secret presented (wrong on purpose for the wrong-secret fault)
   * @param version {@link MqttVersion#MQTT_3_1_1} or {@link MqttVersion#MQTT_5}
   * @throws IllegalArgumentException on a URI that is not {@code tcp://} or {@code mqtt://}
   */
  public NettyMqttLink open(String brokerUri, SimDevice device, String password, MqttVersion version) {
    URI uri = URI.create(brokerUri);
    String scheme = uri.getScheme() == null ? "" : uri.getScheme();
    if (!scheme.equals("tcp") && !scheme.equals("mqtt") || uri.getHost() == null) {
      throw new IllegalArgumentException(
          "the Netty MQTT client takes tcp://host:port, was " + brokerUri + " (use --mqtt-client paho for TLS)");
    }
    if (version != MqttVersion.MQTT_3_1_1 && version != MqttVersion.MQTT_5) {
      throw new IllegalArgumentException("MQTT 3.1.1 or 5 only, was " + version);
    }
    int port = uri.getPort() > 0 ? uri.getPort() : 1883;
    return new NettyMqttLink(bootstrap, uri.getHost(), port, device.id(), password, version, keepAliveS,
        connAckTimeoutMillis);
  }

  /** The socket transport the event loops run on (after any step back from io_uring). */
  public SocketTransport transport() {
    return transport;
  }

  /** The event loops links run on (a pacer per loop issues its links' publishes on that thread). */
  public List<EventLoop> eventLoops() {
    List<EventLoop> loops = new ArrayList<>();
    for (EventExecutor e : group) {
      loops.add((EventLoop) e);
    }
    return loops;
  }

  /** Closes every link still open and stops the event loop threads (waits up to 5 s). */
  @Override
  public void close() {
    group.shutdownGracefully(0, 2, TimeUnit.SECONDS).awaitUninterruptibly(5, TimeUnit.SECONDS);
  }
}
