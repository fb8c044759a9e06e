package io.safegrid.gateway.mqtt.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.codec.mqtt.MqttConnAckMessage;
import io.netty.handler.codec.mqtt.MqttConnectReturnCode;
import io.netty.handler.codec.mqtt.MqttDecoder;
import io.netty.handler.codec.mqtt.MqttEncoder;
import io.netty.handler.codec.mqtt.MqttMessage;
import io.netty.handler.codec.mqtt.MqttMessageBuilders;
import io.netty.handler.codec.mqtt.MqttMessageIdVariableHeader;
import io.netty.handler.codec.mqtt.MqttMessageType;
import io.netty.handler.codec.mqtt.MqttQoS;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.netty.util.ReferenceCountUtil;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import io.safegrid.gateway.mqtt.MqttLimits;
import io.safegrid.gateway.mqtt.MqttServer;
import io.safegrid.gateway.mqtt.auth.SiteSecretAuthenticator;
import io.safegrid.gateway.storage.StorageConfig;
import io.safegrid.gateway.storage.TimescaleReadingStore;
import io.safegrid.schema.SchemaMigrator;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.Recorder;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * MQTT ingest benchmark (not a test; run by {@code bench/mqtt.sh}): many devices publish QoS 1
 * readings through the real stack (MqttServer -> IngestService -> TimescaleReadingStore -> a
 * fresh database {@code mqtt_bench}); each device keeps INFLIGHT PUBLISH outstanding and sends
 * the next one when a PUBACK comes back (closed loop). Prints durable readings/s (PUBACKs
 * received, one reading each) and the PUBACK latency p50/p99 the devices saw, then checks the
 * rows are in {@code readings}.
 *
 * <p>The devices are plain Netty MQTT 3.1.1 clients (netty-codec-mqtt) on {@code
 * -Dbench.clientThreads} event-loop threads (default 1), a few microseconds of CPU per message,
 * so the figure measures the gateway rather than the client library.
 *
 * <p>Args: JDBC_URL USER PASSWORD DEVICES SECONDS INFLIGHT_PER_DEVICE WARMUP_SECONDS [HOST:PORT]
 *
 * <p>With HOST:PORT the devices publish to a gateway already running there instead (e.g. the
 * gateway jar with {@code bench/run}'s site): device ids {@code bench-00001}.., secret {@code
 * demo-<id>}; JDBC_URL is then that gateway's database, whose {@code readings} are counted before
 * and after (and not dropped).
 */
public final class MqttBench {

