package io.safegrid.gateway.storage;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
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
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A reading at a stored (device, metric, time) with ANOTHER value is no resend (a device whose
 * clock stopped stamps every reading alike): readings keeps the first value, and the other is
 * kept in dead_letters with the reason and counted, not dropped as a duplicate. A true resend
 * (same value) stays a duplicate.
 */
class ConflictingReadingsTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir Path spoolDir;

  private static final long FROZEN = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();

  @BeforeEach
  void empty() throws Exception {
    Db.execute(db, "TRUNCATE readings, device_events, dead_letters");
  }

  @Test
  void submitReporting_tellsWhichReadingsWereStoredBeforeWithTheSameValue() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StorageConfig cfg = StorageConfig.defaults(db.jdbcUrl(), db.user(), db.password(), spoolDir)
        .withBatch(5000, Duration.ofMillis(5));
    Reading stored = new Reading("gas-003", "gas_lel", FROZEN, 60.0, 1);
    Reading fresh = new Reading("gas-003", "gas_lel", FROZEN + 1_000, 60.0, 2);
    Reading other = new Reading("gas-003", "gas_lel", FROZEN, 61.0, 3);
    try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, registry)) {
      assertThat(store.submitReporting(List.of(stored)).get(20, TimeUnit.SECONDS))
          .as("direct path: nothing was stored before").isEmpty();
      Set<Reading> before = store.submitReporting(List.of(stored, fresh, other))
          .get(20, TimeUnit.SECONDS);
      assertThat(before).as("the resend only; not the new one, not the other value")
          .containsExactly(stored);
    }
    assertThat(Db.count(db, "SELECT count(*) FROM readings")).isEqualTo(2);
    assertThat(Db.count(db, "SELECT count(*) FROM dead_letters")).isEqualTo(1);
  }

  @Test
  void sameTimeAnotherValue_goesToDeadLetters_sameValue_isADuplicate() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    StorageConfig cfg = StorageConfig.defaults(db.jdbcUrl(), db.user(), db.password(), spoolDir)
        .withBatch(5000, Duration.ofMillis(5));
    try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, registry)) {
      store.submit(List.of(new Reading("gas-001", "gas_lel", FROZEN, 0.0, 1))).get(20, TimeUnit.SECONDS);
      // against a stored row (direct COPY fails, the merge path finds it)
      store.submit(List.of(new Reading("gas-001", "gas_lel", FROZEN, 60.0, 2))).get(20, TimeUnit.SECONDS);
      // a true resend of the first
      store.submit(List.of(new Reading("gas-001", "gas_lel", FROZEN, 0.0, 1))).get(20, TimeUnit.SECONDS);
      // two values of one time in one message, on a fresh time (the direct path's own check),
      // and later batches take the merge path a while after the conflict: make one go direct
      for (int i = 0; i < 8; i++) {
        store.submit(List.of(Reading.of("gas-009", "gas_lel", FROZEN + 1000 + i, 1.0)))
            .get(20, TimeUnit.SECONDS);
      }
      store.submit(List.of(new Reading("gas-002", "gas_lel", FROZEN, 5.0, 7),
          new Reading("gas-002", "gas_lel", FROZEN, 70.0, 8))).get(20, TimeUnit.SECONDS);
    }

    assertThat(Db.count(db, "SELECT count(*) FROM readings WHERE device_id <> 'gas-009'")).isEqualTo(2);
    assertThat(Db.count(db, "SELECT count(*) FROM readings WHERE device_id = 'gas-001' AND value = 0"))
        .isEqualTo(1);
    assertThat(Db.count(db, "SELECT count(*) FROM readings WHERE device_id = 'gas-002' AND value = 5"))
        .isEqualTo(1);
    List<String[]> letters = new ArrayList<>();
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(
            "SELECT device_id, source, reason, payload FROM dead_letters ORDER BY device_id")) {
      while (rs.next()) {
        letters.add(new String[] {rs.getString(1), rs.getString(2), rs.getString(3),
            new String(rs.getBytes(4), StandardCharsets.UTF_8)});
      }
    }
    assertThat(letters).hasSize(2);
    assertThat(letters.get(0)[0]).isEqualTo("gas-001");
    assertThat(letters.get(0)[1]).isEqualTo("storage:readings");
    assertThat(letters.get(0)[2]).startsWith(BatchWriter.CONFLICT_REASON)
        .contains("already holds 0.0").contains("clock_frozen");
    assertThat(letters.get(0)[3]).contains("\"value\":60.0").contains("\"seq\":2")
        .contains("\"ts\":" + FROZEN);
    assertThat(letters.get(1)[0]).isEqualTo("gas-002");
    assertThat(letters.get(1)[2]).contains("already holds 5.0");
    assertThat(letters.get(1)[3]).contains("\"value\":70.0").contains("\"seq\":8");

    assertThat(registry.get("safegrid.storage.rows").tag("outcome", "conflict").counter().count())
        .isEqualTo(2);
    assertThat(registry.get("safegrid.storage.rows").tag("outcome", "duplicate").counter().count())
        .as("only the true resend").isEqualTo(1);
    assertThat(registry.get("safegrid.storage.dead_letters").tag("source", "storage").counter()
        .count()).isEqualTo(2);
  }
}
