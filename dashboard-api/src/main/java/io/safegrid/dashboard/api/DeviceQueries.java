package io.safegrid.dashboard.api;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.ResultSetMetaData;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The dashboard's own small JDBC queries on {@code devices} and the {@code readings} hypertable.
 * Blocking: call from a worker thread.
 *
 * <p>Device rows are returned with every column of {@code devices} (snake_case turned camelCase)
 * except credentials: a column whose name contains {@code secret}, {@code password}, {@code psk},
 * {@code key}, {@code token}, {@code hash} or {@code credential} is never sent.
 */
public final class DeviceQueries {
  /** Last readings for the device list are looked for within this window (chunk exclusion). */
  public static final Duration LIST_LAST_READING_WINDOW = Duration.ofHours(6);

  /** Last readings of one device are looked for within this window. */
  public static final Duration DEVICE_LAST_READING_WINDOW = Duration.ofDays(7);

  private static final Pattern CREDENTIAL =
      Pattern.compile(".*(secret|password|psk|key|token|hash|credential).*");

  private final DataSource dataSource;

  public DeviceQueries(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * All devices, ordered by id, each with {@code lastReadings}: metric -> {time, value} of its
   * latest reading in the last {@link #LIST_LAST_READING_WINDOW}.
   *
   * @param filter column -> value equality filters, only community, compound, building, type
   */
  public List<Map<String, Object>> devices(Map<String, String> filter) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT * FROM devices");
    List<String> args = new ArrayList<>();
    String sep = " WHERE ";
    for (String col : List.of("community", "compound", "building", "type")) {
      String v = filter.get(col);
      if (v != null && !v.isBlank()) {
        sql.append(sep).append(col).append(" = ?");
        args.add(v);
        sep = " AND ";
      }
    }
    sql.append(" ORDER BY id");
    Map<String, Map<String, Object>> byId = new LinkedHashMap<>();
    try (Connection c = dataSource.getConnection()) {
      try (PreparedStatement ps = c.prepareStatement(sql.toString())) {
        for (int i = 0; i < args.size(); i++) {
          ps.setString(i + 1, args.get(i));
        }
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Map<String, Object> d = row(rs);
            d.put("lastReadings", new LinkedHashMap<String, Object>());
            byId.put((String) d.get("id"), d);
          }
        }
      }
      if (byId.isEmpty()) {
        return List.of();
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT DISTINCT ON (device_id, metric) device_id, metric, time, value"
                  + " FROM readings WHERE time > ? ORDER BY device_id, metric, time DESC")) {
        ps.setTimestamp(1, Timestamp.from(Instant.now().minus(LIST_LAST_READING_WINDOW)));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            Map<String, Object> d = byId.get(rs.getString(1));
            if (d != null) {
              lastReadings(d).put(rs.getString(2), point(rs.getTimestamp(3), rs.getDouble(4)));
            }
          }
        }
      }
    }
    return new ArrayList<>(byId.values());
  }

  /** One device with its latest reading per metric, or empty when there is no such device. */
  public Optional<Map<String, Object>> device(String id) throws SQLException {
    try (Connection c = dataSource.getConnection()) {
      Map<String, Object> d;
      try (PreparedStatement ps = c.prepareStatement("SELECT * FROM devices WHERE id = ?")) {
        ps.setString(1, id);
        try (ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            return Optional.empty();
          }
          d = row(rs);
        }
      }
      Map<String, Object> last = new LinkedHashMap<>();
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT DISTINCT ON (metric) metric, time, value FROM readings"
                  + " WHERE device_id = ? AND time > ? ORDER BY metric, time DESC")) {
        ps.setString(1, id);
        ps.setTimestamp(2, Timestamp.from(Instant.now().minus(DEVICE_LAST_READING_WINDOW)));
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            last.put(rs.getString(1), point(rs.getTimestamp(2), rs.getDouble(3)));
          }
        }
      }
      d.put("lastReadings", last);
      return Optional.of(d);
    }
  }

  /** True when the device exists. */
  public boolean exists(String id) throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT 1 FROM devices WHERE id = ?")) {
      ps.setString(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        return rs.next();
      }
    }
  }

  /**
   * Raw readings in {@code [from, to)}, oldest first, at most {@code limit}.
   *
   * @param metric a metric, or null for all of the device's metrics
   * @return metric -> points {@code {time, value}}
   */
  public Map<String, List<Map<String, Object>>> raw(
      String deviceId, String metric, Instant from, Instant to, int limit) throws SQLException {
    String sql =
        "SELECT time, metric, value FROM readings WHERE device_id = ? AND time >= ? AND time < ?"
            + (metric == null ? "" : " AND metric = ?")
            + " ORDER BY time, metric LIMIT ?";
    Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      ps.setString(i++, deviceId);
      ps.setTimestamp(i++, Timestamp.from(from));
      ps.setTimestamp(i++, Timestamp.from(to));
      if (metric != null) {
        ps.setString(i++, metric);
      }
      ps.setInt(i, limit);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.computeIfAbsent(rs.getString(2), k -> new ArrayList<>())
              .add(point(rs.getTimestamp(1), rs.getDouble(3)));
        }
      }
    }
    return out;
  }

  /**
   * Readings in {@code [from, to)} downsampled with TimescaleDB's {@code time_bucket}: per bucket
   * the average ({@code value}), {@code min}, {@code max} and {@code count}; buckets without
   * readings are absent.
   *
   * @return metric -> points, oldest bucket first
   */
  public Map<String, List<Map<String, Object>>> bucketed(
      String deviceId, String metric, Instant from, Instant to, Duration bucket)
      throws SQLException {
    String sql =
        "SELECT time_bucket(make_interval(secs => ?), time) AS b, metric,"
            + " avg(value), min(value), max(value), count(*)"
            + " FROM readings WHERE device_id = ? AND time >= ? AND time < ?"
            + (metric == null ? "" : " AND metric = ?")
            + " GROUP BY b, metric ORDER BY b, metric";
    Map<String, List<Map<String, Object>>> out = new LinkedHashMap<>();
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      ps.setDouble(i++, bucket.toMillis() / 1000.0);
      ps.setString(i++, deviceId);
      ps.setTimestamp(i++, Timestamp.from(from));
      ps.setTimestamp(i++, Timestamp.from(to));
      if (metric != null) {
        ps.setString(i, metric);
      }
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          Map<String, Object> p = point(rs.getTimestamp(1), rs.getDouble(3));
          p.put("min", rs.getDouble(4));
          p.put("max", rs.getDouble(5));
          p.put("count", rs.getLong(6));
          out.computeIfAbsent(rs.getString(2), k -> new ArrayList<>()).add(p);
        }
      }
    }
    return out;
  }

  /** The greatest {@code alarm_events} id, 0 when there is none. */
  public long lastAlarmEventId() throws SQLException {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(id), 0) FROM alarm_events");
        ResultSet rs = ps.executeQuery()) {
      rs.next();
      return rs.getLong(1);
    }
  }

  /**
   * Longest wait for the health check's {@code SELECT 1} answer, ms: a silent network cut (no RST)
   * would otherwise hold the request, and a Vert.x worker, until TCP gives up (~15 min), and the
   * page would never hear "down" (review7 R9). Below the page's 8 s health timeout, with the pool's
   * 5 s connection timeout before it in the worst case.
   */
  public static final int PING_NETWORK_TIMEOUT_MS = 3_000;

  /**
   * A cheap round trip: the database answers.
   *
   * @return the round trip's duration, ms (borrowing the connection included)
   * @throws SQLException when no connection could be had, or no answer came within {@value
   *     #PING_NETWORK_TIMEOUT_MS} ms (SQLSTATE 08006; the connection is then closed and evicted)
   */
  public long ping() throws SQLException {
    long t0 = System.nanoTime();
    try (Connection c = dataSource.getConnection()) {
      c.setNetworkTimeout(Runnable::run, PING_NETWORK_TIMEOUT_MS); // the pool puts its own back on return
      try (PreparedStatement ps = c.prepareStatement("SELECT 1");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
      }
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> lastReadings(Map<String, Object> device) {
    return (Map<String, Object>) device.get("lastReadings");
  }

  private static Map<String, Object> point(Timestamp t, double v) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("time", t.toInstant().toString());
    p.put("value", v);
    return p;
  }

  private static Map<String, Object> row(ResultSet rs) throws SQLException {
    ResultSetMetaData md = rs.getMetaData();
    Map<String, Object> m = new LinkedHashMap<>();
    for (int i = 1; i <= md.getColumnCount(); i++) {
      String col = md.getColumnLabel(i).toLowerCase(Locale.ROOT);
      if (CREDENTIAL.matcher(col).matches()) {
        continue;
      }
      Object v = rs.getObject(i);
      if (v instanceof Timestamp ts) {
        v = ts.toInstant().toString();
      } else if (v instanceof java.time.OffsetDateTime odt) {
        v = odt.toInstant().toString();
      } else if (v instanceof java.sql.Array arr) {
        v = List.of((Object[]) arr.getArray());
      } else if (v instanceof org.postgresql.util.PGobject pg) {
        v = pg.getValue() != null && pg.getType().startsWith("json") ? parseJson(pg.getValue()) : pg.getValue();
      } else if (v != null
          && !(v instanceof String)
          && !(v instanceof Number)
          && !(v instanceof Boolean)) {
        v = v.toString();
      }
      m.put(camel(col), v);
    }
    return m;
  }

  private static Object parseJson(String text) {
    try {
      return io.safegrid.dashboard.http.Json.MAPPER.readValue(text, Object.class);
    } catch (java.io.IOException e) {
      return text;
    }
  }

  private static String camel(String snake) {
    StringBuilder b = new StringBuilder(snake.length());
    boolean up = false;
    for (char ch : snake.toCharArray()) {
      if (ch == '_') {
        up = true;
      } else {
        b.append(up ? Character.toUpperCase(ch) : ch);
        up = false;
      }
    }
    return b.toString();
  }
}
