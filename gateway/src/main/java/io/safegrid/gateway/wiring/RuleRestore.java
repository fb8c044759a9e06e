package io.safegrid.gateway.wiring;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.engine.OpenAlarm;
import io.safegrid.rules.engine.RestoreSnapshot;
import io.safegrid.site.Device;
import io.safegrid.site.Site;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * Reads back what the rule engine needs after a restart ({@link RestoreSnapshot}): the ledger's
 * active alarms, each site device's last message time (devices never heard from count from now,
 * so their inactivity timeout starts at start-up), river gauges' readings of the last rate window
 * (1 hour) and every other site device's latest value per metric of the last 15 minutes.
 */
final class RuleRestore {

  private static final int PAGE = 1000;

  private RuleRestore() {}

  static RestoreSnapshot read(DataSource ds, AlarmService ledger, Site site, long nowMillis)
      throws SQLException {
    List<OpenAlarm> open = new ArrayList<>();
    Set<AlarmState> active = Set.of(AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED);
    for (int offset = 0; ; offset += PAGE) {
      List<Alarm> page = ledger.list(active, PAGE, offset);
      for (Alarm a : page) {
        open.add(new OpenAlarm(a.deviceId(), a.ruleId(), a.severity(), a.raisedAt().toEpochMilli(),
            OpenAlarm.zonesOf(a.evidence())));
      }
      if (page.size() < PAGE) {
        break;
      }
    }
    Map<String, Long> lastSeen = new HashMap<>();
    List<Reading> recent = new ArrayList<>();
    String[] ids = site.devices().stream().map(Device::id).toArray(String[]::new);
    String[] rivers =
        site.devicesOfType(DeviceType.RIVER_GAUGE).stream().map(Device::id).toArray(String[]::new);
    try (Connection c = ds.getConnection()) {
      Array all = c.createArrayOf("text", ids);
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT device_id, max(t) FROM ("
                  + " SELECT device_id, max(time) AS t FROM readings"
                  + "  WHERE device_id = ANY(?) AND time > now() - interval '2 days' GROUP BY device_id"
                  + " UNION ALL"
                  + " SELECT device_id, max(time) FROM device_events"
                  + "  WHERE device_id = ANY(?) AND time > now() - interval '2 days' GROUP BY device_id"
                  + ") s GROUP BY device_id")) {
        ps.setArray(1, all);
        ps.setArray(2, all);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            lastSeen.put(rs.getString(1), rs.getTimestamp(2).getTime());
          }
        }
      }
      try (PreparedStatement ps =
          c.prepareStatement(
              "SELECT device_id, metric, time, value FROM readings"
                  + " WHERE device_id = ANY(?) AND time > now() - interval '1 hour'"
                  + " UNION ALL"
                  + " SELECT * FROM (SELECT DISTINCT ON (device_id, metric) device_id, metric, time, value"
                  + "  FROM readings WHERE device_id = ANY(?) AND NOT (device_id = ANY(?))"
                  + "  AND time > now() - interval '15 minutes'"
                  + "  ORDER BY device_id, metric, time DESC) latest")) {
        Array riverArr = c.createArrayOf("text", rivers);
        ps.setArray(1, riverArr);
        ps.setArray(2, all);
        ps.setArray(3, riverArr);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            recent.add(
                Reading.of(rs.getString(1), rs.getString(2), rs.getTimestamp(3).getTime(), rs.getDouble(4)));
          }
        }
      }
    }
    for (String id : ids) {
      lastSeen.putIfAbsent(id, nowMillis);
    }
    return new RestoreSnapshot(open, lastSeen, recent);
  }
}
