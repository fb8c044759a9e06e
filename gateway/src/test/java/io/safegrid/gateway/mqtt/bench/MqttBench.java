package io.safegrid.gateway.mqtt.bench;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import io.safegrid.gateway.mqtt.MqttLimits;
import io.safegrid.gateway.mqtt.MqttServer;
import io.safegrid.gateway.mqtt.auth.Pbkdf2DeviceAuthenticator;
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
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;
import org.HdrHistogram.Histogram;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * MQTT ingest benchmark (not a test; run by {@code bench/mqtt.sh}): many devices (Paho v3 async
 * clients) publish QoS 1 readings through the real stack (MqttServer -> IngestService ->
 * TimescaleReadingStore -> a fresh database {@code mqtt_bench}); each device keeps a few PUBLISH
 * in flight. Prints durable readings/s (PUBACKs received, each one reading) and the PUBACK latency
 * p50/p99 seen by the clients, then checks the rows are in {@code readings}.
 *
 * <p>Args: JDBC_URL USER PASSWORD DEVICES SECONDS INFLIGHT_PER_DEVICE WARMUP_SECONDS
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

    String dbName = "mqtt_bench";
    try (Connection c = DriverManager.getConnection(server, user, password); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
      st.execute("CREATE DATABASE " + dbName);
    }
    String url = server.substring(0, server.lastIndexOf('/') + 1) + dbName;
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
    TimescaleReadingStore store = new TimescaleReadingStore(StorageConfig.defaults(url, user, password, spool), registry);
    MqttServer mqtt =
        MqttServer.builder()
            .host("127.0.0.1")
            .port(0)
            .ingest(new IngestService(store, IngestListener.NONE, registry))
            .authenticator(Pbkdf2DeviceAuthenticator.fromSecrets(secrets))
            // the per-device rate limit would cap the figure, not measure the ingest path
            .limits(MqttLimits.defaults().withMessagesPerSecondPerDevice(1_000_000))
            .meterRegistry(registry)
            .build()
            .start();

    Recorder latency = new Recorder(3);
    AtomicLong acked = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicBoolean running = new AtomicBoolean(true);
    long base = 1_764_403_200_000L;
    List<MqttAsyncClient> clients = new ArrayList<>();
    for (int d = 1; d <= devices; d++) {
      String id = id(d);
      MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + mqtt.port(), "bench-" + id, new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
      o.setUserName(id);
      o.setPassword(("demo-" + id).toCharArray());
      o.setMaxInflight(inflight * 2);
      o.setKeepAliveInterval(60);
      c.connect(o).waitForCompletion(30_000);
      clients.add(c);
    }
    System.out.printf("%d devices connected, %d in flight each; warming up %d s%n", devices, inflight, warmup);
    for (MqttAsyncClient c : clients) {
      Device device = new Device(c, c.getClientId().substring("bench-".length()), base, latency, acked, failed, running);
      for (int i = 0; i < inflight; i++) {
        device.publishNext();
      }
    }
    Thread.sleep(warmup * 1000L);
    latency.reset();
    long startAcked = acked.get();
    long t0 = System.nanoTime();
    Thread.sleep(seconds * 1000L);
    long t1 = System.nanoTime();
    long n = acked.get() - startAcked;
    Histogram h = latency.getIntervalHistogram();
    running.set(false);
    Thread.sleep(1000);
    for (MqttAsyncClient c : clients) {
      try {
        c.disconnect().waitForCompletion(5000);
        c.close();
      } catch (Exception ignored) {
        // shutting down
      }
    }
    mqtt.close();
    store.close();
    long rows;
    try (Connection c = ds.getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM readings")) {
      rs.next();
      rows = rs.getLong(1);
    }
    double perSecond = n / ((t1 - t0) / 1e9);
    System.out.printf("devices=%d inflight/device=%d measured=%d s%n", devices, inflight, seconds);
    System.out.printf("QoS 1 durable readings/s: %.0f%n", perSecond);
    System.out.printf("PUBACK latency ms: p50=%.2f p99=%.2f max=%.2f (n=%d)%n",
        h.getValueAtPercentile(50) / 1e6, h.getValueAtPercentile(99) / 1e6, h.getMaxValue() / 1e6, h.getTotalCount());
    System.out.printf("acked in total=%d, failed=%d, rows in readings=%d%n", acked.get(), failed.get(), rows);
    if (rows < acked.get()) {
      System.out.println("ERROR: fewer rows than PUBACKs");
      System.exit(1);
    }
    try (Connection c = DriverManager.getConnection(server, user, password); Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
    }
    System.exit(0);
  }

  private static String id(int d) {
    return String.format("bench-%04d", d);
  }

  /** One device: publishes the next reading whenever a PUBACK comes back. */
  private static final class Device implements IMqttActionListener {
    private final MqttAsyncClient client;
    private final String id;
    private final Recorder latency;
    private final AtomicLong acked;
    private final AtomicLong failed;
    private final AtomicBoolean running;
    private final String topic;
    private long seq;
    private final long base;

    Device(MqttAsyncClient client, String id, long base, Recorder latency, AtomicLong acked, AtomicLong failed,
        AtomicBoolean running) {
      this.client = client;
      this.id = id;
      this.base = base;
      this.latency = latency;
      this.acked = acked;
      this.failed = failed;
      this.running = running;
      this.topic = "devices/" + id + "/telemetry";
    }

    synchronized void publishNext() {
      if (!running.get()) {
        return;
      }
      long s = seq++;
      byte[] payload = ("{\"ts\":" + (base + s) + ",\"seq\":" + s + ",\"values\":{\"gas_lel\":" + (s % 100) + "}}")
          .getBytes(StandardCharsets.UTF_8);
      try {
        client.publish(topic, payload, 1, false, System.nanoTime(), this);
      } catch (Exception e) {
        failed.incrementAndGet();
      }
    }

    @Override
    public void onSuccess(IMqttToken token) {
      latency.recordValue(System.nanoTime() - (Long) token.getUserContext());
      acked.incrementAndGet();
      publishNext();
    }

    @Override
    public void onFailure(IMqttToken token, Throwable e) {
      failed.incrementAndGet();
      publishNext();
    }
  }
}
