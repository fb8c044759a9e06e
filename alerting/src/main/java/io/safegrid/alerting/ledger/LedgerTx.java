package io.safegrid.alerting.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One open ledger transaction: the connection, the service clock's "now", and the events to append
 * at commit. Events are inserted last, under a transaction-level advisory lock, so that event ids
 * increase in commit order (the live stream relies on it: {@code Last-Event-ID} never skips a
 * late-committing smaller id).
 *
 * <p>A transaction may carry several alarm changes (the alarm writer's group commit); each change
 * may be undone to a savepoint, and the events it recorded with it ({@link #mark()}, {@link
 * #resetTo(int)}).
 */
public final class LedgerTx {
  /** Advisory lock key (single bigint key space) that orders event ids by commit. */
  static final long EVENT_ORDER_LOCK = 0x5AFE_6121_0000_0001L;

  /**
   * Takes the event-order lock and then {@code n} ids from the event sequence, in one round trip:
   * the lock's sub-select is a one-time filter PostgreSQL evaluates before producing any row.
   */
  private static final String LOCK_AND_TAKE_IDS =
      "SELECT nextval('alarm_events_id_seq') FROM generate_series(1, ?)"
          + " WHERE (SELECT pg_advisory_xact_lock(?)) IS NOT NULL";

  private static final String INSERT_EVENT =
      "INSERT INTO alarm_events (id, alarm_id, type, from_state, to_state, actor, note, at, details, alarm)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb))";

  private final Connection connection;
  private final Instant now;
  private final List<Pending> pending = new ArrayList<>();
  private final Map<Long, EscalationState> escalation = new HashMap<>();

  /**
   * @param now the service clock's time; truncated to microseconds, the precision of {@code
   *     timestamptz}, so events handed to listeners carry exactly what {@code eventsAfter} reads
   */
  LedgerTx(Connection connection, Instant now) {
    this.connection = connection;
    this.now = now.truncatedTo(ChronoUnit.MICROS);
  }

  /** The transaction's connection (auto-commit off). Do not commit or close it. */
  public Connection connection() {
    return connection;
  }

  /** The service clock's time for this transaction (microsecond precision): every timestamp it writes uses it. */
  public Instant now() {
    return now;
  }

  /**
   * Reads and row-locks ({@code FOR UPDATE}) the alarm.
   *
   * @return empty when there is no alarm with this id
   */
  public Optional<Alarm> lockAlarm(long alarmId) {
    try (PreparedStatement ps =
        connection.prepareStatement("SELECT * FROM alarms WHERE id = ? FOR UPDATE")) {
      ps.setLong(1, alarmId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        remember(rs);
        return Optional.of(AlarmRows.alarm(rs));
      }
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot lock alarm " + alarmId, e);
    }
  }

  /**
   * The escalation columns of an alarm this transaction has read or written ({@code
   * escalation_level}, {@code escalation_step}, {@code next_escalation_at}), so escalation need
   * not read the row again.
   *
   * @return empty when this transaction has not seen the row
   */
  public Optional<EscalationState> escalation(long alarmId) {
    return Optional.ofNullable(escalation.get(alarmId));
  }

  /** Records the escalation columns as now written in this transaction. */
  public void escalationWritten(long alarmId, EscalationState state) {
    escalation.put(alarmId, state);
  }

  /** Remembers the escalation columns of an {@code alarms} row just read (cursor on the row). */
  void remember(ResultSet rs) throws SQLException {
    escalation.put(rs.getLong("id"), new EscalationState(
        rs.getInt("escalation_level"), rs.getInt("escalation_step"),
        AlarmRows.instant(rs, "next_escalation_at")));
  }

  /** Forgets what this transaction knows of an alarm's escalation columns. */
  void forgetEscalation(long alarmId) {
    escalation.remove(alarmId);
  }

  /**
   * Queues an {@code alarm_events} row, written in this transaction before commit.
   *
   * @param type event type (see {@link AlarmEvent#type()})
   * @param from state before, or null
   * @param after the alarm after the change
   * @param actor who
   * @param note why, or null
   * @param details extra facts, or null
   */
  public void record(
      String type, AlarmState from, Alarm after, String actor, String note, Map<String, Object> details) {
    pending.add(new Pending(type, from, after, actor, note, details == null ? Map.of() : details));
  }

  /** How many events are queued: a point to {@link #resetTo} when a change is rolled back. */
  int mark() {
    return pending.size();
  }

  /** Drops the events queued after {@code mark} (their change was rolled back to a savepoint). */
  void resetTo(int mark) {
    pending.subList(mark, pending.size()).clear();
    escalation.clear(); // the rolled-back change may have written escalation columns
  }

  /**
   * Writes the queued events (called by the ledger just before commit): takes the event-order lock
   * and the ids in one round trip, then inserts every row in one JDBC batch (one round trip).
   *
   * @return the events as written, ids ascending, their maps as {@code eventsAfter} reads them back
   */
  List<AlarmEvent> flush() throws SQLException {
    int n = pending.size();
    List<AlarmEvent> written = new ArrayList<>(n);
    if (n == 0) {
      return written;
    }
    long[] ids = new long[n];
    try (PreparedStatement ps = connection.prepareStatement(LOCK_AND_TAKE_IDS)) {
      ps.setInt(1, n);
      ps.setLong(2, EVENT_ORDER_LOCK);
      try (ResultSet rs = ps.executeQuery()) {
        int i = 0;
        while (rs.next()) {
          ids[i++] = rs.getLong(1);
        }
        if (i != n) {
          throw new SQLException("event sequence gave " + i + " ids for " + n + " events");
        }
      }
    }
    java.util.Arrays.sort(ids); // taken under the lock: ids in commit order, ascending in record order
    try (PreparedStatement ps = connection.prepareStatement(INSERT_EVENT)) {
      for (int i = 0; i < n; i++) {
        Pending p = pending.get(i);
        String details = Json.write(p.details);
        String alarm = Json.write(Json.alarmToMap(p.after));
        ps.setLong(1, ids[i]);
        ps.setLong(2, p.after.id());
        ps.setString(3, p.type);
        ps.setString(4, p.from == null ? null : p.from.wireName());
        ps.setString(5, p.after.state().wireName());
        ps.setString(6, p.actor);
        ps.setString(7, p.note);
        ps.setObject(8, AlarmRows.ts(now));
        ps.setString(9, details);
        ps.setString(10, alarm);
        ps.addBatch();
        written.add(new AlarmEvent(ids[i], p.after.id(), p.type, p.from, p.after.state(), p.actor,
            p.note, now, Json.alarmFromMap(Json.readStored(alarm)), Json.readStored(details)));
      }
      ps.executeBatch();
    }
    pending.clear();
    return written;
  }

  /**
   * Escalation columns of an {@code alarms} row.
   *
   * @param level index into the device's grid chain (0 = unit lead household .. 4 = sub-district)
   * @param step notification steps taken so far
   * @param deadline {@code next_escalation_at}, or null when none
   */
  public record EscalationState(int level, int step, Instant deadline) {}

  private record Pending(
      String type, AlarmState from, Alarm after, String actor, String note, Map<String, Object> details) {}
}
