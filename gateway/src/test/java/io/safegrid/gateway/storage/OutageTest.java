package io.safegrid.gateway.storage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.model.Reading;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The database goes away under a steady stream (a TCP proxy between the store and the server is
 * cut: connections closed, new ones refused), then comes back.
 */
class OutageTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path spoolDir;
  private TcpProxy proxy;

  @BeforeEach
  void start() throws Exception {
    URI server = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    proxy = new TcpProxy(server.getHost(), server.getPort());
    Db.execute(db, "TRUNCATE readings, device_events, dead_letters");
  }

  @AfterEach
  void stop() throws Exception {
    proxy.close();
  }

  private StorageConfig config() {
    return StorageConfig.defaults(proxy.jdbcUrl(db.name()), db.user(), db.password(), spoolDir)
        .withTimeouts(Duration.ofSeconds(2), Duration.ofMillis(500), Duration.ofMillis(200));
  }

  @Test
  void databaseGoneFor15s_everyAcknowledgedReadingStoredExactlyOnce() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    long base = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();
    List<Reading> submitted = new ArrayList<>();
    List<CompletableFuture<Void>> futures = new ArrayList<>();
    List<List<Reading>> messages = new ArrayList<>();
    boolean sawSpoolAge = false;
    try (TimescaleReadingStore store = new TimescaleReadingStore(config(), registry)) {
      long start = System.nanoTime();
      long cutAt = start + TimeUnit.SECONDS.toNanos(3);
      long restoreAt = cutAt + TimeUnit.SECONDS.toNanos(15);
      long endAt = restoreAt + TimeUnit.SECONDS.toNanos(4);
      boolean isCut = false;
      boolean restored = false;
      int n = 0;
      while (System.nanoTime() < endAt) {
        long now = System.nanoTime();
        if (!isCut && !restored && now >= cutAt) {
          proxy.cut();
          isCut = true;
        }
        if (isCut && now >= restoreAt) {
          proxy.restore();
          isCut = false;
          restored = true;
        }
        List<Reading> message = new ArrayList<>();
        for (int k = 0; k < 10; k++, n++) {
          // every 20th message repeats the previous one: QoS 1 redelivery
          message.add(Reading.of("gas-" + String.format("%03d", n % 117), "gas_lel",
              base + n * 10L, n % 100));
        }
        if (n % 200 == 0 && !messages.isEmpty()) message = messages.get(messages.size() - 1);
        messages.add(message);
        submitted.addAll(message);
        futures.add(store.submit(message));
        if (isCut && registry.get("safegrid.storage.spool.age").gauge().value() >= 1) {
          sawSpoolAge = true;
        }
        Thread.sleep(5);
      }
      // every future completes: acknowledged while the database was away too
      CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(30, TimeUnit.SECONDS);
      assertThat(registry.get("safegrid.storage.spooled").counter().count())
          .as("readings went to the spool during the outage").isGreaterThan(10_000);
      assertThat(sawSpoolAge).as("spool age gauge rose while spooling").isTrue();
      await().atMost(Duration.ofSeconds(30)).until(() -> !store.spooling());
      assertThat(registry.get("safegrid.storage.spool.bytes").gauge().value()).isZero();
      assertThat(registry.get("safegrid.storage.batches").tag("path", "replay").counter().count())
          .isPositive();
    }
    assertThat(spoolDir.toFile().list((d, name) -> name.endsWith(".spool")))
        .as("spool segments deleted once replayed").isEmpty();

    Set<String> expected = new HashSet<>();
    for (Reading r : submitted) expected.add(key(r.deviceId(), r.metric(), r.timeMillis(), r.value()));
    Set<String> stored = new HashSet<>();
    long rows = 0;
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(
            "SELECT device_id, metric, (extract(epoch FROM time) * 1000)::bigint, value FROM readings")) {
      while (rs.next()) {
        rows++;
        stored.add(key(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getDouble(4)));
      }
    }
    assertThat(submitted.size()).isGreaterThan(expected.size()); // there were duplicates
    assertThat(rows).isEqualTo(expected.size());
    assertThat(stored).isEqualTo(expected);
  }

  private static String key(String device, String metric, long time, double value) {
    return device + "|" + metric + "|" + time + "|" + value;
  }

  @Test
  void spoolFull_failsWithOverloaded_stopsAccepting_thenRecoversWhenTheDatabaseIsBack()
      throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    long base = Instant.parse("2026-11-29T09:00:00Z").toEpochMilli();
    StorageConfig cfg = config().withSpool(64 * 1024, 8 * 1024);
    List<Reading> acked = new ArrayList<>();
    try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, registry)) {
      proxy.cut();
      StoreOverloadedException refused = null;
      for (int i = 0; i < 10_000 && refused == null; i++) {
        List<Reading> message = List.of(Reading.of("gas-001", "gas_lel", base + i, i),
            Reading.of("gas-001", "battery_pct", base + i, 90));
        try {
          store.submit(message).get(10, TimeUnit.SECONDS);
          acked.addAll(message);
        } catch (ExecutionException e) {
          assertThat(e.getCause()).isInstanceOf(StoreOverloadedException.class);
          refused = (StoreOverloadedException) e.getCause();
        }
      }
      assertThat(refused).as("the spool filled up").isNotNull();
      assertThat(refused.getMessage()).contains("spool full");
      assertThat(store.acceptingMore()).isFalse();
      assertThat(store.spoolFull()).isTrue();
      assertThat(registry.get("safegrid.storage.spool.full").gauge().value()).isEqualTo(1);
      assertThat(registry.get("safegrid.storage.spool.bytes").gauge().value())
          .isBetween(60_000.0, 64.0 * 1024);
      // while full, a new submission fails at once, nothing is silently dropped
      CompletableFuture<Void> late = store.submit(List.of(Reading.of("gas-001", "gas_lel", 1, 1)));
      assertThat(late).isCompletedExceptionally();

      proxy.restore();
      await().atMost(Duration.ofSeconds(20)).until(() -> !store.spooling());
      assertThat(store.acceptingMore()).isTrue();
      assertThat(registry.get("safegrid.storage.spool.full").gauge().value()).isZero();
      store.submit(List.of(Reading.of("gas-001", "gas_lel", base - 1, 7))).get(10, TimeUnit.SECONDS);
    }
    assertThat(acked).hasSizeGreaterThan(1000);
    assertThat(Db.count(db, "SELECT count(*) FROM readings")).isEqualTo(acked.size() + 1);
  }
}