  public static void main(String[] args) throws Exception {
    String server = args[0];
    String user = args[1];
    String password = args[2];
    int devices = Integer.parseInt(args[3]);
    int seconds = Integer.parseInt(args[4]);
    int inflight = Integer.parseInt(args[5]);
    int warmup = Integer.parseInt(args[6]);
    String external = args.length > 7 ? args[7] : null;

    String dbName = "mqtt_bench";
    String url;
    MqttServer mqtt = null;
    TimescaleReadingStore store = null;
    String host = "127.0.0.1";
    int port;
    if (external == null) {
      try (Connection c = DriverManager.getConnection(server, user, password); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
        st.execute("CREATE DATABASE " + dbName);
      }
      url = server.substring(0, server.lastIndexOf('/') + 1) + dbName;
      PGSimpleDataSource ds = new PGSimpleDataSource();
      ds.setURL(url);
      ds.setUser(user);
      ds.setPassword(password);
      SchemaMigrator.migrate(ds);
      Map<String, String> secrets = new HashMap<>();
      for (int d = 1; d <= devices; d++) {
        secrets.put(id(d), "demo-" + id(d));
      }
      Path spool = Files.createTempDirectory("mqtt-bench-spool");
      SimpleMeterRegistry registry = new SimpleMeterRegistry();
      store = new TimescaleReadingStore(StorageConfig.defaults(url, user, password, spool), registry);
      mqtt =
          MqttServer.builder()
              .host(host)
              .port(0)
              .ingest(new IngestService(store, IngestListener.NONE, registry))
              .authenticator(SiteSecretAuthenticator.of(secrets))
              // the per-device rate limit would cap the figure, not measure the ingest path
              .limits(MqttLimits.defaults().withMessagesPerSecondPerDevice(1_000_000))
              .meterRegistry(registry)
              .build()
              .start();
      port = mqtt.port();
    } else {
      url = server;
      host = external.substring(0, external.lastIndexOf(':'));
      port = Integer.parseInt(external.substring(external.lastIndexOf(':') + 1));
    }
    long rowsBefore = countRows(url, user, password);

    Recorder latency = new Recorder(3);
    AtomicLong acked = new AtomicLong();
    AtomicLong refused = new AtomicLong();
    int clientThreads = Integer.getInteger("bench.clientThreads", 1);
    EventLoopGroup group = new MultiThreadIoEventLoopGroup(clientThreads,
        new DefaultThreadFactory("bench-client", true), NioIoHandler.newFactory());
    CountDownLatch connected = new CountDownLatch(devices);
    // each run its own times (ts = base + seq per device): a second run against the same database
    // (e.g. after a warm-up run) must not resend stored (device, metric, time), which the contract
    // stores once, or rows could not be checked against PUBACKs
    long base = System.currentTimeMillis();
    Bootstrap bootstrap = new Bootstrap()
        .group(group)
        .channel(NioSocketChannel.class)
        .option(ChannelOption.TCP_NODELAY, true);
    List<Device> all = new ArrayList<>();
    for (int d = 1; d <= devices; d++) {
      Device device = new Device(id(d), inflight, base, latency, acked, refused, connected);
      all.add(device);
      bootstrap.clone().handler(new ChannelInitializer<SocketChannel>() {
        @Override
        protected void initChannel(SocketChannel ch) {
          ch.pipeline().addLast(MqttEncoder.INSTANCE, new MqttDecoder(), device);
        }
      }).connect(host, port);
      if (d % 64 == 0) {
        Thread.sleep(5); // do not flood the accept queue
      }
    }
    if (!connected.await(120, TimeUnit.SECONDS)) {
      System.out.printf("ERROR: only %d of %d devices connected%n", devices - connected.getCount(), devices);
      System.exit(1);
    }
    System.out.printf("%d devices connected, %d in flight each; warming up %d s%n", devices, inflight, warmup);
    for (Device d : all) {
      d.start();
    }
    Thread.sleep(warmup * 1000L);
    latency.reset();
    long startAcked = acked.get();
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long t1 = System.nanoTime();
    long n = acked.get() - startAcked;
    Histogram h = latency.getIntervalHistogram();
    for (Device d : all) {
      d.stop();
    }
    // let the outstanding PUBACKs arrive, then count
    long last = -1;
    for (int i = 0; i < 100 && last != acked.get(); i++) {
      last = acked.get();
      Thread.sleep(200);
    }
    for (Device d : all) {
      d.close();
    }
    group.shutdownGracefully(0, 1, TimeUnit.SECONDS).syncUninterruptibly();
    if (mqtt != null) {
      mqtt.close();
      store.close();
    }
    long rows = countRows(url, user, password) - rowsBefore;
    double perSecond = n / ((t1 - t0) / 1e9);
    System.out.printf("devices=%d inflight/device=%d measured=%d s client threads=%d target=%s%n",
        devices, inflight, seconds, clientThreads, external == null ? "in-process" : external);
    System.out.printf("QoS 1 durable readings/s: %.0f%n", perSecond);
    System.out.printf("PUBACK latency ms: p50=%.2f p99=%.2f max=%.2f (n=%d)%n",
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getMaxValue() / 1e6, h.getTotalCount());
    System.out.printf("acked in total=%d, refused=%d, rows added to readings=%d%n", acked.get(), refused.get(), rows);
    if (rows < acked.get()) {
      System.out.println("ERROR: fewer rows than PUBACKs");
      System.exit(1);
    }
    if (external == null) {
      try (Connection c = DriverManager.getConnection(server, user, password); Statement st = c.createStatement()) {
        st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
      }
    }
    System.exit(0);
  }

