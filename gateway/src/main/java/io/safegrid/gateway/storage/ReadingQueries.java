package io.safegrid.gateway.storage;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;

/**
 * The reads the HTTP API needs from {@code readings} (contract: {@code GET
 * /api/devices/{id}/readings?metric=&from=&to=&bucket=} and the latest values on the device
 * pages). Times go in and come out as {@link Instant} (UTC): the JVM's and the session's time
 * zones do not change results. Thread-safe.
 */
public final class ReadingQueries {

  /** The latest stored value of one metric of one device. */
  public record Latest(String deviceId, String metric, Instant time, double value) {}

  /**
   * One time_bucket of one metric: readings with {@code bucketStart <= time < bucketStart +
   * bucket}.
   *
   * @param bucketStart start of the bucket (buckets are aligned as TimescaleDB's {@code
   *     time_bucket} aligns them: on UTC, from 2000-01-03 for whole-day widths)
   * @param avg mean of the values, in the metric's unit
   * @param min smallest value
   * @param max largest value
   * @param count number of readings in the bucket (at least 1)
   */
  public record Bucket(Instant bucketStart, double avg, double min, double max, long count) {}

  /** One stored reading. */
  public record Point(Instant time, double value) {}

  private static final String LATEST_OF_DEVICE =
      "SELECT DISTINCT ON (metric) device_id, metric, time, value FROM readings"
          + " WHERE device_id = ? ORDER BY metric, time DESC";
  private static final String LATEST_SINCE =
      "SELECT DISTINCT ON (device_id, metric) device_id, metric, time, value FROM readings"
          + " WHERE time >= ? ORDER BY device_id, metric, time DESC";
  private static final String BUCKETS =
      "SELECT time_bucket(make_interval(secs => ?), time) AS bucket, avg(value), min(value),"
          + " max(value), count(*) FROM readings"
          + " WHERE device_id = ? AND metric = ? AND time >= ? AND time < ?"
          + " GROUP BY bucket ORDER BY bucket";
  private static final String RAW =
      "SELECT time, value FROM readings WHERE device_id = ? AND metric = ? AND time >= ?"
          + " AND time < ? ORDER BY time LIMIT ?";

  private final DataSource dataSource;

  /** @param dataSource a pool on the TimescaleDB holding {@code readings} */
  public ReadingQueries(DataSource dataSource) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
  }

  /**
   * The latest value of each metric of one device, ordered by metric.
   *
   * @throws SQLException when the database fails
   */
  public List<Latest> latest(String deviceId) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(LATEST_OF_DEVICE)) {
      ps.setString(1, deviceId);
      return latestRows(ps);
    }
  }

  /**
   * The latest value per device and metric among readings since {@code since} (a bound keeps
   * the scan to recent chunks), ordered by device and metric.
   *
   * @throws SQLException when the database fails
   */
  public List<Latest> latestSince(Instant since) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(LATEST_SINCE)) {
      ps.setObject(1, utc(since));
      return latestRows(ps);
    }
  }

  private static List<Latest> latestRows(PreparedStatement ps) throws SQLException {
    List<Latest> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(new Latest(rs.getString(1), rs.getString(2), instant(rs, 3), rs.getDouble(4)));
      }
    }
    return out;
  }

  /**
   * Readings of one device's metric in {@code [from, to)}, aggregated per {@code time_bucket} of
   * width {@code bucket}, oldest first; empty buckets are left out.
   *
   * @param bucket bucket width, positive, at least 1 ms (e.g. {@code Duration.ofMinutes(1)})
   * @throws IllegalArgumentException when bucket is not positive or from is after to
   * @throws SQLException when the database fails
   */
  public List<Bucket> range(
      String deviceId, String metric, Instant from, Instant to, Duration bucket)
      throws SQLException {
    if (bucket.toMillis() < 1) throw new IllegalArgumentException("bucket < 1 ms: " + bucket);
    if (from.isAfter(to)) throw new IllegalArgumentException("from after to");
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(BUCKETS)) {
      ps.setDouble(1, bucket.toNanos() / 1e9);
      ps.setString(2, deviceId);
      ps.setString(3, metric);
      ps.setObject(4, utc(from));
      ps.setObject(5, utc(to));
      List<Bucket> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new Bucket(instant(rs, 1), rs.getDouble(2), rs.getDouble(3), rs.getDouble(4),
              rs.getLong(5)));
        }
      }
      return out;
    }
  }

  /**
   * Raw readings of one device's metric in {@code [from, to)}, oldest first, at most {@code
   * limit}.
   *
   * @throws SQLException when the database fails
   */
  public List<Point> raw(String deviceId, String metric, Instant from, Instant to, int limit)
      throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(RAW)) {
      ps.setString(1, deviceId);
      ps.setString(2, metric);
      ps.setObject(3, utc(from));
      ps.setObject(4, utc(to));
      ps.setInt(5, limit);
      List<Point> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) out.add(new Point(instant(rs, 1), rs.getDouble(2)));
      }
      return out;
    }
  }

  private static OffsetDateTime utc(Instant i) {
    return i.atOffset(ZoneOffset.UTC);
  }

  private static Instant instant(ResultSet rs, int column) throws SQLException {
    return rs.getObject(column, OffsetDateTime.class).toInstant();
  }
}
