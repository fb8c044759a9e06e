package io.safegrid.alerting.ledger;

import io.safegrid.model.Severity;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.Locale;

/** Row mapping for {@code alarms} and {@code alarm_events}. Internal. */
final class AlarmRows {
  private AlarmRows() {}

  static Alarm alarm(ResultSet rs) throws SQLException {
    return new Alarm(
        rs.getLong("id"),
        rs.getString("device_id"),
        rs.getString("rule_id"),
        severity(rs.getString("severity")),
        AlarmState.fromWireName(rs.getString("state")),
        rs.getInt("count"),
        rs.getString("message"),
        Json.readMap(rs.getString("evidence")),
        instant(rs, "raised_at"),
        instant(rs, "updated_at"),
        rs.getString("acknowledged_by"),
        instant(rs, "acknowledged_at"),
        instant(rs, "cleared_at"),
        instant(rs, "closed_at"),
        rs.getString("close_note"));
  }

  static AlarmEvent event(ResultSet rs) throws SQLException {
    String from = rs.getString("from_state");
    return new AlarmEvent(
        rs.getLong("id"),
        rs.getLong("alarm_id"),
        rs.getString("type"),
        from == null ? null : AlarmState.fromWireName(from),
        AlarmState.fromWireName(rs.getString("to_state")),
        rs.getString("actor"),
        rs.getString("note"),
        instant(rs, "at"),
        Json.alarmFromMap(Json.readMap(rs.getString("alarm"))),
        Json.readMap(rs.getString("details")));
  }

  static Severity severity(String wire) {
    return Severity.valueOf(wire.toUpperCase(Locale.ROOT));
  }

  static Instant instant(ResultSet rs, String column) throws SQLException {
    OffsetDateTime t = rs.getObject(column, OffsetDateTime.class);
    return t == null ? null : t.toInstant();
  }

  static OffsetDateTime ts(Instant i) {
    return i == null ? null : i.atOffset(ZoneOffset.UTC);
  }
}
