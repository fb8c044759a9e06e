package io.safegrid.gateway.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * newcomer7 F30: {@code dead_letters} had no bound: a device whose refused messages flood in grew
 * it until the disk (and the alarm ledger on it) was full. On the real TimescaleDB: a per-device
 * cap per clock hour keeps the first rows of each device's flood, an age limit deletes old rows,
 * both counted.
 */
class DeadLetterRetentionTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @BeforeEach
  void empty() throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("TRUNCATE dead_letters");
    }
  }

  @Test
  void aFloodingDeviceKeepsItsFirstRowsOfEachHourOthersKeepAllAndOldRowsGo() throws Exception {
    insert("gas-001", "date_trunc('hour', now()) + interval '1 second'", 250, "not JSON");
    insert("gas-001", "date_trunc('hour', now()) - interval '30 minutes'", 120, "not JSON");
    insert("gas-002", "date_trunc('hour', now()) + interval '1 second'", 40, "unknown metric");
    insert(null, "date_trunc('hour', now()) + interval '1 second'", 130, "unknown device");
    insert("gas-003", "now() - interval '31 days'", 12, "not JSON");
    insert("gas-003", "now() - interval '29 days'", 3, "not JSON");
    List<Long> firstOfGas001 = ids("gas-001", 100);

    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    DeadLetterRetention r = new DeadLetterRetention(db.dataSource(), Duration.ofDays(30), 100, registry);
    assertThat(r.runOnce()).isEqualTo(150 + 20 + 30 + 12);

    assertThat(count("device_id = 'gas-001' AND received_at >= date_trunc('hour', now())")).isEqualTo(100);
    assertThat(count("device_id = 'gas-001' AND received_at < date_trunc('hour', now())")).isEqualTo(100);
    assertThat(ids("gas-001", 100)).as("the first of the flood are kept, in arrival order").isEqualTo(firstOfGas001);
    assertThat(count("device_id = 'gas-002'")).as("under the cap: all kept").isEqualTo(40);
    assertThat(count("device_id IS NULL")).as("unknown senders count as one device").isEqualTo(100);
    assertThat(count("device_id = 'gas-003'")).as("older than 30 days: gone").isEqualTo(3);
    assertThat(count("reason = 'not JSON' AND payload IS NOT NULL")).isEqualTo(203);

    assertThat(registry.get("safegrid.retention.dead_letters.deleted").tag("reason", "cap").counter().count())
        .isEqualTo(200.0);
    assertThat(registry.get("safegrid.retention.dead_letters.deleted").tag("reason", "age").counter().count())
        .isEqualTo(12.0);
    assertThat(r.runOnce()).as("a second run finds nothing more").isZero();
  }

  @Test
  void theScheduledRetentionJobBoundsDeadLettersToo() throws Exception {
    insert("gas-001", "date_trunc('hour', now()) + interval '1 second'", 150, "not JSON");
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (RetentionJob job = new RetentionJob(db.dataSource(), Duration.ofDays(400), registry,
        new DeadLetterRetention(db.dataSource(), Duration.ofDays(30), 100, registry))) {
      job.start(Duration.ofMillis(200));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> count("true") == 100);
    }
    assertThat(registry.get("safegrid.retention.dead_letters.runs").tag("outcome", "ok").counter().count()).isPositive();
  }

  @Test
  void refusesBoundsThatKeepNothingOrLessThanADay() {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    assertThatThrownBy(() -> new DeadLetterRetention(db.dataSource(), Duration.ofHours(2), 100, registry))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1 day");
    assertThatThrownBy(() -> new DeadLetterRetention(db.dataSource(), Duration.ofDays(30), 0, registry))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
  }

  private static void insert(String device, String receivedAt, int n, String reason) throws Exception {
    try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO dead_letters (received_at, device_id, source, reason, payload)"
            + " SELECT " + receivedAt + ", ?, 'mqtt', ?, convert_to('{bad' || g, 'UTF8') FROM generate_series(1, ?) g")) {
      ps.setString(1, device);
      ps.setString(2, reason);
      ps.setInt(3, n);
      ps.executeUpdate();
    }
  }

  private static long count(String where) throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM dead_letters WHERE " + where)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /** The ids of the device's first {@code n} rows, by id. */
  private static List<Long> ids(String device, int n) throws Exception {
    List<Long> out = new ArrayList<>();
    try (Connection c = db.connect(); PreparedStatement ps = c.prepareStatement(
        "SELECT id FROM dead_letters WHERE device_id = ? ORDER BY id LIMIT ?")) {
      ps.setString(1, device);
      ps.setInt(2, n);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getLong(1));
        }
      }
    }
    return out;
  }
}
