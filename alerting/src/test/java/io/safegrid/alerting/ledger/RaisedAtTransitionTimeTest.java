package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * newcomer7 F4 (c): a rule transition that waited for the ledger (the database was unreachable for
 * 40 s, the alarm writer retried) is registered with its own time, the time the gas was there, not
 * with the time the database came back. The ledger's clock stands for the commit's time.
 */
class RaisedAtTransitionTimeTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T06:57:00Z"));
  private JdbcAlarmLedger ledger;

  @BeforeEach
  void setUp() {
    ledger = new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(), new SimpleMeterRegistry());
    ledger.start();
  }

  @AfterEach
  void tearDown() {
    ledger.close();
  }

  private static AlarmTransition gas(Kind kind, Instant at, double lel) {
    return new AlarmTransition("gas-011", "gas-lel-threshold", kind, Severity.CRITICAL, at.toEpochMilli(),
        "gas " + lel + " %LEL", Map.of("gas_lel", lel, "reading_time_ms", at.toEpochMilli()));
  }

  @Test
  void raisedAtAndClearedAtAreTheTransitionsTimesNotTheCommits() throws Exception {
    Instant leak = clock.instant();
    clock.advance(Duration.ofSeconds(40)); // the database was away; the writer committed now
    Alarm raised = ledger.apply(gas(Kind.RAISE, leak, 80)).orElseThrow();
    assertThat(raised.raisedAt()).isEqualTo(leak);
    assertThat(raised.updatedAt()).as("when the ledger knew").isEqualTo(clock.instant());
    assertThat(storedRaisedAt(raised.id())).as("what SQL users and the API read").isEqualTo(leak);
    assertThat(ledger.find(raised.id()).orElseThrow().raisedAt()).isEqualTo(leak);

    Instant fell = leak.plusSeconds(25);
    clock.advance(Duration.ofSeconds(5));
    Alarm cleared = ledger.apply(gas(Kind.CLEAR, fell, 2)).orElseThrow();
    assertThat(cleared.clearedAt()).isEqualTo(fell);
    assertThat(cleared.raisedAt()).isEqualTo(leak);
  }

  @Test
  void aTransitionStampedAheadOfTheCommitIsRegisteredAtTheCommit() {
    Instant ahead = clock.instant().plusSeconds(90); // a device clock 90 s fast, inside the 5 min skew
    Alarm raised = ledger.apply(new AlarmTransition("gas-012", "gas-lel-threshold", Kind.RAISE,
        Severity.CRITICAL, ahead.toEpochMilli(), "gas 70 %LEL", Map.of())).orElseThrow();
    assertThat(raised.raisedAt()).isEqualTo(clock.instant());
  }

  private static Instant storedRaisedAt(long id) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement ps = c.prepareStatement("SELECT raised_at FROM alarms WHERE id = ?")) {
      ps.setLong(1, id);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getTimestamp(1).toInstant();
      }
    }
  }
}
