package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import io.safegrid.gateway.mqtt.auth.SiteSecretAuthenticator;
import io.safegrid.gateway.storage.StorageConfig;
import io.safegrid.gateway.storage.TcpProxy;
import io.safegrid.gateway.storage.TimescaleReadingStore;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.paho.client.mqttv3.IMqttActionListener;
import org.eclipse.paho.client.mqttv3.IMqttToken;
import org.eclipse.paho.client.mqttv3.MqttAsyncClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The delivery promise through the whole MQTT stack with a real client: PUBACK only once the
 * reading is durable, also now that store completions reach the event loops in bursts and PUBACKs
 * are flushed once per burst ({@link LoopCompletions}).
 *
 * <p>1,000 QoS 1 PUBLISH from four Paho v3 clients (up to 16 in flight each) through {@link
 * MqttServer} -> {@link IngestService} -> {@link TimescaleReadingStore} (through a TCP proxy to
 * the real TimescaleDB): the first 500 with the database up, where every PUBACK'd reading must
 * already be visible in {@code readings} to a query sent after the PUBACK arrived (a PUBACK sent
 * before the commit would be caught); the next 500 with the database cut, where PUBACKs come from
 * the fsync'd spool and the rows are not in the database yet; then the database is back, and
 * every one of the 1,000 PUBACK'd readings is in {@code readings} exactly once.
 */
class MqttDurabilityTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path spool;

  private static final int DEVICES = 4;
  private static final int PER_DEVICE_AND_PHASE = 125;
  private static final int IN_FLIGHT = 16;
  private static final long BASE = 1_764_403_200_000L;

  /** A PUBACK'd reading: device and its ts. */
  private record Acked(String deviceId, long ts) {}

  @Test
  void everyPubackedReadingIsCommittedWhenThePubackArrivesAndSurvivesADatabaseCut() throws Exception {
    URI target = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Map<String, String> secrets = new HashMap<>();
    for (int d = 1; d <= DEVICES; d++) {
      secrets.put(id(d), "demo-" + id(d));
    }
    try (TcpProxy proxy = new TcpProxy(target.getHost(), target.getPort());
        TimescaleReadingStore store = new TimescaleReadingStore(
            StorageConfig.defaults(proxy.jdbcUrl(db.name()), db.user(), db.password(), spool)
                .withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofMillis(200)),
            registry);
        MqttServer server = MqttServer.builder()
            .host("127.0.0.1")
            .port(0)
            .ingest(new IngestService(store, IngestListener.NONE, registry))
            .authenticator(SiteSecretAuthenticator.of(secrets))
            .limits(MqttLimits.defaults().withMessagesPerSecondPerDevice(100_000))
            .meterRegistry(registry)
            .build()
            .start();
        Connection direct = db.connect()) {
      List<Client> clients = new ArrayList<>();
      for (int d = 1; d <= DEVICES; d++) {
        clients.add(new Client(id(d), server.port()));
      }

      // Phase 1, database up: each PUBACK'd reading is visible to a query sent after the PUBACK
      // arrived; a checker thread queries each one as soon as its PUBACK is in, while the clients
      // go on publishing.
      LinkedBlockingQueue<Acked> acked = new LinkedBlockingQueue<>();
      AtomicInteger checked = new AtomicInteger();
      AtomicInteger notYetVisible = new AtomicInteger();
      Thread checker = new Thread(() -> {
        try (Connection c = db.connect(); PreparedStatement q = c.prepareStatement(
            "SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'"
                + " AND time = 'epoch'::timestamptz + ? * interval '1 millisecond'")) {
          while (checked.get() < DEVICES * PER_DEVICE_AND_PHASE) {
            Acked a = acked.poll(30, TimeUnit.SECONDS);
            if (a == null) {
              return;
            }
            q.setString(1, a.deviceId());
            q.setLong(2, a.ts());
            try (ResultSet rs = q.executeQuery()) {
              rs.next();
              if (rs.getLong(1) != 1) {
                notYetVisible.incrementAndGet();
              }
            }
            checked.incrementAndGet();
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      }, "puback-checker");
      checker.start();
      publishAll(clients, 0, acked);
      checker.join(30_000);
      assertThat(checked).hasValue(DEVICES * PER_DEVICE_AND_PHASE);
      assertThat(notYetVisible).as("PUBACK'd readings not yet committed when checked").hasValue(0);

      // Phase 2, database cut: PUBACKs come after the spool's fsync, the rows are not stored yet.
      proxy.cut();
      acked.clear();
      publishAll(clients, PER_DEVICE_AND_PHASE, acked);
      assertThat(acked).hasSize(DEVICES * PER_DEVICE_AND_PHASE);
      assertThat(registry.get("safegrid.storage.spooled").counter().count()).isGreaterThan(0);
      assertThat(count(direct, "SELECT count(*) FROM readings WHERE time >= 'epoch'::timestamptz + "
          + (BASE + PER_DEVICE_AND_PHASE) + " * interval '1 millisecond'")).isZero();

      // Database back: the spool is replayed; all 1,000 PUBACK'd readings, each exactly once.
      proxy.restore();
      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(count(direct, "SELECT count(*) FROM readings")).isEqualTo(DEVICES * PER_DEVICE_AND_PHASE * 2L));
      assertThat(count(direct,
          "SELECT count(*) FROM (SELECT DISTINCT device_id, time FROM readings WHERE metric = 'gas_lel') r"))
          .isEqualTo(DEVICES * PER_DEVICE_AND_PHASE * 2L);
      for (Client c : clients) {
        c.close();
      }
    }
  }

  /** Publishes PER_DEVICE_AND_PHASE readings per device (ts = BASE + first + i) and waits for the PUBACKs. */
  private static void publishAll(List<Client> clients, int first, LinkedBlockingQueue<Acked> acked)
      throws Exception {
    for (int i = 0; i < PER_DEVICE_AND_PHASE; i++) {
      for (Client c : clients) {
        c.publish(BASE + first + i, acked);
      }
    }
    for (Client c : clients) {
      c.awaitAll();
    }
  }

  private static long count(Connection c, String sql) throws Exception {
    try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static String id(int d) {
    return "gas-" + (200 + d);
  }

  /** One device: a Paho v3 async client with at most IN_FLIGHT QoS 1 PUBLISH outstanding. */
  private static final class Client {
    final String id;
    final MqttAsyncClient paho;
    final Semaphore window = new Semaphore(IN_FLIGHT);
    final AtomicInteger failures = new AtomicInteger();

    Client(String id, int port) throws Exception {
      this.id = id;
      paho = new MqttAsyncClient("tcp://127.0.0.1:" + port, "durability-" + id, new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
      o.setUserName(id);
      o.setPassword(("demo-" + id).toCharArray());
      o.setMaxInflight(IN_FLIGHT * 2);
      paho.connect(o).waitForCompletion(10_000);
    }

    void publish(long ts, LinkedBlockingQueue<Acked> acked) throws Exception {
      assertThat(window.tryAcquire(30, TimeUnit.SECONDS)).as("PUBACK within 30 s").isTrue();
      byte[] payload = ("{\"ts\":" + ts + ",\"values\":{\"gas_lel\":" + (ts % 100) + "}}")
          .getBytes(StandardCharsets.UTF_8);
      paho.publish("devices/" + id + "/telemetry", payload, 1, false, null, new IMqttActionListener() {
        @Override
        public void onSuccess(IMqttToken token) {
          acked.add(new Acked(id, ts));
          window.release();
        }

        @Override
        public void onFailure(IMqttToken token, Throwable e) {
          failures.incrementAndGet();
          window.release();
        }
      });
    }

    void awaitAll() throws Exception {
      assertThat(window.tryAcquire(IN_FLIGHT, 30, TimeUnit.SECONDS)).as("all PUBACKs within 30 s").isTrue();
      window.release(IN_FLIGHT);
      assertThat(failures).hasValue(0);
    }

    void close() throws Exception {
      paho.disconnect().waitForCompletion(5_000);
      paho.close();
    }
  }
}
