package io.safegrid.gateway.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import io.safegrid.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class TimescaleReadingStoreTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path spoolDir;

  private StorageConfig config() {
    return StorageConfig.defaults(db.jdbcUrl(), db.user(), db.password(),
        spoolDir);
  }

  @BeforeEach
  void empty() throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("TRUNCATE readings, device_events, dead_letters");
    }
  }

  @Test
  void eightProducersWithFivePercentDuplicates_storeExactlyTheDistinctReadings() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    long base = Instant.parse("2026-11-29T00:00:00Z").toEpochMilli();
    int producers = 8;
    int perProducer = 12_500; // 100,000 in all
    // Each producer sends its own distinct readings, and 5 % are resends of a reading sent
    // before (by itself or another producer), as QoS 1 redelivery would make.
    List<List<Reading>> plans = new ArrayList<>();
    Set<String> distinct = new HashSet<>();
    SplittableRandom random = new SplittableRandom(42);
    for (int p = 0; p < producers; p++) {
      List<Reading> plan = new ArrayList<>(perProducer);
      for (int i = 0; i < perProducer; i++) {
        Reading r;
        if (i > 100 && random.nextInt(100) < 5) {
          int q = random.nextInt(p + 1);
          int j = random.nextInt(Math.min(i, perProducer) - 1);
          r = reading(q, j, base);
        } else {
          r = reading(p, i, base);
        }
        plan.add(r);
        distinct.add(r.deviceId() + "|" + r.metric() + "|" + r.timeMillis());
      }
      plans.add(plan);
    }
    assertThat(distinct.size()).isBetween(94_000, 96_000);

    try (TimescaleReadingStore store = new TimescaleReadingStore(config(), registry)) {
      ExecutorService pool = Executors.newFixedThreadPool(producers);
      List<Future<List<CompletableFuture<Void>>>> all = new ArrayList<>();
      for (List<Reading> plan : plans) {
        all.add(pool.submit(() -> {
          List<CompletableFuture<Void>> futures = new ArrayList<>();
          // messages of 1 to 10 readings, as devices publish them
          for (int i = 0; i < plan.size(); ) {
            int n = Math.min(1 + (i % 10), plan.size() - i);
            futures.add(store.submit(plan.subList(i, i + n)));
            i += n;
          }
          return futures;
        }));
      }
      for (Future<List<CompletableFuture<Void>>> f : all) {
        CompletableFuture.allOf(f.get().toArray(CompletableFuture[]::new))
            .get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      // On a loaded machine a slow commit can send batches to the spool: they are durable (their
      // futures completed) but reach the table only when replayed. Count after the replay.
      org.awaitility.Awaitility.await("spool replayed")
          .atMost(java.time.Duration.ofSeconds(60))
          .until(() -> !store.spooling()
              && registry.get("safegrid.storage.spool.bytes").gauge().value() == 0
              && registry.get("safegrid.storage.queue.rows").gauge().value() == 0);
    }

    assertThat(Db.count(db, "SELECT count(*) FROM readings")).isEqualTo(distinct.size());
    assertThat(Db.count(db, "SELECT count(*) FROM dead_letters")).isZero();
    assertThat(registry.get("safegrid.storage.rows").tag("outcome", "inserted").counter().count())
        .isEqualTo(distinct.size());
    assertThat(registry.get("safegrid.storage.rows").tag("outcome", "duplicate").counter().count())
        .isEqualTo(100_000 - distinct.size());
    assertThat(registry.get("safegrid.storage.batches").tag("path", "live").counter().count())
        .isGreaterThanOrEqualTo(20);
    assertThat(registry.get("safegrid.storage.batch.latency").timer().count())
        .isGreaterThanOrEqualTo(20);
  }

  private static Reading reading(int producer, int i, long base) {
    String device = "gas-" + String.format("%03d", producer * 10 + i % 10);
    return new Reading(device, i % 2 == 0 ? "gas_lel" : "battery_pct", base + i * 1000L,
        producer + i / 1000.0, i);
  }

  @Test
  void aReadingTheDatabaseRefuses_goesToDeadLetters_andTheRestOfItsBatchCommits() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    long base = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();
    List<Reading> batch = new ArrayList<>();
    for (int i = 0; i < 1000; i++) batch.add(Reading.of("gas-001", "gas_lel", base + i, i));
    // PostgreSQL text cannot hold NUL: the server refuses this row (SQLSTATE 22021).
    batch.set(437, Reading.of("gas-001", "gas\0lel", base + 437, 437));
    // A time beyond what timestamptz can hold.
    batch.set(800, Reading.of("gas-002", "gas_lel", Long.MAX_VALUE / 10, 1));

    // a window long enough that the whole list is one batch
    StorageConfig cfg = config().withBatch(5000, Duration.ofMillis(200));
    try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, registry)) {
      CompletableFuture<Void> first = store.submit(batch.subList(0, 500));
      CompletableFuture<Void> second = store.submit(batch.subList(500, 1000));
      first.get(20, TimeUnit.SECONDS);
      second.get(20, TimeUnit.SECONDS);
      assertThat(registry.get("safegrid.storage.batches").counter().count()).isEqualTo(1);
    }

    assertThat(Db.count(db, "SELECT count(*) FROM readings")).isEqualTo(998);
    assertThat(Db.count(db, "SELECT count(*) FROM readings WHERE value IN (437, 800)")).isZero();
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT device_id, source, reason, payload"
            + " FROM dead_letters ORDER BY reason")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString("device_id")).isEqualTo("gas-001");
      assertThat(rs.getString("source")).isEqualTo("storage:readings");
      assertThat(rs.getString("reason")).contains("0x00");
      assertThat(new String(rs.getBytes("payload"), StandardCharsets.UTF_8))
          .contains("\"metric\":\"gas\\u0000lel\"").contains("\"value\":437.0");
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString("device_id")).isEqualTo("gas-002");
      assertThat(rs.getString("reason")).contains("time out of range");
      assertThat(rs.next()).isFalse();
    }
    assertThat(registry.get("safegrid.storage.dead_letters").tag("source", "storage").counter()
        .count()).isEqualTo(2);
    assertThat(registry.get("safegrid.storage.rows").tag("outcome", "inserted").counter().count())
        .isEqualTo(998);
  }

  @Test
  void eventsAndDeadLetters_areStored_andARepeatedEventOnce() throws Exception {
    long t = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();
    try (TimescaleReadingStore store = new TimescaleReadingStore(config(), new SimpleMeterRegistry())) {
      DeviceEvent fire = new DeviceEvent("fp-school-1", t, "fire", 10, 2, "三楼 东 走廊");
      DeviceEvent mains = new DeviceEvent("fp-school-1", t, "mains_fault", null, null, null);
      CompletableFuture.allOf(
          store.submitEvent(fire), store.submitEvent(fire), store.submitEvent(mains),
          store.submitEvent(mains),
          store.deadLetter("gas-001", "mqtt:devices/gas-001/telemetry",
              "invalid JSON at line 1 column 7", "{\"ts\":".getBytes(StandardCharsets.UTF_8)),
          store.deadLetter(null, "coap:/devices/x/telemetry", "unknown device", new byte[] {0, 1}))
          .get(20, TimeUnit.SECONDS);
    }
    assertThat(Db.count(db, "SELECT count(*) FROM device_events")).isEqualTo(2);
    assertThat(Db.count(db, "SELECT count(*) FROM device_events WHERE event = 'fire' AND zone = 10"
        + " AND point = 2 AND text = '三楼 东 走廊' AND time = '2026-11-29T08:00:00Z'")).isEqualTo(1);
    assertThat(Db.count(db, "SELECT count(*) FROM dead_letters WHERE device_id = 'gas-001'"
        + " AND reason = 'invalid JSON at line 1 column 7' AND payload = '{\"ts\":'::bytea"))
        .isEqualTo(1);
    assertThat(Db.count(db, "SELECT count(*) FROM dead_letters WHERE device_id IS NULL"
        + " AND payload = '\\x0001'::bytea")).isEqualTo(1);
  }

  @Test
  void queries_latestPerDeviceAndMetric_andTimeBuckets() throws Exception {
    long t0 = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();
    List<Reading> rs = new ArrayList<>();
    for (int i = 0; i < 120; i++) { // two hours, one a minute
      rs.add(Reading.of("gas-001", "gas_lel", t0 + i * 60_000L, i));
      rs.add(Reading.of("gas-002", "gas_lel", t0 + i * 60_000L, 2 * i));
    }
    rs.add(Reading.of("gas-001", "battery_pct", t0, 87));
    try (TimescaleReadingStore store = new TimescaleReadingStore(config(), new SimpleMeterRegistry())) {
      store.submit(rs).get(20, TimeUnit.SECONDS);
      ReadingQueries q = new ReadingQueries(store.dataSource());

      assertThat(q.latest("gas-001")).containsExactly(
          new ReadingQueries.Latest("gas-001", "battery_pct", Instant.ofEpochMilli(t0), 87),
          new ReadingQueries.Latest("gas-001", "gas_lel",
              Instant.ofEpochMilli(t0 + 119 * 60_000L), 119));
      assertThat(q.latestSince(Instant.ofEpochMilli(t0))).extracting(
          ReadingQueries.Latest::deviceId, ReadingQueries.Latest::metric,
          ReadingQueries.Latest::value)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple("gas-001", "battery_pct", 87.0),
              org.assertj.core.groups.Tuple.tuple("gas-001", "gas_lel", 119.0),
              org.assertj.core.groups.Tuple.tuple("gas-002", "gas_lel", 238.0));

      List<ReadingQueries.Bucket> buckets = q.range("gas-001", "gas_lel",
          Instant.ofEpochMilli(t0), Instant.ofEpochMilli(t0 + 7_200_000L), Duration.ofMinutes(30));
      assertThat(buckets).containsExactly(
          new ReadingQueries.Bucket(Instant.parse("2026-11-29T08:00:00Z"), 14.5, 0, 29, 30),
          new ReadingQueries.Bucket(Instant.parse("2026-11-29T08:30:00Z"), 44.5, 30, 59, 30),
          new ReadingQueries.Bucket(Instant.parse("2026-11-29T09:00:00Z"), 74.5, 60, 89, 30),
          new ReadingQueries.Bucket(Instant.parse("2026-11-29T09:30:00Z"), 104.5, 90, 119, 30));
      assertThat(q.raw("gas-001", "gas_lel", Instant.ofEpochMilli(t0),
          Instant.ofEpochMilli(t0 + 180_000L), 10)).containsExactly(
          new ReadingQueries.Point(Instant.ofEpochMilli(t0), 0),
          new ReadingQueries.Point(Instant.ofEpochMilli(t0 + 60_000), 1),
          new ReadingQueries.Point(Instant.ofEpochMilli(t0 + 120_000), 2));
    }
  }
}
