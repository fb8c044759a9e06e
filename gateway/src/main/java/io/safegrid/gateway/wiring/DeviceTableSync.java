package io.safegrid.gateway.wiring;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.site.Device;
import io.safegrid.site.Site;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.Map;
import javax.sql.DataSource;

/**
 * Upserts the site's devices into the {@code devices} table (migration V1) at start, in one
 * transaction, so SQL users, Grafana and the dashboard see the configured site. Secrets are never
 * written. Rows of devices no longer in the configuration are kept (their readings and alarms
 * still refer to them).
 *
 * <p>{@code meta} (jsonb) holds {@code report_interval_s} and, when set, {@code overrides}.
 */
final class DeviceTableSync {

  private static final ObjectMapper JSON = new ObjectMapper();

  private static final String UPSERT =
      "INSERT INTO devices (id, type, community, compound, building, unit, name, premises, meta,"
          + " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?::jsonb, now())"
          + " ON CONFLICT (id) DO UPDATE SET type = EXCLUDED.type, community = EXCLUDED.community,"
          + " compound = EXCLUDED.compound, building = EXCLUDED.building, unit = EXCLUDED.unit,"
          + " name = EXCLUDED.name, premises = EXCLUDED.premises, meta = EXCLUDED.meta,"
          + " updated_at = now()"
          + " WHERE (devices.type, devices.community, devices.compound, devices.building,"
          + " devices.unit, devices.name, devices.premises, devices.meta) IS DISTINCT FROM"
          + " (EXCLUDED.type, EXCLUDED.community, EXCLUDED.compound, EXCLUDED.building,"
          + " EXCLUDED.unit, EXCLUDED.name, EXCLUDED.premises, EXCLUDED.meta)";

  private DeviceTableSync() {}

  /**
   * @return the number of rows inserted or changed (0 when the table already matched)
   * @throws SQLException when the database refuses
   */
  static int upsert(DataSource ds, Site site) throws SQLException {
    try (Connection c = ds.getConnection()) {
      boolean auto = c.getAutoCommit();
      c.setAutoCommit(false);
      try (PreparedStatement ps = c.prepareStatement(UPSERT)) {
        for (Device d : site.devices()) {
          ps.setString(1, d.id());
          ps.setString(2, d.type().wireName());
          ps.setString(3, d.place().community());
          ps.setString(4, d.place().compound());
          ps.setString(5, d.place().building());
          ps.setString(6, d.place().unit());
          ps.setString(7, d.name());
          ps.setString(8, d.premises());
          ps.setString(9, meta(d));
          ps.addBatch();
        }
        int changed = 0;
        for (int n : ps.executeBatch()) {
          changed += Math.max(n, 0);
        }
        c.commit();
        return changed;
      } catch (SQLException | RuntimeException e) {
        c.rollback();
        throw e;
      } finally {
        c.setAutoCommit(auto);
      }
    }
  }

  private static String meta(Device d) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("report_interval_s", d.reportIntervalS());
    if (!d.overrides().isEmpty()) {
      m.put("overrides", new java.util.TreeMap<>(d.overrides()));
    }
    try {
      return JSON.writeValueAsString(m);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }
}
