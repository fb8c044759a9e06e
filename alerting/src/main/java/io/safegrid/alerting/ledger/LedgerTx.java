package io.safegrid.alerting.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One open ledger transaction: the connection, the service clock's "now", and the events to append
 * at commit. Events are inserted last, under a transaction-level advisory lock, so that event ids
 * increase in commit order (the live stream relies on it: {@code Last-Event-ID} never skips a
 * late-committing smaller id).
 */
public final class LedgerTx {
  /** Advisory lock key (single bigint key space) that orders event ids by commit. */
  static final long EVENT_ORDER_LOCK = 0x5AFE_6121_0000_0001L;

  private final Connection connection;
  private final Instant now;
  private final List<Pending> pending = new ArrayList<>();

  LedgerTx(Connection connection, Instant now) {
    this.connection = connection;
    this.now = now;
  }

  /** The transaction's connection (auto-commit off). Do not commit or close it. */
  public Connection connection() {
    return connection;
  }

  /** The service clock's time for this transaction: every timestamp it writes uses it. */
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
        return rs.next() ? Optional.of(AlarmRows.alarm(rs)) : Optional.empty();
      }
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot lock alarm " + alarmId, e);
    }
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

  /** Writes the queued events (called by the ledger just before commit). */
  List<AlarmEvent> flush() throws SQLException {
    List<AlarmEvent> written = new ArrayList<>(pending.size());
    if (pending.isEmpty()) {
      return written;
    }
    try (PreparedStatement lock = connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
      lock.setLong(1, EVENT_ORDER_LOCK);
      lock.execute();
    }
    try (PreparedStatement ps =
        connection.prepareStatement(
            "INSERT INTO alarm_events (alarm_id, type, from_state, to_state, actor, note, at, details, alarm)"
                + " VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb)) RETURNING id")) {
      for (Pending p : pending) {
        ps.setLong(1, p.after.id());
        ps.setString(2, p.type);
        ps.setString(3, p.from == null ? null : p.from.wireName());
        ps.setString(4, p.after.state().wireName());
        ps.setString(5, p.actor);
        ps.setString(6, p.note);
        ps.setObject(7, AlarmRows.ts(now));
        ps.setString(8, Json.write(p.details));
        ps.setString(9, Json.write(Json.alarmToMap(p.after)));
        try (ResultSet rs = ps.executeQuery()) {
          rs.next();
          written.add(
              new AlarmEvent(
                  rs.getLong(1), p.after.id(), p.type, p.from, p.after.state(), p.actor, p.note, now,
                  p.after, p.details));
        }
      }
    }
    pending.clear();
    return written;
  }

  private record Pending(
      String type, AlarmState from, Alarm after, String actor, String note, Map<String, Object> details) {}
}
