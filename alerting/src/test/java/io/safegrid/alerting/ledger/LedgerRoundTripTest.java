package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * How a ledger transaction talks to PostgreSQL, on a real TimescaleDB: the per-key lock is taken
 * before the select's snapshot, which transactions commit without waiting for the WAL flush (rule
 * transitions) and which wait (officer actions).
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

  /**
   * Two writers, one (device, rule): A raises a new alarm and is held inside its transaction (it
   * holds the per-key advisory lock); B's CLEAR arrives and waits for that lock; A commits. B must
   * then see A's alarm and clear it. If B's select took its snapshot before the lock's wait (the
   * lock inside the select's own statement: READ COMMITTED takes a snapshot per statement, and
   * {@code FOR UPDATE} re-checks updated rows, not inserted ones), B finds nothing and the CLEAR is
   * lost: the alarm stays active although the gas is gone.
   */
  @Test
  void aClearWaitingForTheLockSeesTheAlarmTheOtherWriterCommittedMeanwhile() throws Exception {
    CountDownLatch aInside = new CountDownLatch(1);
    CountDownLatch releaseA = new CountDownLatch(1);
    AtomicBoolean once = new AtomicBoolean();
    ledger.addHook((tx, type, before, after) -> {
      if (type.equals("raised") && after.deviceId().equals(device) && once.compareAndSet(false, true)) {
        aInside.countDown();
        try {
          releaseA.await(20, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    });
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<Optional<Alarm>> a = pool.submit(() -> ledger.apply(t(Kind.RAISE, Severity.MAJOR, "gas 31.2 %LEL")));
      assertThat(aInside.await(20, TimeUnit.SECONDS)).as("writer A inside its transaction").isTrue();
      Future<Optional<Alarm>> b = pool.submit(() -> ledger.apply(t(Kind.CLEAR, Severity.MAJOR, "gas 3 %LEL")));
      await().atMost(Duration.ofSeconds(20)).until(this::someoneWaitsForAnAdvisoryLock);
      releaseA.countDown();
      Alarm raised = a.get(20, TimeUnit.SECONDS).orElseThrow();
      Optional<Alarm> cleared = b.get(20, TimeUnit.SECONDS);
      assertThat(cleared).as("B's CLEAR found A's alarm").isPresent();
      assertThat(cleared.get().id()).isEqualTo(raised.id());
      assertThat(ledger.find(raised.id()).orElseThrow().state()).isEqualTo(AlarmState.CLEARED_UNACKED);
      assertThat(ledger.history(raised.id())).extracting(AlarmEvent::type).containsExactly("raised", "cleared");
    } finally {
      releaseA.countDown();
      pool.shutdownNow();
    }
  }

  private boolean someoneWaitsForAnAdvisoryLock() throws SQLException {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
            + " AND wait_event_type = 'Lock' AND wait_event = 'advisory'")) {
      rs.next();
      return rs.getInt(1) > 0;
    }
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
