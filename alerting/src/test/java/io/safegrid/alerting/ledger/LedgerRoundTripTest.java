package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.PreparedStatement;
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
import java.util.concurrent.atomic.AtomicInteger;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.core.BaseConnection;
import org.postgresql.core.TransactionState;

/**
 * How a ledger transaction talks to PostgreSQL, on a real TimescaleDB: two round trips for a new
 * alarm and one for each later rule transition of it (KnownAlarmsTest: when the memory is stale), the per-key lock taken before the select's snapshot, the COMMIT sent with the last
 * writes (and a failure there rolling back everything), which transactions commit without waiting
 * for the WAL flush (rule transitions) and which wait (officer actions).
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
  void aNewAlarmTakesTwoRoundTripsAndEveryLaterRuleTransitionOfItOne() {
    RoundTrips rt = new RoundTrips();
    try (JdbcAlarmLedger counted = new JdbcAlarmLedger(rt.wrap(db.dataSource()), clock, LedgerConfig.defaults(),
        new SimpleMeterRegistry())) {
      counted.start();
      // the lock-and-select (with the new alarm's id), then the writes with the COMMIT
      assertThat(rt.count(() -> counted.apply(t(Kind.RAISE, Severity.MAJOR, "gas 31.2 %LEL")))).as("new alarm").isEqualTo(2);
      // from the alarm as this ledger wrote it: the lock and version check go with the writes
      assertThat(rt.count(() -> counted.apply(t(Kind.RAISE, Severity.MAJOR, "gas 33 %LEL")))).as("repeat").isEqualTo(1);
      assertThat(rt.count(() -> counted.apply(t(Kind.SEVERITY_CHANGE, Severity.CRITICAL, "gas 55 %LEL"))))
          .as("severity change").isEqualTo(1);
      assertThat(rt.count(() -> counted.apply(t(Kind.CLEAR, Severity.CRITICAL, "gas 3 %LEL")))).as("clear").isEqualTo(1);
      assertThat(rt.count(() -> counted.apply(t(Kind.RAISE, Severity.MAJOR, "gas 30 %LEL")))).as("reopen").isEqualTo(1);
      Alarm a = counted.apply(t(Kind.RAISE, Severity.MAJOR, "gas 30 %LEL")).orElseThrow();
      assertThat(rt.count(() -> counted.acknowledge(a.id(), "officer-1", "on my way"))).as("acknowledge").isEqualTo(2);
      // the acknowledgement changed the row: the next rule transition reads it again, then one again
      assertThat(rt.count(() -> counted.apply(t(Kind.RAISE, Severity.MAJOR, "gas 32 %LEL"))))
          .as("repeat after an acknowledgement").isEqualTo(2);
      assertThat(rt.count(() -> counted.apply(t(Kind.RAISE, Severity.MAJOR, "gas 33 %LEL")))).as("repeat").isEqualTo(1);
      List<AlarmTransition> group = new ArrayList<>();
      for (int i = 0; i < 40; i++) { // more new alarms than one block of ids
        group.add(new AlarmTransition(device + "-g" + i, "gas-lel-threshold", Kind.RAISE, Severity.MAJOR,
            clock.millis(), "gas 31 %LEL", Map.of("gas_lel", 31.0)));
      }
      assertThat(rt.count(() -> counted.applyAll(group, 0))).as("group of 40 new alarms").isEqualTo(41);
      assertThat(counted.list(java.util.Set.of(AlarmState.ACTIVE_UNACKED), 1000, 0).stream()
          .filter(x -> x.deviceId().startsWith(device + "-g")).map(Alarm::id).distinct().count()).isEqualTo(40);
    }
  }

  @Test
  void aFailingWriteInTheLastRoundTripRollsBackTheWholeTransitionAndIsItsFailure() throws Exception {
    String bad = device + "-bad";
    ledger.addHook((tx, type, before, after) -> {
      if (after.deviceId().equals(bad)) { // sent with the events and the COMMIT; count >= 1 is a CHECK
        tx.defer("UPDATE alarms SET count = 0 WHERE id = ?", after.id());
      }
    });
    List<AlarmEvent> told = new java.util.concurrent.CopyOnWriteArrayList<>();
    ledger.addListener(told::add);
    long before = ledger.maxEventId();
    AlarmTransition badRaise = new AlarmTransition(bad, "gas-lel-threshold", Kind.RAISE, Severity.MAJOR,
        clock.millis(), "gas 40 %LEL", Map.of());
    assertThatThrownBy(() -> ledger.apply(badRaise))
        .isInstanceOf(AlarmStoreException.class).hasMessageContaining("check constraint");
    assertThat(rows("SELECT count(*) FROM alarms WHERE device_id = '" + bad + "'")).isZero();
    assertThat(ledger.maxEventId()).isEqualTo(before);

    // in a group: redone with savepoints, the failing one alone is rolled back
    List<TransitionOutcome> out = ledger.applyAll(List.of(badRaise, t(Kind.RAISE, Severity.MAJOR, "gas 31.2 %LEL")), 0);
    assertThat(out).extracting(TransitionOutcome::status)
        .containsExactly(TransitionOutcome.Status.FAILED, TransitionOutcome.Status.APPLIED);
    assertThat(out.get(0).error()).hasMessageContaining("check constraint");
    assertThat(rows("SELECT count(*) FROM alarms WHERE device_id = '" + bad + "'")).isZero();
    Alarm good = out.get(1).alarm().orElseThrow();
    assertThat(ledger.find(good.id())).contains(good);
    List<AlarmEvent> replay = ledger.eventsAfter(before, 100);
    assertThat(replay).extracting(AlarmEvent::type).containsExactly("raised");
    await().atMost(Duration.ofSeconds(10)).until(() -> !told.isEmpty());
    assertThat(told).containsExactlyElementsOf(replay);
  }

  private static int rows(String sql) throws SQLException {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /**
   * Counts the round trips the calling thread makes through a {@link DataSource}: each execute of
   * a statement, each savepoint, and each commit or rollback that pgjdbc sends (it sends none
   * when the server reported the session idle).
   */
  private static final class RoundTrips {
    private final AtomicInteger n = new AtomicInteger();
    private volatile Thread counted;

    int count(Runnable r) {
      counted = Thread.currentThread();
      n.set(0);
      try {
        r.run();
      } finally {
        counted = null;
      }
      return n.get();
    }

    private void hit() {
      if (Thread.currentThread() == counted) {
        n.incrementAndGet();
      }
    }

    DataSource wrap(DataSource ds) {
      return proxy(DataSource.class, (p, m, args) -> {
        Object r = call(m, ds, args);
        return m.getName().equals("getConnection") ? connection((Connection) r) : r;
      });
    }

    private Connection connection(Connection c) {
      return proxy(Connection.class, (p, m, args) -> {
        switch (m.getName()) {
          case "commit", "rollback" -> {
            if (c.unwrap(BaseConnection.class).getTransactionState() != TransactionState.IDLE) {
              hit();
            }
          }
          case "setSavepoint", "releaseSavepoint" -> hit();
          default -> { }
        }
        Object r = call(m, c, args);
        if (r instanceof PreparedStatement ps) {
          return proxy(PreparedStatement.class, statement(ps));
        }
        if (r instanceof Statement st) {
          return proxy(Statement.class, statement(st));
        }
        return r;
      });
    }

    private InvocationHandler statement(Statement st) {
      return (p, m, args) -> {
        if (m.getName().startsWith("execute")) {
          hit();
        }
        return call(m, st, args);
      };
    }

    private static Object call(Method m, Object target, Object[] args) throws Throwable {
      try {
        return m.invoke(target, args);
      } catch (InvocationTargetException e) {
        throw e.getCause();
      }
    }

    @SuppressWarnings("unchecked")
    private static <T> T proxy(Class<T> type, InvocationHandler h) {
      return (T) Proxy.newProxyInstance(RoundTrips.class.getClassLoader(), new Class<?>[] {type}, h);
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
