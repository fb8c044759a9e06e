package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.sql.Statement;
import java.sql.Timestamp;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.postgresql.PGConnection;
import org.postgresql.copy.CopyIn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes one {@link Batch} in one transaction, exactly once per reading identity.
 *
 * <p>Readings take one of two paths, both exactly once per (device, metric, time):
 *
 * <ul>
 *   <li><b>direct</b>: duplicates inside the batch are dropped in Java (the first is kept), then
 *       binary {@code COPY} straight into {@code readings}. TimescaleDB's COPY into a hypertable
 *       is about twice as fast as INSERT ... SELECT. A row already stored makes the COPY fail
 *       (unique_violation, nothing of it committed) and the batch is redone by the merge path.
 *   <li><b>merge</b>: binary {@code COPY} into the session's temporary table {@value #STAGING},
 *       then {@code INSERT INTO readings ... SELECT ... ON CONFLICT (device_id, metric, time) DO
 *       NOTHING}.
 * </ul>
 *
 * After a conflict the next batches take the merge path directly (1, 2, 4 ... up to {@value
 * #MAX_MERGE_RUN} of them, halving again after each direct success), so a stream with many
 * resends does not pay for failed COPYs. Device events are inserted with {@code ON CONFLICT DO
 * NOTHING} (their de-dup key is in V1__core.sql).
 *
 * <p>A reading whose (device, metric, time) is already stored, or repeated in its batch, <i>with
 * another value</i> is no resend (a device whose clock stopped stamps every reading alike): it
 * cannot be stored in {@code readings} (one row per identity), so it goes to {@code dead_letters}
 * ({@code source = storage:readings}, reason {@value #CONFLICT_REASON}...) in the same
 * transaction and is counted as a conflict, not a duplicate. The merge path finds these with one
 * query ({@code CONFLICT_SQL}) only when it inserted fewer rows than it staged; the direct path,
 * which only ever commits with no row already stored, only compares repeats inside the batch.
 *
 * <p>When the database refuses a row (SQLSTATE class 22 data exception or 23 integrity
 * violation, e.g. a NUL byte in text), the transaction is redone with savepoints, bisecting the
 * readings until each refused row stands alone; each goes to {@code dead_letters} with the
 * server's message and the rest commits in the same transaction. Any other failure (connection
 * lost, timeout, server shutting down) is a {@link StorageUnavailableException}: nothing of the
 * batch is known committed and the caller spools it.
 *
 * <p>Not thread-safe: one per writer thread. The connection must have {@value #STAGING} (see
 * {@link #CONNECTION_INIT_SQL}).
 */
final class BatchWriter {
  private static final Logger log = LoggerFactory.getLogger(BatchWriter.class);

  static final String STAGING = "safegrid_staging_readings";

  /** Run once per pooled connection: UTC session, and the staging table (temporary, no WAL). */
  static final String CONNECTION_INIT_SQL =
      "SET TIME ZONE 'UTC'; CREATE TEMPORARY TABLE IF NOT EXISTS " + STAGING
          + " (time timestamptz NOT NULL, device_id text NOT NULL, metric text NOT NULL,"
          + " value double precision NOT NULL) ON COMMIT DELETE ROWS";

  private static final String COPY_SQL =
      "COPY " + STAGING + " (time, device_id, metric, value) FROM STDIN (FORMAT binary)";
  private static final String DIRECT_COPY_SQL =
      "COPY readings (time, device_id, metric, value) FROM STDIN (FORMAT binary)";
  private static final String MERGE_SQL =
      "INSERT INTO readings (time, device_id, metric, value) SELECT time, device_id, metric, value"
          + " FROM " + STAGING + " ON CONFLICT (device_id, metric, time) DO NOTHING";
  /**
   * The staged rows whose (device, metric, time) is stored with another value: refused by {@code
   * ON CONFLICT DO NOTHING}, yet no resend (a resend carries the same value). A device whose
   * clock stopped sends so. One index probe per staged row (LATERAL: a nested loop whatever the
   * temporary table's statistics); run only when the merge inserted fewer rows than it staged.
   */
  private static final String CONFLICT_SQL =
      "SELECT s.device_id, s.metric, (extract(epoch FROM s.time) * 1000)::bigint, s.value,"
          + " r.value FROM " + STAGING + " s CROSS JOIN LATERAL (SELECT x.value FROM readings x"
          + " WHERE x.device_id = s.device_id AND x.metric = s.metric AND x.time = s.time) r"
          + " WHERE r.value <> s.value";
  /**
   * Of the readings of the submissions that asked ({@link Batch#reportingReadings}, given as four
   * arrays: device, metric, epoch ms, value), those already stored with the same value, before
   * the merge: resends. One index probe per such reading, not per staged row: the other
   * submissions of the batch (at 20,000 readings/s, nearly all of it) are not looked up (review7
   * R4: a few reset-clock units used to double the database's work per reading).
   */
  private static final String STORED_BEFORE_SQL =
      "SELECT k.d, k.m, k.t, k.v FROM unnest(?::text[], ?::text[], ?::bigint[], ?::float8[]) AS k(d, m, t, v)"
          + " WHERE EXISTS (SELECT 1 FROM readings x WHERE x.device_id = k.d AND x.metric = k.m"
          + " AND x.time = 'epoch'::timestamptz + k.t * interval '1 millisecond' AND x.value = k.v)";
  private static final String EVENT_SQL =
      "INSERT INTO device_events (time, device_id, event, zone, point, text)"
          + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING";
  private static final String DEAD_LETTER_SQL =
      "INSERT INTO dead_letters (received_at, device_id, source, reason, payload)"
          + " VALUES (?, ?, ?, ?, ?)";

  /** PostgreSQL's epoch (2000-01-01T00:00:00Z) in Unix microseconds, for binary timestamptz. */
  private static final long PG_EPOCH_MICROS = 946_684_800_000_000L;
  /** timestamptz range of PostgreSQL (4714-11-24 BC .. 294276 AD), in epoch milliseconds. */
  static final long MIN_TIME_MILLIS = -210_866_803_200_000L;
  static final long MAX_TIME_MILLIS = Long.MAX_VALUE / 1000 - 1; // beyond, microseconds overflow

  private static final byte[] COPY_HEADER = {
    'P', 'G', 'C', 'O', 'P', 'Y', '\n', (byte) 0xff, '\r', '\n', 0, 0, 0, 0, 0, 0, 0, 0, 0
  };

  static final int MAX_MERGE_RUN = 64;

  private byte[] buf = new byte[1 << 18];
  private int len;
  /** Batches still to take the merge path before trying direct COPY again. */
  private int mergeRun;
  /** Length of the next merge run after a conflict. */
  private int nextMergeRun = 1;

  /**
   * What a committed batch did.
   *
   * @param inserted readings newly stored
   * @param duplicates readings already stored (or repeated in the batch) with the same value
   * @param rejected dead letters written for readings: refused by the database, and the
   *     {@code conflicts}
   * @param conflicts readings not stored because their (device, metric, time) holds another value
   *     (each one of {@code rejected})
   * @param storedBefore for a {@link Batch#reporting} batch, the readings that were stored with
   *     the same value before it; null when unknown
   */
  record Result(int inserted, int duplicates, List<DeadLetter> rejected, int conflicts,
      Set<ValueKey> storedBefore) {

    /** The elements of {@code readings} stored before this batch (none when unknown). */
    Set<Reading> storedBefore(List<Reading> readings) {
      if (storedBefore == null || storedBefore.isEmpty()) return Set.of();
      Set<Reading> out = new HashSet<>();
      for (Reading r : readings) {
        if (storedBefore.contains(ValueKey.of(r))) out.add(r);
      }
      return out;
    }
  }

  /** What {@link #STORED_BEFORE_SQL} found in the current write; null when not asked or failed. */
  private Set<ValueKey> storedBefore;

  /**
   * Writes the batch in one transaction and commits.
   *
   * @throws StorageUnavailableException when the database cannot take it now; nothing is known
   *     committed
   */
  Result write(Connection c, Batch batch) throws StorageUnavailableException {
    List<DeadLetter> rejected = new ArrayList<>();
    List<Reading> readings = new ArrayList<>(batch.readings.size());
    for (Reading r : batch.readings) {
      // What the database cannot even represent is refused here, without a round trip.
      if (r.timeMillis() < MIN_TIME_MILLIS || r.timeMillis() > MAX_TIME_MILLIS) {
        rejected.add(rejectReading(r, "time out of range: " + r.timeMillis() + " ms"));
      } else {
        readings.add(r);
      }
    }
    // In index order: B-tree inserts stay local, and concurrent writers take row locks in the
    // same order, so they cannot deadlock. Stable: of equal keys the first submitted stays first.
    readings.sort(INDEX_ORDER);
    storedBefore = null;
    for (int attempt = 1; ; attempt++) {
      try {
        return write(c, batch, readings, new ArrayList<>(rejected));
      } catch (Retry e) {
        if (attempt == 3) throw unavailable(e.cause);
        log.info("batch rolled back ({}), retrying", e.cause.getMessage());
      }
    }
  }

  private static final Comparator<Reading> INDEX_ORDER = Comparator.comparing(Reading::deviceId)
      .thenComparing(Reading::metric).thenComparingLong(Reading::timeMillis);

  /** A transaction rollback (SQLSTATE class 40: deadlock, serialization): worth another try. */
  private static final class Retry extends Exception {
    final SQLException cause;

    Retry(SQLException cause) {
      super(cause);
      this.cause = cause;
    }
  }

  private static StorageUnavailableException unavailableOrRetry(SQLException e) throws Retry {
    if (e.getSQLState() != null && e.getSQLState().startsWith("40")) throw new Retry(e);
    return unavailable(e);
  }

  private Result write(Connection c, Batch batch, List<Reading> readings, List<DeadLetter> rejected)
      throws StorageUnavailableException, Retry {
    if (!readings.isEmpty() && mergeRun == 0) {
      List<DeadLetter> conflicts = new ArrayList<>();
      List<Reading> unique = distinct(readings, conflicts);
      try {
        c.setAutoCommit(false);
        copy(c, unique, DIRECT_COPY_SQL);
        insertEvents(c, batch.events);
        List<DeadLetter> letters = new ArrayList<>(batch.deadLetters);
        letters.addAll(rejected);
        letters.addAll(conflicts);
        insertDeadLetters(c, letters);
        c.commit();
        nextMergeRun = Math.max(1, nextMergeRun / 2);
        rejected.addAll(conflicts);
        // the direct COPY commits only when none of its rows was stored: nothing stored before
        return new Result(unique.size(), readings.size() - unique.size() - conflicts.size(),
            rejected, conflicts.size(), Set.of());
      } catch (SQLException e) {
        rollbackQuietly(c);
        if (!isRowLevel(e)) throw unavailableOrRetry(e);
        if ("23505".equals(e.getSQLState())) {
          mergeRun = nextMergeRun;
          nextMergeRun = Math.min(MAX_MERGE_RUN, nextMergeRun * 2);
        }
        // a duplicate of a stored row, or a refused row: the merge path sorts it out
      }
    } else if (mergeRun > 0) {
      mergeRun--;
    }
    try {
      c.setAutoCommit(false);
      List<DeadLetter> conflicts = new ArrayList<>();
      int inserted = 0;
      if (!readings.isEmpty()) {
        copy(c, readings, COPY_SQL);
        if (batch.reporting && storedBefore == null) storedBefore = findStoredBefore(c, batch.reportingReadings);
        inserted = merge(c, readings, conflicts);
      }
      insertEvents(c, batch.events);
      List<DeadLetter> letters = new ArrayList<>(batch.deadLetters);
      letters.addAll(rejected);
      letters.addAll(conflicts);
      insertDeadLetters(c, letters);
      c.commit();
      rejected.addAll(conflicts);
      return new Result(inserted, readings.size() - inserted - conflicts.size(), rejected,
          conflicts.size(), storedBefore);
    } catch (SQLException e) {
      rollbackQuietly(c);
      if (!isRowLevel(e)) throw unavailableOrRetry(e);
      log.info("batch of {} refused ({}): isolating the refused rows", batch.size(), e.getMessage());
    }
    return writeCarefully(c, readings, batch, rejected);
  }

  private Result writeCarefully(
      Connection c, List<Reading> readings, Batch batch, List<DeadLetter> rejected)
      throws StorageUnavailableException, Retry {
    try {
      c.setAutoCommit(false);
      int[] inserted = {0};
      int before = rejected.size();
      List<DeadLetter> conflicts = new ArrayList<>();
      bisect(c, readings, inserted, rejected, conflicts);
      int refused = rejected.size() - before;
      rejected.addAll(conflicts);
      for (DeviceEvent e : batch.events) {
        Savepoint sp = c.setSavepoint();
        try {
          insertEvents(c, List.of(e));
          c.releaseSavepoint(sp);
        } catch (SQLException ex) {
          if (!isRowLevel(ex)) throw ex;
          c.rollback(sp);
          rejected.add(rejectEvent(e, ex.getMessage()));
        }
      }
      List<DeadLetter> letters = new ArrayList<>(batch.deadLetters);
      letters.addAll(rejected);
      for (DeadLetter d : letters) {
        Savepoint sp = c.setSavepoint();
        try {
          insertDeadLetters(c, List.of(d));
          c.releaseSavepoint(sp);
        } catch (SQLException ex) {
          if (!isRowLevel(ex)) throw ex;
          c.rollback(sp);
          // sanitize() makes this unreachable in practice; say so loudly if it is not.
          log.error("dead letter refused by the database, logged here instead: {} ({})", d, ex);
        }
      }
      c.commit();
      return new Result(inserted[0], readings.size() - inserted[0] - refused - conflicts.size(),
          rejected, conflicts.size(), storedBefore);
    } catch (SQLException e) {
      rollbackQuietly(c);
      throw unavailableOrRetry(e);
    }
  }

  private void bisect(Connection c, List<Reading> rows, int[] inserted, List<DeadLetter> rejected,
      List<DeadLetter> conflicts) throws SQLException {
    if (rows.isEmpty()) return;
    Savepoint sp = c.setSavepoint();
    try {
      List<DeadLetter> found = new ArrayList<>();
      int n = copyAndMerge(c, rows, found);
      try (Statement st = c.createStatement()) {
        st.executeUpdate("DELETE FROM " + STAGING);
      }
      c.releaseSavepoint(sp);
      inserted[0] += n;
      conflicts.addAll(found);
    } catch (SQLException e) {
      if (!isRowLevel(e)) throw e;
      c.rollback(sp);
      if (rows.size() == 1) {
        Reading r = rows.get(0);
        log.warn("reading refused by the database, kept in dead_letters: {}: {}", r, e.getMessage());
        rejected.add(rejectReading(r, e.getMessage()));
        return;
      }
      int mid = rows.size() / 2;
      bisect(c, rows.subList(0, mid), inserted, rejected, conflicts);
      bisect(c, rows.subList(mid, rows.size()), inserted, rejected, conflicts);
    }
  }

  /**
   * Stages and merges {@code rows}; when fewer were inserted than staged, adds a dead letter to
   * {@code conflicts} for each staged row whose (device, metric, time) is stored with another
   * value (before the commit: the staging table empties at commit).
   *
   * @return the number of rows inserted
   */
  private int copyAndMerge(Connection c, List<Reading> rows, List<DeadLetter> conflicts)
      throws SQLException {
    copy(c, rows, COPY_SQL);
    return merge(c, rows, conflicts);
  }

  /** Those of {@code asked} already stored with the same value (run before the merge). */
  private static Set<ValueKey> findStoredBefore(Connection c, List<Reading> asked) throws SQLException {
    Set<ValueKey> found = new HashSet<>();
    int n = 0;
    String[] devices = new String[asked.size()];
    String[] metrics = new String[asked.size()];
    Long[] times = new Long[asked.size()];
    Double[] values = new Double[asked.size()];
    for (Reading r : asked) {
      if (r.timeMillis() >= MIN_TIME_MILLIS && r.timeMillis() <= MAX_TIME_MILLIS) {
        devices[n] = r.deviceId();
        metrics[n] = r.metric();
        times[n] = r.timeMillis();
        values[n++] = r.value();
      }
    }
    if (n == 0) return found;
    try (PreparedStatement st = c.prepareStatement(STORED_BEFORE_SQL)) {
      st.setArray(1, c.createArrayOf("text", java.util.Arrays.copyOf(devices, n)));
      st.setArray(2, c.createArrayOf("text", java.util.Arrays.copyOf(metrics, n)));
      st.setArray(3, c.createArrayOf("int8", java.util.Arrays.copyOf(times, n)));
      st.setArray(4, c.createArrayOf("float8", java.util.Arrays.copyOf(values, n)));
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          found.add(new ValueKey(rs.getString(1), rs.getString(2), rs.getLong(3),
              Double.doubleToLongBits(rs.getDouble(4))));
        }
      }
    }
    return found;
  }

  /** Merges what is staged; see {@link #copyAndMerge}. */
  private int merge(Connection c, List<Reading> rows, List<DeadLetter> conflicts)
      throws SQLException {
    try (Statement st = c.createStatement()) {
      int inserted = st.executeUpdate(MERGE_SQL);
      if (inserted < rows.size()) {
        findConflicts(st, rows, conflicts);
      }
      return inserted;
    }
  }

  private static void findConflicts(Statement st, List<Reading> rows, List<DeadLetter> out)
      throws SQLException {
    Map<ValueKey, Reading> byValue = null;
    try (ResultSet rs = st.executeQuery(CONFLICT_SQL)) {
      while (rs.next()) {
        if (byValue == null) {
          byValue = new HashMap<>(rows.size() * 2);
          for (Reading r : rows) {
            byValue.putIfAbsent(ValueKey.of(r), r);
          }
        }
        String device = rs.getString(1);
        String metric = rs.getString(2);
        long time = rs.getLong(3);
        double value = rs.getDouble(4);
        Reading r = byValue.get(new ValueKey(device, metric, time,
            Double.doubleToLongBits(value)));
        out.add(rejectConflict(r != null ? r : Reading.of(device, metric, time, value),
            rs.getDouble(5)));
      }
    }
  }

  /** A reading's identity and value bits: finds the submitted reading (and its seq) again. */
  record ValueKey(String deviceId, String metric, long timeMillis, long valueBits) {
    static ValueKey of(Reading r) {
      return new ValueKey(r.deviceId(), r.metric(), r.timeMillis(),
          Double.doubleToLongBits(r.value()));
    }
  }

  private void copy(Connection c, List<Reading> rows, String sql) throws SQLException {
    encode(rows);
    CopyIn in = c.unwrap(PGConnection.class).getCopyAPI().copyIn(sql);
    try {
      in.writeToCopy(buf, 0, len);
      in.endCopy();
    } finally {
      if (in.isActive()) in.cancelCopy();
    }
  }

  private record Key(String deviceId, String metric, long timeMillis) {}

  /**
   * The batch without repeats of a (device, metric, time) in it; the first is kept. A repeat with
   * another value is no resend: it goes to {@code conflicts} as a dead letter.
   */
  private static List<Reading> distinct(List<Reading> rows, List<DeadLetter> conflicts) {
    HashMap<Key, Reading> seen = new HashMap<>(rows.size() * 2);
    List<Reading> out = null;
    for (int i = 0; i < rows.size(); i++) {
      Reading r = rows.get(i);
      Reading first = seen.putIfAbsent(new Key(r.deviceId(), r.metric(), r.timeMillis()), r);
      boolean fresh = first == null;
      if (!fresh && Double.doubleToLongBits(first.value()) != Double.doubleToLongBits(r.value())) {
        conflicts.add(rejectConflict(r, first.value()));
      }
      if (!fresh && out == null) out = new ArrayList<>(rows.subList(0, i));
      else if (fresh && out != null) out.add(r);
    }
    return out == null ? rows : out;
  }

  /** PostgreSQL binary COPY format: header, then per tuple 4 fields with lengths, then -1. */
  private void encode(List<Reading> rows) {
    len = 0;
    ensure(COPY_HEADER.length + 2);
    System.arraycopy(COPY_HEADER, 0, buf, 0, COPY_HEADER.length);
    len = COPY_HEADER.length;
    for (Reading r : rows) {
      byte[] device = r.deviceId().getBytes(StandardCharsets.UTF_8);
      byte[] metric = r.metric().getBytes(StandardCharsets.UTF_8);
      ensure(2 + 12 + 4 + device.length + 4 + metric.length + 12);
      putShort(4);
      putInt(8);
      putLong(r.timeMillis() * 1000 - PG_EPOCH_MICROS);
      putInt(device.length);
      System.arraycopy(device, 0, buf, len, device.length);
      len += device.length;
      putInt(metric.length);
      System.arraycopy(metric, 0, buf, len, metric.length);
      len += metric.length;
      putInt(8);
      putLong(Double.doubleToRawLongBits(r.value()));
    }
    ensure(2);
    putShort(-1);
  }

  private void ensure(int more) {
    if (len + more > buf.length) {
      buf = java.util.Arrays.copyOf(buf, Math.max(buf.length * 2, len + more));
    }
  }

  private void putShort(int v) {
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
  }

  private void putInt(int v) {
    buf[len++] = (byte) (v >>> 24);
    buf[len++] = (byte) (v >>> 16);
    buf[len++] = (byte) (v >>> 8);
    buf[len++] = (byte) v;
  }

  private void putLong(long v) {
    putInt((int) (v >>> 32));
    putInt((int) v);
  }

  private static void insertEvents(Connection c, List<DeviceEvent> events) throws SQLException {
    if (events.isEmpty()) return;
    try (PreparedStatement ps = c.prepareStatement(EVENT_SQL)) {
      for (DeviceEvent e : events) {
        ps.setTimestamp(1, Timestamp.from(Instant.ofEpochMilli(e.timeMillis())));
        ps.setString(2, e.deviceId());
        ps.setString(3, e.event());
        setInt(ps, 4, e.zone());
        setInt(ps, 5, e.point());
        ps.setString(6, e.text());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  private static void setInt(PreparedStatement ps, int i, Integer v) throws SQLException {
    if (v == null) ps.setNull(i, Types.INTEGER);
    else ps.setInt(i, v);
  }

  private static void insertDeadLetters(Connection c, List<DeadLetter> letters)
      throws SQLException {
    if (letters.isEmpty()) return;
    try (PreparedStatement ps = c.prepareStatement(DEAD_LETTER_SQL)) {
      for (DeadLetter d : letters) {
        ps.setTimestamp(1, Timestamp.from(Instant.ofEpochMilli(d.receivedAtMillis())));
        ps.setString(2, sanitize(d.deviceId()));
        ps.setString(3, sanitize(d.source()));
        ps.setString(4, sanitize(d.reason()));
        ps.setBytes(5, d.payload());
        ps.addBatch();
      }
      ps.executeBatch();
    }
  }

  /** PostgreSQL text cannot hold NUL: shown as U+2400 SYMBOL FOR NULL in a dead letter's text. */
  static String sanitize(String s) {
    return s == null || s.indexOf('\0') < 0 ? s : s.replace('\0', '\u2400');
  }

  static DeadLetter rejectReading(Reading r, String reason) {
    String json = "{\"device_id\":" + jsonString(r.deviceId()) + ",\"metric\":"
        + jsonString(r.metric()) + ",\"ts\":" + r.timeMillis() + ",\"value\":" + r.value()
        + ",\"seq\":" + r.seq() + "}";
    return new DeadLetter(System.currentTimeMillis(), r.deviceId(), "storage:readings",
        "refused by the database: " + reason, json.getBytes(StandardCharsets.UTF_8));
  }

  /**
   * The dead letter of a reading not stored because its (device, metric, time) already holds
   * {@code storedValue}: {@code readings} keeps one row per identity (contract "Delivery
   * promise"), and this one is no resend. Reason starts with {@value #CONFLICT_REASON}.
   */
  static DeadLetter rejectConflict(Reading r, double storedValue) {
    DeadLetter d = rejectReading(r, "");
    return new DeadLetter(d.receivedAtMillis(), d.deviceId(), d.source(), CONFLICT_REASON
        + ": not stored, readings already holds " + storedValue + " for " + r.metric()
        + " of this device at this time (one row per device, metric and time); a device clock "
        + "that stopped (every reading the same ts) sends so, and the rule engine judges such a "
        + "reading on arrival (flag clock_frozen)", d.payload());
  }

  /** The first words of a conflicting reading's dead-letter reason. */
  static final String CONFLICT_REASON = "same device, metric and time as a stored reading, "
      + "another value";

  static DeadLetter rejectEvent(DeviceEvent e, String reason) {
    String json = "{\"device_id\":" + jsonString(e.deviceId()) + ",\"ts\":" + e.timeMillis()
        + ",\"event\":" + jsonString(e.event()) + ",\"zone\":" + e.zone() + ",\"point\":"
        + e.point() + ",\"text\":" + (e.text() == null ? "null" : jsonString(e.text())) + "}";
    return new DeadLetter(System.currentTimeMillis(), e.deviceId(), "storage:device_events",
        "refused by the database: " + reason, json.getBytes(StandardCharsets.UTF_8));
  }

  private static String jsonString(String s) {
    StringBuilder b = new StringBuilder(s.length() + 2).append('"');
    for (int i = 0; i < s.length(); i++) {
      char ch = s.charAt(i);
      if (ch == '"' || ch == '\\') b.append('\\').append(ch);
      else if (ch < 0x20) b.append(String.format("\\u%04x", (int) ch));
      else b.append(ch);
    }
    return b.append('"').toString();
  }

  /** SQLSTATE class 22 (data exception) or 23 (integrity constraint violation): the rows' fault. */
  static boolean isRowLevel(SQLException e) {
    String state = e.getSQLState();
    return state != null && (state.startsWith("22") || state.startsWith("23"));
  }

  private static StorageUnavailableException unavailable(SQLException e) {
    return new StorageUnavailableException(
        "database unavailable (SQLSTATE " + e.getSQLState() + "): " + e.getMessage(), e);
  }

  private static void rollbackQuietly(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; the pool discards it
    }
  }
}
