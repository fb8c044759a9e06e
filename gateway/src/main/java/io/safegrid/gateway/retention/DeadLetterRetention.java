package io.safegrid.gateway.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Bounds {@code dead_letters} (newcomer7 F30: one misbehaving authenticated device sending 64 KiB
 * of refused payload 50 times a second grew it by ~270 GB a day, and a full disk takes the alarm
 * ledger on the same database down). Two limits, applied by {@link #runOnce()}:
 *
 * <ul>
 *   <li><b>Per-device cap</b>: of one device's dead letters received in one clock hour ({@code
 *       date_trunc('hour', received_at)}, the server's time zone), the first {@code perDeviceHourlyCap}
 *       (by id, i.e. in arrival order) are kept and the rest deleted. Dead letters without a
 *       device (unknown sender) count as one device. The first ones of a flood say what was
 *       refused and why; the rest only add bytes. Each run looks at the current and the previous
 *       hour only, so it costs the same however old the table is.
 *   <li><b>Age</b>: rows received more than {@code maxAge} ago are deleted, in batches of
 *       {@value #AGE_BATCH} rows.
 * </ul>
 *
 * <p>So a device holds at most {@code perDeviceHourlyCap} rows an hour for {@code maxAge}: with
 * the defaults (100 an hour, 30 days) 72,000 rows, at most ~4.7 GB of 64 KiB payloads, between two
 * runs (1 min apart when scheduled by {@link RetentionJob}) one minute's flood more.
 *
 * <p>Metric: {@code safegrid.retention.dead_letters.deleted} (counter, tag {@code reason}: {@code
 * cap}, {@code age}). The ingest's own counts ({@code safegrid.mqtt.dead_letters}, {@code
 * safegrid.storage.dead_letters}) still count every refused message, kept or not.
 */
public final class DeadLetterRetention {
  /** Default age after which dead letters are deleted (30 days). */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(30);

  /** Default number of dead letters kept per device and clock hour. */
  public static final int DEFAULT_PER_DEVICE_HOURLY_CAP = 100;

  /** Rows deleted per statement by the age limit. */
  static final int AGE_BATCH = 10_000;

  private static final Logger log = LoggerFactory.getLogger(DeadLetterRetention.class);

  /** Deletes, per (device, clock hour) of the last two hours, the rows after the first {@code ?}; returns device and count. */
  static final String CAP_SQL = "WITH ranked AS ("
      + "SELECT id, device_id, row_number() OVER (PARTITION BY device_id, date_trunc('hour', received_at) ORDER BY id) AS n"
      + " FROM dead_letters WHERE received_at >= date_trunc('hour', now()) - interval '1 hour'),"
      + " gone AS (DELETE FROM dead_letters d USING ranked r WHERE d.id = r.id AND r.n > ? RETURNING r.device_id)"
      + " SELECT device_id, count(*) FROM gone GROUP BY device_id ORDER BY count(*) DESC";

  static final String AGE_SQL = "DELETE FROM dead_letters WHERE id IN (SELECT id FROM dead_letters"
      + " WHERE received_at < now() - make_interval(secs => ?) LIMIT " + AGE_BATCH + ")";

  private final DataSource dataSource;
  private final Duration maxAge;
  private final int perDeviceHourlyCap;
  private final Counter capped;
  private final Counter aged;

  /**
   * @param dataSource the SafeGrid database (migrated)
   * @param maxAge age after which dead letters are deleted; at least one day
   * @param perDeviceHourlyCap dead letters kept per device and clock hour; at least 1
   * @param registry where the metrics go
   * @throws IllegalArgumentException if a limit is out of range
   */
  public DeadLetterRetention(DataSource dataSource, Duration maxAge, int perDeviceHourlyCap, MeterRegistry registry) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.maxAge = Objects.requireNonNull(maxAge, "maxAge");
    if (maxAge.compareTo(Duration.ofDays(1)) < 0) {
      throw new IllegalArgumentException("dead letter retention must be at least 1 day, was " + maxAge);
    }
    if (perDeviceHourlyCap < 1) {
      throw new IllegalArgumentException("dead letters kept per device and hour must be at least 1, was "
          + perDeviceHourlyCap);
    }
    this.perDeviceHourlyCap = perDeviceHourlyCap;
    this.capped = Counter.builder("safegrid.retention.dead_letters.deleted").tag("reason", "cap")
        .description("dead letters deleted beyond the per-device hourly cap").register(registry);
    this.aged = Counter.builder("safegrid.retention.dead_letters.deleted").tag("reason", "age")
        .description("dead letters deleted for their age").register(registry);
  }

  /** With {@link #DEFAULT_MAX_AGE} and {@link #DEFAULT_PER_DEVICE_HOURLY_CAP}. */
  public DeadLetterRetention(DataSource dataSource, MeterRegistry registry) {
    this(dataSource, DEFAULT_MAX_AGE, DEFAULT_PER_DEVICE_HOURLY_CAP, registry);
  }

  /**
   * Applies the cap, then the age limit.
   *
   * @return rows deleted (cap and age together)
   * @throws SQLException when the database fails
   */
  public long runOnce() throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(true);
      Map<String, Long> byDevice = new LinkedHashMap<>();
      long cap = 0;
      try (PreparedStatement ps = c.prepareStatement(CAP_SQL)) {
        ps.setInt(1, perDeviceHourlyCap);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            String device = rs.getString(1);
            long n = rs.getLong(2);
            byDevice.put(device == null ? "(unknown sender)" : device, n);
            cap += n;
          }
        }
      }
      capped.increment(cap);
      if (cap > 0) {
        log.warn("dead letters over {} an hour per device not kept: {}", perDeviceHourlyCap, byDevice);
      }
      long age = 0;
      try (PreparedStatement ps = c.prepareStatement(AGE_SQL)) {
        ps.setDouble(1, maxAge.toSeconds());
        for (int n = AGE_BATCH; n == AGE_BATCH; ) {
          n = ps.executeUpdate();
          age += n;
        }
      }
      aged.increment(age);
      if (age > 0) {
        log.info("dead letters older than {} days deleted: {}", maxAge.toDays(), age);
      }
      return cap + age;
    }
  }
}
