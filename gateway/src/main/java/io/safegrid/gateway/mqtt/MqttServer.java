package io.safegrid.gateway.mqtt;

import io.micrometer.core.instrument.MeterRegistry;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.channel.Channel;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.IoHandlerFactory;
import io.netty.channel.epoll.Epoll;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.group.ChannelGroup;
import io.netty.channel.group.DefaultChannelGroup;
import io.netty.channel.socket.SocketChannel;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.timeout.IdleStateHandler;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.EventExecutor;
import io.netty.util.concurrent.GlobalEventExecutor;
import io.safegrid.gateway.ingest.DeadLetters;
import io.safegrid.gateway.ingest.IngestSink;
import io.safegrid.gateway.mqtt.auth.DeviceAuthenticator;
import io.safegrid.gateway.mqtt.auth.RefusalGuard;
import java.net.InetSocketAddress;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway's MQTT 3.1.1 and 5.0 server: devices publish readings, events and status; Netty
 * with netty-codec-mqtt, one handler per protocol concern.
 *
 * <p>Usage:
 *
 * <pre>{@code
 * MqttServer mqtt = MqttServer.builder()
 *     .port(1883)                      // 0 = a free port
 *     .ingest(ingestSink)
 *     .authenticator(authenticator)    // e.g. new Pbkdf2DeviceAuthenticator(hashes, Set.of())
 *     .limits(MqttLimits.defaults())
 *     .meterRegistry(registry)
 *     .presence(listener)
 *     .tls(new MqttTls(8883, certPem, keyPem, null))   // optional
 *     .build()
 *     .start();
 * int port = mqtt.port();
 * ...
 * mqtt.close();
 * }</pre>
 *
 * <p>Pipeline per connection (inbound order): [TLS] -> connection limit -> byte counter -> {@link
 * OversizeCapture} (the start of an oversize PUBLISH, for its dead letter) -> {@link
 * MqttDecoder} (max packet size, strict UTF-8) / {@link MqttEncoder} -> malformed packets ->
 * packet counter (in and out) -> idle timer (connect timeout, then keepalive) -> {@link InboundGate}
 * (back-pressure) -> CONNECT/auth -> keepalive/PINGREQ -> rate limit -> PUBLISH (QoS 0/1/2) ->
 * SUBSCRIBE -> protocol errors.
 *
 * <p>Sessions are not persisted: CONNACK always says session present = 0, nothing is queued for
 * an offline device. A QoS 2 message resent after a reconnect may reach the sink twice; readings
 * are unique on (device, metric, time) so it is stored once. Retained messages and will delay are
 * not supported (MQTT 5 CONNACK says Retain Available = 0).
 */
