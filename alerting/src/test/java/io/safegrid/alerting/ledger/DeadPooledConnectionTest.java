package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A pooled connection whose backend is gone ({@code pg_terminate_backend}, as a server restart or
 * an administrator would do) is handed to the ledger without a check: HikariCP validates only a
 * connection idle for longer than its alive-bypass window ({@link LedgerPool}: the gateway's pool
 * has it raised so that a quiet site's alarm does not pay that round trip). The ledger must then
 * redo the transaction on another connection at once: each transition lands exactly once, and
 * nothing fails into the alarm writer's back-off.
 */
class DeadPooledConnectionTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final String APP = "dead-pooled-connection-test";

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T07:00:00Z"));
  private HikariDataSource pool;
  private JdbcAlarmLedger ledger;
  private SimpleMeterRegistry registry;

  @BeforeEach
  void setUp() {
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl(db.jdbcUrl());
    hc.setUsername(db.user());
    hc.setPassword(db.password());
    hc.setMaximumPoolSize(2);
    hc.setMinimumIdle(2);
    hc.setConnectionTimeout(2_000);
    hc.setPoolName("dead-pooled");
    hc.addDataSourceProperty("ApplicationName", APP);
    pool = LedgerPool.open(hc, LedgerPool.ALIVE_BYPASS_WINDOW);
    registry = new SimpleMeterRegistry();
    ledger = new JdbcAlarmLedger(pool, clock, LedgerConfig.defaults(), registry);
    ledger.start();
  }

  @AfterEach
  void tearDown() {
    ledger.close();
    pool.close();
  }

  @Test
  void aTransitionOnAPooledConnectionWhoseBackendWasKilledLandsExactlyOnce() throws Exception {
    String device = "gas-dead-1";
    ledger.apply(raise(device));
    ledger.apply(clear(device));
    int killed = terminatePoolBackends();
    assertThat(killed).isPositive();

    // the pool hands out a dead connection (used a moment ago: not checked)
    Alarm again = ledger.apply(raise(device)).orElseThrow();

    assertThat(again.state()).isEqualTo(AlarmState.ACTIVE_UNACKED);
    assertThat(types(device)).containsExactly("raised", "cleared", "reopened");
    // met either in its first round trip (redone at once) or, for a transition from memory, in the
    // committing one (in doubt: resolved as not committed, then redone)
    assertThat(registry.counter("safegrid.alarms.ledger.dead.connections").count()
        + registry.counter("safegrid.alarms.ledger.outcome.unknown").count())
        .as("the dead connection was met and the transition redone").isGreaterThanOrEqualTo(1);

    // and with every pooled connection dead: a group of two keys
    terminatePoolBackends();
    List<TransitionOutcome> out = ledger.applyAll(List.of(clear(device), raise("gas-dead-2")), 0);
    assertThat(out).allMatch(TransitionOutcome::applied);
    assertThat(types(device)).containsExactly("raised", "cleared", "reopened", "cleared");
    assertThat(types("gas-dead-2")).containsExactly("raised");
  }

  @Test
  void theAliveBypassWindowIsSetForTheLedgersPoolOnly() {
    assertThat(System.getProperty(LedgerPool.ALIVE_BYPASS_PROPERTY)).as("restored after the pool was made").isNull();
  }

  private int terminatePoolBackends() throws SQLException {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FILTER (WHERE pg_terminate_backend(pid, 5000))"
            + " FROM pg_stat_activity WHERE application_name = '" + APP + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  private AlarmTransition raise(String dev) {
    return new AlarmTransition(dev, "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, clock.millis(), "gas 31.2 %LEL",
        Map.of("gas_lel", 31.2, "threshold", 25));
  }

  private AlarmTransition clear(String dev) {
    return new AlarmTransition(dev, "gas-lel-threshold", Kind.CLEAR, Severity.MAJOR, clock.millis(), "gas 3 %LEL",
        Map.of("gas_lel", 3.0));
  }

  private List<String> types(String dev) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement("SELECT e.type FROM alarm_events e JOIN alarms a ON a.id = e.alarm_id"
            + " WHERE a.device_id = ? ORDER BY e.id")) {
      ps.setString(1, dev);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }
}
