package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
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
 * How a ledger transaction talks to PostgreSQL, on a real TimescaleDB: which transactions commit
 * without waiting for the WAL flush (rule transitions) and which wait (officer actions).
 */
class LedgerRoundTripTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T08:00:00Z"));
  private JdbcAlarmLedger ledger;
  private static int run;
  private String device;

  @BeforeEach
  void setUp() {
    ledger = new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(), new SimpleMeterRegistry());
    ledger.start();
    device = "gas-rt-" + (++run);
  }

  @AfterEach
  void tearDown() {
    ledger.close();
  }

  private AlarmTransition t(Kind kind, Severity s, String msg) {
    return new AlarmTransition(device, "gas-lel-threshold", kind, s, clock.millis(), msg,
        Map.of("gas_lel", 31.2, "threshold", 25));
  }

  @Test
  void ruleTransitionsCommitWithoutWaitingForTheWalFlushOfficerActionsWait() {
    List<String> seen = new ArrayList<>();
    ledger.addHook((tx, type, before, after) -> {
      try (Statement st = tx.connection().createStatement();
          ResultSet rs = st.executeQuery("SELECT current_setting('synchronous_commit')")) {
        rs.next();
        seen.add(type + "=" + rs.getString(1));
      } catch (SQLException e) {
        throw new IllegalStateException(e);
      }
    });
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "gas 31.2 %LEL")).orElseThrow();
    ledger.apply(t(Kind.RAISE, Severity.MAJOR, "gas 32 %LEL"));
    ledger.acknowledge(a.id(), "officer-1", "on my way");
    ledger.apply(t(Kind.CLEAR, Severity.MAJOR, "gas 3 %LEL"));
    ledger.close(a.id(), "officer-1", "valve closed");
    ledger.applyAll(List.of(t(Kind.RAISE, Severity.MAJOR, "gas 40 %LEL"),
        t(Kind.SEVERITY_CHANGE, Severity.CRITICAL, "gas 55 %LEL")), 0);
    assertThat(seen).containsExactly("raised=off", "repeated=off", "acknowledged=on", "cleared=off",
        "closed=on", "reopened=off", "severity_changed=off");
  }
}