  private static long countRows(String url, String user, String password) throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM readings")) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String id(int d) {
    return String.format("bench-%05d", d);
  }

  /**
   * One device: CONNECT, then keeps {@code inflight} QoS 1 PUBLISH outstanding, sending the next
   * one when a PUBACK arrives; flushes once per socket read. Runs on its channel's event loop.
   */
  private static final class Device extends ChannelInboundHandlerAdapter {
    private final String id;
    private final String topic;
    private final int inflight;
    private final long base;
    private final Recorder latency;
    private final AtomicLong acked;
    private final AtomicLong refused;
    private final CountDownLatch connected;
    /** Send time by packet id, ns; packet ids cycle through 1..sentAt.length (at least 2 x inflight). */
    private final long[] sentAt;
    private volatile Channel channel;
    private boolean running;
    private long seq;
    private int nextPacketId = 1;

    Device(String id, int inflight, long base, Recorder latency, AtomicLong acked, AtomicLong refused,
        CountDownLatch connected) {
      this.id = id;
      this.topic = "devices/" + id + "/telemetry";
      this.inflight = inflight;
      this.base = base;
      this.latency = latency;
      this.acked = acked;
      this.refused = refused;
      this.connected = connected;
      this.sentAt = new long[Integer.highestOneBit(Math.max(2, inflight) * 2 - 1) * 2];
    }

    @Override
    public boolean isSharable() {
      return false;
    }

    @Override
    public void channelActive(ChannelHandlerContext ctx) {
      channel = ctx.channel();
      ctx.writeAndFlush(MqttMessageBuilders.connect()
          .clientId("bench-" + id)
          .username(id)
          .password(("demo-" + id).getBytes(StandardCharsets.UTF_8))
          .protocolVersion(MqttVersion.MQTT_3_1_1)
          .cleanSession(true)
          .keepAlive(120)
          .build());
    }

    void start() {
      channel.eventLoop().execute(() -> {
        running = true;
        for (int i = 0; i < inflight; i++) {
          publish();
        }
        channel.flush();
      });
    }

    void stop() {
      channel.eventLoop().execute(() -> running = false);
    }

    void close() {
      channel.close();
    }

    private void publish() {
      long s = seq++;
      byte[] payload = ("{\"ts\":" + (base + s) + ",\"seq\":" + s + ",\"values\":{\"gas_lel\":" + (s % 100) + "}}")
          .getBytes(StandardCharsets.UTF_8);
      int packetId = nextPacketId;
      nextPacketId = nextPacketId == sentAt.length ? 1 : nextPacketId + 1;
      sentAt[packetId % sentAt.length] = System.nanoTime();
      channel.write(MqttMessageBuilders.publish()
          .topicName(topic)
          .qos(MqttQoS.AT_LEAST_ONCE)
          .messageId(packetId)
          .payload(Unpooled.wrappedBuffer(payload))
          .build());
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
      try {
        MqttMessage m = (MqttMessage) msg;
        if (m.fixedHeader() == null) {
          return;
        }
        if (m.fixedHeader().messageType() == MqttMessageType.CONNACK) {
          if (((MqttConnAckMessage) m).variableHeader().connectReturnCode()
              != MqttConnectReturnCode.CONNECTION_ACCEPTED) {
            System.out.printf("ERROR: %s refused: %s%n", id, ((MqttConnAckMessage) m).variableHeader());
            ctx.close();
            return;
          }
          connected.countDown();
        } else if (m.fixedHeader().messageType() == MqttMessageType.PUBACK) {
          int packetId = ((MqttMessageIdVariableHeader) m.variableHeader()).messageId();
          latency.recordValue(System.nanoTime() - sentAt[packetId % sentAt.length]);
          acked.incrementAndGet();
          if (running) {
            publish();
          }
        }
      } finally {
        ReferenceCountUtil.release(msg);
      }
    }

    @Override
    public void channelReadComplete(ChannelHandlerContext ctx) {
      ctx.flush();
    }

    @Override
    public void channelInactive(ChannelHandlerContext ctx) {
      if (running) {
        refused.incrementAndGet();
        System.out.printf("device %s: connection closed by the gateway%n", id);
      }
    }
  }
}