public final class MqttServer implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MqttServer.class);

  static final String IDLE = "idle";

  private final String host;
  private final int requestedPort;
  private final MqttTls tls;
  private final IngestSink sink;
  private final DeviceAuthenticator authenticator;
  private final MqttLimits limits;
  private final MqttMetrics metrics;
  private final DeadLetters deadLetters;
  /** The log of ACL-refused PUBLISH packets, limited per device (shared by all connections). */
  private final AclRefusalLog aclRefusals = new AclRefusalLog();
  private final SessionRegistry registry;
  private final int ioThreads;
  private MqttTransport transport; // io_uring may step back to epoll in start()
  private final boolean transportForced; // asked for by name (builder or property): no stepping back
  private final Function<MqttTransport, IoHandlerFactory> ioHandlers;
  private final Map<String, RateLimitHandler.TokenBucket> buckets = RateLimitHandler.newBuckets();
  /** One per event loop: store completions handed back in bursts (see {@link LoopCompletions}). */
  private final Map<EventExecutor, LoopCompletions> completions = new ConcurrentHashMap<>();

  private EventLoopGroup bossGroup;
  private EventLoopGroup workerGroup;
  private ThreadPoolExecutor authExecutor;
  /** Refusal slots and budgets of CONNECTs with wrong secrets, shared by both listeners. */
  private final RefusalGuard refusals;
  private final ChannelGroup channels = new DefaultChannelGroup("mqtt", GlobalEventExecutor.INSTANCE);
  private Channel plainChannel;
  private Channel tlsChannel;

  private MqttServer(Builder b) {
    this.host = b.host;
    this.requestedPort = b.port;
    this.tls = b.tls;
    this.sink = Objects.requireNonNull(b.sink, "ingest sink");
    this.authenticator = Objects.requireNonNull(b.authenticator, "authenticator");
    this.refusals = b.refusals != null ? b.refusals : RefusalGuard.defaults(authenticator);
    this.limits = Objects.requireNonNull(b.limits, "limits");
    this.metrics = new MqttMetrics(Objects.requireNonNull(b.registry, "meter registry"));
    this.deadLetters = new DeadLetters(sink);
    this.registry = new SessionRegistry(Objects.requireNonNull(b.presence, "presence listener"), sink);
    this.ioThreads = b.ioThreads;
    // the builder's choice, else the operator's JVM-wide one (the system property)
    String source = b.transport != null ? "MQTT server transport" : MqttTransport.PROPERTY;
    String forced = b.transport != null ? b.transport : System.getProperty(MqttTransport.PROPERTY);
    this.transport = MqttTransport.choose(b.nativeTransport, forced, source);
    this.ioHandlers = b.ioHandlers;
    this.transportForced = forced != null;
    if (b.nativeTransport && forced != null) {
      log.info("MQTT: {} asks for {}, using {}", source, forced, transport.label());
    } else if (b.nativeTransport && transport != MqttTransport.IO_URING) {
      log.info("MQTT: using {} ({})", transport.label(), MqttTransport.unavailabilityCauses());
    }
  }

  /** A builder; ingest, authenticator and meter registry are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Binds the plain listener (and the TLS one if configured) and starts accepting.
   *
   * @return this
   * @throws IllegalStateException if a port cannot be bound (e.g. in use)
   * @throws IllegalArgumentException if the TLS key or certificate cannot be used
   */
  public synchronized MqttServer start() {
    if (plainChannel != null) {
      throw new IllegalStateException("already started");
    }
    SslContext ssl = tls == null ? null : tls.sslContext();
    try {
      startEventLoops();
    } catch (RuntimeException e) {
      // Netty's availability probe sets up a one-entry ring; the loops' full-size rings can still
      // fail (a container's memory limit): then epoll, unless io_uring was asked for by name
      if (transport != MqttTransport.IO_URING || transportForced || !Epoll.isAvailable()) {
        throw e;
      }
      log.warn("MQTT: the io_uring event loops could not start ({}); using epoll", e.toString());
      transport = MqttTransport.EPOLL;
      startEventLoops();
    }
    // used only by an authenticator whose check is itself slow (PBKDF2 hashes); with a bounded
    // queue a pool grows past its core size only once the queue is full, so core = maximum
    int authThreads = Math.min(2, Runtime.getRuntime().availableProcessors());
    authExecutor = new ThreadPoolExecutor(authThreads, authThreads, 30, TimeUnit.SECONDS,
        new ArrayBlockingQueue<>(4096), new DefaultThreadFactory("safegrid-mqtt-auth", true));
    authExecutor.allowCoreThreadTimeOut(true);
    try {
      plainChannel = bind(requestedPort, null);
      if (ssl != null) {
        tlsChannel = bind(tls.port(), ssl);
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
    log.info("MQTT listening on {}:{}{} ({} transport)", host, port(),
        tlsChannel == null ? "" : ", MQTT over TLS on " + host + ":" + tlsPort(),
        transport.label());
    return this;
  }

  /** The accept and I/O event loop groups on {@link #transport}; on a failure neither is left running. */
  private void startEventLoops() {
    bossGroup = new MultiThreadIoEventLoopGroup(1, new DefaultThreadFactory("safegrid-mqtt-accept", true),
        ioHandlers.apply(transport));
    try {
      workerGroup = new MultiThreadIoEventLoopGroup(ioThreads, new DefaultThreadFactory("safegrid-mqtt-io", true),
          ioHandlers.apply(transport));
    } catch (RuntimeException e) {
      bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
      bossGroup = null;
      throw e;
    }
  }

  private Channel bind(int port, SslContext ssl) {
    ConnectionLimitHandler connectionLimit = new ConnectionLimitHandler(metrics, limits.maxConnections());
    ByteMetricsHandler bytes = new ByteMetricsHandler(metrics);
    MessageMetricsHandler messages = new MessageMetricsHandler(metrics);
    ServerBootstrap bootstrap =
        new ServerBootstrap()
            .group(bossGroup, workerGroup)
            .channel(transport.serverChannel())
            .option(ChannelOption.SO_BACKLOG, 1024)
            .option(ChannelOption.SO_REUSEADDR, true)
            .childOption(ChannelOption.TCP_NODELAY, true)
            .childHandler(
                new ChannelInitializer<SocketChannel>() {
                  @Override
                  protected void initChannel(SocketChannel ch) {
                    ch.attr(Session.KEY).set(new Session(ch));
                    channels.add(ch);
                    ChannelPipeline p = ch.pipeline();
                    if (ssl != null) {
                      p.addLast("tls", ssl.newHandler(ch.alloc()));
                    }
                    p.addLast("connections", connectionLimit);
                    p.addLast("bytes", bytes);
                    p.addLast("oversize", new OversizeCapture(limits.maxPacketBytes()));
                    p.addLast("decoder", new MqttDecoder(limits.maxPacketBytes(), 256, true));
                    p.addLast("encoder", MqttEncoder.INSTANCE);
                    p.addLast("malformed", new MalformedPacketHandler(metrics, deadLetters));
                    p.addLast("messages", messages);
                    p.addLast(IDLE, new IdleStateHandler(limits.connectTimeoutMillis(), 0, 0, TimeUnit.MILLISECONDS));
                    p.addLast("gate", new InboundGate());
                    p.addLast("connect", new ConnectHandler(authenticator, authExecutor, refusals, registry, metrics, limits));
                    p.addLast("keepalive", new KeepaliveHandler(metrics));
                    p.addLast("rate", new RateLimitHandler(buckets, limits.messagesPerSecondPerDevice(), metrics));
                    p.addLast("publish", new PublishHandler(sink, deadLetters, aclRefusals, registry, metrics, limits.receiveMaximum(),
                        loop -> completions.computeIfAbsent(loop, LoopCompletions::new)));
                    p.addLast("subscribe", new SubscribeHandler(metrics));
                    p.addLast("errors", new ProtocolErrorHandler(metrics));
                  }
                });
    try {
      return bootstrap.bind(host, port).syncUninterruptibly().channel();
    } catch (Exception e) {
      throw new IllegalStateException("cannot bind MQTT " + (ssl == null ? "" : "TLS ") + "listener to "
          + host + ":" + port + ": " + e.getMessage(), e);
    }
  }

  /** The bound port of the plain listener (the chosen one if 0 was asked). */
  public int port() {
    return ((InetSocketAddress) plainChannel.localAddress()).getPort();
  }

  /** The bound port of the TLS listener, or -1 if there is none. */
  public int tlsPort() {
    return tlsChannel == null ? -1 : ((InetSocketAddress) tlsChannel.localAddress()).getPort();
  }

  /**
   * The socket transport in use: {@code "io_uring"} or {@code "epoll"} (native, Linux) or {@code
   * "nio"}; see {@link MqttTransport}.
   */
  public String transport() {
    return transport.label();
  }

  /** Open TCP connections now. */
  public int connectionCount() {
    return metrics.connections.get();
  }

  /** True while the device has an accepted MQTT connection. */
  public boolean isConnected(String deviceId) {
    return registry.isConnected(deviceId);
  }

  /** Stops accepting, closes every connection (no offline events), and releases threads. */
  @Override
  public synchronized void close() {
    registry.shutdown();
    if (plainChannel != null) {
      plainChannel.close().syncUninterruptibly();
    }
    if (tlsChannel != null) {
      tlsChannel.close().syncUninterruptibly();
    }
    channels.close().awaitUninterruptibly(5, TimeUnit.SECONDS);
    if (workerGroup != null) {
      workerGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (bossGroup != null) {
      bossGroup.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
    if (authExecutor != null) {
      authExecutor.shutdownNow();
    }
  }

  /** Builds an {@link MqttServer}; see the class comment. */
  public static final class Builder {
    private String host = "0.0.0.0";
    private int port = 1883;
    private MqttTls tls;
    private IngestSink sink;
    private DeviceAuthenticator authenticator;
    private RefusalGuard refusals; // null: RefusalGuard.defaults(authenticator)
    private MqttLimits limits = MqttLimits.defaults();
    private MeterRegistry registry;
    private DevicePresenceListener presence = DevicePresenceListener.NONE;
    private int ioThreads;
    private boolean nativeTransport = true;
    private String transport; // null: safegrid.mqtt.transport, else the default order
    private Function<MqttTransport, IoHandlerFactory> ioHandlers = MqttTransport::ioHandlerFactory;

    private Builder() {}

    /** Address to bind, default {@code 0.0.0.0}; tests use {@code 127.0.0.1}. */
    public Builder host(String host) {
      this.host = Objects.requireNonNull(host);
      return this;
    }

    /** Plain MQTT port, default 1883; 0 picks a free port. */
    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /** Also listen with TLS; null (default) for no TLS listener. */
    public Builder tls(MqttTls tls) {
      this.tls = tls;
      return this;
    }

    /** Where telemetry and events go (required). */
    public Builder ingest(IngestSink sink) {
      this.sink = sink;
      return this;
    }

    /** Checks device credentials (required). */
    public Builder authenticator(DeviceAuthenticator authenticator) {
      this.authenticator = authenticator;
      return this;
    }

    /**
     * The refusal policy of CONNECTs with wrong secrets (delay, slots per source and in all,
     * per-device budget); default {@link RefusalGuard#defaults} for the authenticator's devices.
     */
    public Builder refusals(RefusalGuard refusals) {
      this.refusals = refusals;
      return this;
    }

    /** Limits, default {@link MqttLimits#defaults()}. */
    public Builder limits(MqttLimits limits) {
      this.limits = limits;
      return this;
    }

    /** Where the {@code safegrid.mqtt.*} meters go (required). */
    public Builder meterRegistry(MeterRegistry registry) {
      this.registry = registry;
      return this;
    }

    /** Told of online / offline changes; default none. */
    public Builder presence(DevicePresenceListener presence) {
      this.presence = presence;
      return this;
    }

    /** Netty I/O threads; 0 (default) = Netty's default (2 x cores). */
    public Builder ioThreads(int ioThreads) {
      this.ioThreads = ioThreads;
      return this;
    }

    /**
     * Whether to use a native transport where it loads (default true: io_uring, else epoll, on
     * Linux; NIO elsewhere; the system property {@code safegrid.mqtt.transport} may force one).
     * False forces the JDK's NIO, e.g. to compare them.
     */
    public Builder nativeTransport(boolean nativeTransport) {
      this.nativeTransport = nativeTransport;
      return this;
    }

    /**
     * Forces this server's socket transport by name: {@code io_uring}, {@code epoll} or {@code
     * nio} (any case), as the system property {@code safegrid.mqtt.transport} does for the whole
     * JVM, which this wins over; null (the default) leaves the choice to the property, else to the
     * default order ({@link #nativeTransport}). A native transport asked for but not available
     * falls back as without it; io_uring named here does not step back to epoll when its loops
     * cannot start. A name that is none of the three makes {@link #build} throw {@link
     * IllegalArgumentException}.
     */
    public Builder transport(String transport) {
      this.transport = transport;
      return this;
    }

    /** Tests: the event loops' I/O handler for a transport (default {@link MqttTransport#ioHandlerFactory}). */
    Builder ioHandlers(Function<MqttTransport, IoHandlerFactory> ioHandlers) {
      this.ioHandlers = Objects.requireNonNull(ioHandlers);
      return this;
    }

    /** The server, not yet started ({@link MqttServer#start}). */
    public MqttServer build() {
      return new MqttServer(this);
    }
  }
}
