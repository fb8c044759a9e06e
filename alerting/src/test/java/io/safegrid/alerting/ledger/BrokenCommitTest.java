package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.MutableClock;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The connection breaks during the round trip that carries a rule transition's COMMIT, so the
 * gateway cannot know whether it committed (docs/alerting.md "When the connection breaks during the
 * commit"). The ledger talks to the real TimescaleDB through a loopback proxy the test breaks; the
 * test holds the event-order advisory lock so that the ledger's last round trip waits inside
 * PostgreSQL, then either lets it commit and drops the answer before cutting the connection, or
 * terminates the backend before it commits. A failed transition is handed in again, as the gateway's
 * alarm writer does. Whatever happened, every transition is in the ledger exactly once: not lost,
 * not doubled (a raise applied twice would be a {@code repeated} event with count 2).
 */
class BrokenCommitTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T05:00:00Z"));
  private BreakableProxy proxy;
  private HikariDataSource pool;
  private JdbcAlarmLedger ledger;
  private SimpleMeterRegistry registry;
  private final List<AlarmEvent> told = new CopyOnWriteArrayList<>();
  private long before;
  private ExecutorService writer;
  private Connection holder;
  private static int run;
  private String device;

  @BeforeEach
  void setUp() throws Exception {
    URI u = URI.create(db.jdbcUrl().substring("jdbc:".length()));
    proxy = new BreakableProxy(u.getHost(), u.getPort());
    HikariConfig hc = new HikariConfig();
    hc.setJdbcUrl("jdbc:postgresql://127.0.0.1:" + proxy.port() + u.getRawPath()
        + (u.getRawQuery() == null ? "" : "?" + u.getRawQuery()));
    hc.setUsername(db.user());
    hc.setPassword(db.password());
    hc.setMaximumPoolSize(4);
    hc.setConnectionTimeout(1_000);
    hc.setPoolName("broken-commit");
    pool = new HikariDataSource(hc);
    registry = new SimpleMeterRegistry();
    ledger = new JdbcAlarmLedger(pool, clock, LedgerConfig.defaults(), registry);
    ledger.start();
    ledger.addListener(told::add);
    before = ledger.maxEventId();
    writer = Executors.newSingleThreadExecutor();
    holder = db.connect(); // straight to the server, not through the proxy
    device = "gas-bc-" + (++run);
  }

  @AfterEach
  void tearDown() throws Exception {
    holder.close();
    writer.shutdownNow();
    ledger.close();
    pool.close();
    proxy.close();
  }

  private AlarmTransition raise(String dev, String msg) {
    return new AlarmTransition(dev, "gas-lel-threshold", Kind.RAISE, Severity.MAJOR, clock.millis(), msg,
        Map.of("gas_lel", 31.2, "threshold", 25));
  }

  private AlarmTransition clear(String dev) {
    return new AlarmTransition(dev, "gas-lel-threshold", Kind.CLEAR, Severity.MAJOR, clock.millis(), "gas 3 %LEL",
        Map.of("gas_lel", 3.0));
  }

  @Test
  void aRaiseThatCommittedBeforeItsConnectionBrokeIsNotWrittenAgain() throws Exception {
    AlarmTransition r = raise(device, "gas 31.2 %LEL");
    List<TransitionOutcome> out = breakAfterCommit(List.of(r));

    assertThat(out).extracting(TransitionOutcome::status).containsExactly(TransitionOutcome.Status.APPLIED);
    Alarm a = out.get(0).alarm().orElseThrow();
    assertThat(a.count()).isEqualTo(1);
    assertThat(types(device)).containsExactly("raised");
    assertThat(registry.counter("safegrid.alarms.ledger.outcome.unknown").count()).isEqualTo(1);
    assertToldExactlyWhatIsStored();

    // the ledger forgot what it remembered of the alarm: the next transition reads it and clears it
    assertThat(writeLikeTheAlarmWriter(List.of(clear(device)))).allMatch(TransitionOutcome::applied);
    assertThat(types(device)).containsExactly("raised", "cleared");
    assertThat(ledger.find(a.id()).orElseThrow().state()).isEqualTo(AlarmState.CLEARED_UNACKED);
    assertToldExactlyWhatIsStored();
  }

  @Test
  void aGroupWithATransitionFromMemoryThatCommittedBeforeItsConnectionBrokeIsNotWrittenAgain() throws Exception {
    String other = device + "-b";
    Alarm first = ledger.apply(raise(device, "gas 31.2 %LEL")).orElseThrow();
    // the repeat comes from the ledger's memory (one round trip), the other alarm is new (two)
    List<TransitionOutcome> out = breakAfterCommit(List.of(raise(device, "gas 40 %LEL"), raise(other, "gas 35 %LEL")));

    assertThat(out).allMatch(TransitionOutcome::applied);
    assertThat(types(device)).containsExactly("raised", "repeated");
    assertThat(types(other)).containsExactly("raised");
    assertThat(ledger.find(first.id()).orElseThrow().count()).isEqualTo(2);
    assertToldExactlyWhatIsStored();
  }

  @Test
  void aRaiseWhoseBackendEndedBeforeItCommittedIsWrittenOnce() throws Exception {
    AlarmTransition r = raise(device, "gas 31.2 %LEL");
    lockEventOrder();
    Future<List<TransitionOutcome>> f = writer.submit(() -> writeLikeTheAlarmWriter(List.of(r)));
    int pid = await().atMost(Duration.ofSeconds(20)).until(this::backendWaitingForTheEventOrderLock, w -> w != null)[0];
    try (Statement st = holder.createStatement()) {
      st.execute("SELECT pg_terminate_backend(" + pid + ", 5000)"); // before its COMMIT ran
    }
    // the ledger finds out it did not commit and writes it again, which waits for the lock once more
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      int[] w = backendWaitingForTheEventOrderLock();
      return w != null && w[0] != pid;
    });
    unlockEventOrder();
    List<TransitionOutcome> out = f.get(30, TimeUnit.SECONDS);

    assertThat(out).allMatch(TransitionOutcome::applied);
    assertThat(types(device)).containsExactly("raised");
    assertThat(ledger.find(out.get(0).alarm().orElseThrow().id()).orElseThrow().count()).isEqualTo(1);
    assertToldExactlyWhatIsStored();
  }

  @Test
  void whenTheDatabaseCannotBeAskedTheTransitionFailsAndItsRetryIsNotWrittenAgain() throws Exception {
    AlarmTransition r = raise(device, "gas 31.2 %LEL");
    lockEventOrder();
    Future<List<TransitionOutcome>> f = writer.submit(() -> ledger.applyAll(List.of(r), 0));
    int[] waiting = await().atMost(Duration.ofSeconds(20)).until(this::backendWaitingForTheEventOrderLock, w -> w != null);
    BreakableProxy.Link link = proxy.linkOfBackendClientPort(waiting[1]).orElseThrow();
    link.discardResponses();
    unlockEventOrder();
    await().atMost(Duration.ofSeconds(20)).until(() -> types(device).size() == 1); // committed; the answer dropped
    proxy.refuseNew(true); // the database is out of reach: the ledger cannot ask it what happened
    proxy.cutAll();
    List<TransitionOutcome> out = f.get(30, TimeUnit.SECONDS);
    assertThat(out).extracting(TransitionOutcome::status).containsExactly(TransitionOutcome.Status.FAILED);
    assertThat(connectionFailureInCauses(out.get(0).error())).as("retried by the alarm writer as an outage").isTrue();

    proxy.refuseNew(false);
    List<TransitionOutcome> again = writeLikeTheAlarmWriter(List.of(r)); // the pool meets the cut connections first
    assertThat(again).allMatch(TransitionOutcome::applied);
    assertThat(again.get(0).alarm().orElseThrow().count()).isEqualTo(1);
    assertThat(types(device)).containsExactly("raised");
    assertToldExactlyWhatIsStored();
    // and the (device, rule) goes on normally
    assertThat(writeLikeTheAlarmWriter(List.of(clear(device)))).allMatch(TransitionOutcome::applied);
    assertThat(types(device)).containsExactly("raised", "cleared");
  }

  @Test
  void anAcknowledgementThatCommittedBeforeItsConnectionBrokeIsReportedDone() throws Exception {
    Alarm a = ledger.apply(raise(device, "gas 31.2 %LEL")).orElseThrow();
    Alarm acked = officerActionBreakingAfterCommit(() -> ledger.acknowledge(a.id(), "officer-li", "on my way"));

    // before: AlarmStoreException (the officer saw an error) although it had committed
    assertThat(acked.state()).isEqualTo(AlarmState.ACTIVE_ACKED);
    assertThat(acked.acknowledgedBy()).isEqualTo("officer-li");
    assertThat(types(device)).containsExactly("raised", "acknowledged");
    assertThat(ledger.find(a.id()).orElseThrow().state()).isEqualTo(AlarmState.ACTIVE_ACKED);
    assertThat(tokensOf(device)).as("the acknowledgement's events carry its token").hasSize(2).doesNotContainNull();
    assertThat(registry.counter("safegrid.alarms.ledger.outcome.unknown").count()).isEqualTo(1);
    assertToldExactlyWhatIsStored();
  }

  @Test
  void aWriteOffWhoseBackendEndedBeforeItCommittedIsDoneOnce() throws Exception {
    Alarm a = ledger.apply(raise(device, "gas 31.2 %LEL")).orElseThrow();
    ledger.acknowledge(a.id(), "officer-li", null);
    ledger.apply(clear(device));
    lockEventOrder();
    Future<Alarm> f = writer.submit(() -> ledger.close(a.id(), "officer-li", "valve replaced"));
    int pid = await().atMost(Duration.ofSeconds(20)).until(this::backendWaitingForTheEventOrderLock, w -> w != null)[0];
    try (Statement st = holder.createStatement()) {
      st.execute("SELECT pg_terminate_backend(" + pid + ", 5000)"); // before its COMMIT ran
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> {
      int[] w = backendWaitingForTheEventOrderLock();
      return w != null && w[0] != pid; // done again, waiting for the lock once more
    });
    unlockEventOrder();
    Alarm closed = f.get(30, TimeUnit.SECONDS);

    assertThat(closed.state()).isEqualTo(AlarmState.CLOSED);
    assertThat(closed.closeNote()).isEqualTo("valve replaced");
    assertThat(types(device)).containsExactly("raised", "acknowledged", "cleared", "closed");
    assertToldExactlyWhatIsStored();
  }

  @Test
  void anAcknowledgementInDoubtWhileTheDatabaseIsOutOfReachIsDoneOnceWhenTheOfficerRetries() throws Exception {
    Alarm a = ledger.apply(raise(device, "gas 31.2 %LEL")).orElseThrow();
    lockEventOrder();
    Future<Alarm> f = writer.submit(() -> ledger.acknowledge(a.id(), "officer-li", "on my way"));
    int[] waiting = await().atMost(Duration.ofSeconds(20)).until(this::backendWaitingForTheEventOrderLock, w -> w != null);
    proxy.linkOfBackendClientPort(waiting[1]).orElseThrow().discardResponses();
    unlockEventOrder();
    await().atMost(Duration.ofSeconds(20)).until(() -> types(device).size() == 2); // committed; the answer dropped
    proxy.refuseNew(true);
    proxy.cutAll();
    assertThatThrownBy(() -> f.get(30, TimeUnit.SECONDS))
        .hasCauseInstanceOf(AlarmStoreException.class)
        .satisfies(e -> assertThat(connectionFailureInCauses(e.getCause())).as("a connection error: retry").isTrue());
    // still out of reach: the retry is refused the same way, not done
    assertThatThrownBy(() -> ledger.acknowledge(a.id(), "officer-li", "on my way"))
        .isInstanceOf(AlarmStoreException.class)
        .satisfies(e -> assertThat(connectionFailureInCauses(e)).isTrue());

    proxy.refuseNew(false);
    Alarm again = retryWhileUnreachable(() -> ledger.acknowledge(a.id(), "officer-li", "on my way"));
    // before: 409 "only an unacknowledged alarm can be acknowledged" for the officer's own action
    assertThat(again.state()).isEqualTo(AlarmState.ACTIVE_ACKED);
    assertThat(again.acknowledgedBy()).isEqualTo("officer-li");
    assertThat(types(device)).containsExactly("raised", "acknowledged");
    // another officer acknowledging afterwards is refused as before: it was acknowledged
    assertThatThrownBy(() -> ledger.acknowledge(a.id(), "officer-wang", null))
        .isInstanceOf(IllegalAlarmTransitionException.class);
    assertToldExactlyWhatIsStored();
  }

  @Test
  void endingABrokenBackendLeavesAnotherBackendWithTheSamePidAlone() throws Exception {
    // a bystander of the same user in a transaction, as a pooled connection that reused the pid would be
    try (Connection bystander = db.connect(); Statement st = bystander.createStatement()) {
      bystander.setAutoCommit(false);
      java.time.OffsetDateTime started;
      int pid;
      try (ResultSet rs = st.executeQuery(
          "SELECT pid, backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()")) {
        rs.next();
        pid = rs.getInt(1);
        started = rs.getObject(2, java.time.OffsetDateTime.class);
      }
      // before: ended by pid alone
      assertThat(JdbcAlarmLedger.endBrokenBackend(holder, pid, started.minusNanos(1_000))).isTrue();
      assertThat(backendAlive(pid)).as("another backend_start: not the broken one").isTrue();
      assertThat(JdbcAlarmLedger.endBrokenBackend(holder, pid, started)).isTrue();
      await().atMost(Duration.ofSeconds(10)).until(() -> !backendAlive(pid));
    }
  }

  private boolean backendAlive(int pid) throws SQLException {
    try (PreparedStatement ps = holder.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE pid = ?")) {
      ps.setInt(1, pid);
      try (ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getInt(1) == 1;
      }
    }
  }

  /** Retries {@code action} while it fails with a connection error (the pool meets the cut connections first). */
  private static Alarm retryWhileUnreachable(java.util.concurrent.Callable<Alarm> action) throws Exception {
    for (int i = 0; ; i++) {
      try {
        return action.call();
      } catch (AlarmStoreException e) {
        if (i >= 10 || !connectionFailureInCauses(e)) {
          throw e;
        }
        Thread.sleep(200);
      }
    }
  }

  /**
   * Runs an officer action whose last round trip waits in PostgreSQL for the event-order lock the
   * test holds; the proxy drops the server's answers on that connection, the test lets it commit,
   * waits until its events are visible, then cuts the connection.
   */
  private Alarm officerActionBreakingAfterCommit(java.util.concurrent.Callable<Alarm> action) throws Exception {
    int eventsBefore = allEvents();
    lockEventOrder();
    Future<Alarm> f = writer.submit(action);
    int[] waiting = await().atMost(Duration.ofSeconds(20)).until(this::backendWaitingForTheEventOrderLock, w -> w != null);
    BreakableProxy.Link link = proxy.linkOfBackendClientPort(waiting[1]).orElseThrow();
    link.discardResponses();
    unlockEventOrder();
    await().atMost(Duration.ofSeconds(20)).until(() -> allEvents() > eventsBefore);
    link.cut();
    return f.get(30, TimeUnit.SECONDS);
  }

  private List<String> tokensOf(String dev) throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement("SELECT e.ledger_tx::text FROM alarm_events e JOIN alarms a"
            + " ON a.id = e.alarm_id WHERE a.device_id = ? ORDER BY e.id")) {
      ps.setString(1, dev);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getString(1));
        }
      }
    }
    return out;
  }

  /**
   * Applies {@code group}; its last round trip waits in PostgreSQL for the event-order lock the
   * test holds; the test makes the proxy drop the server's answers on that connection, lets it
   * commit, waits until the events are visible, then cuts the connection.
   */
  private List<TransitionOutcome> breakAfterCommit(List<AlarmTransition> group) throws Exception {
    int eventsBefore = allEvents();
    lockEventOrder();
    Future<List<TransitionOutcome>> f = writer.submit(() -> writeLikeTheAlarmWriter(group));
    int[] waiting = await().atMost(Duration.ofSeconds(20)).until(this::backendWaitingForTheEventOrderLock, w -> w != null);
    BreakableProxy.Link link = proxy.linkOfBackendClientPort(waiting[1]).orElseThrow();
    link.discardResponses();
    unlockEventOrder();
    await().atMost(Duration.ofSeconds(20)).until(() -> allEvents() > eventsBefore); // committed, the answer dropped
    link.cut();
    return f.get(30, TimeUnit.SECONDS);
  }

  /**
   * As the gateway's alarm writer does with connection failures: hands failed transitions in again
   * (here after 0.2 s, up to 10 times) and returns the last outcome of each.
   */
  private List<TransitionOutcome> writeLikeTheAlarmWriter(List<AlarmTransition> group) throws InterruptedException {
    List<TransitionOutcome> out = new ArrayList<>(ledger.applyAll(group, 0));
    for (int attempt = 0; attempt < 10; attempt++) {
      List<AlarmTransition> again = new ArrayList<>();
      List<Integer> at = new ArrayList<>();
      for (int i = 0; i < out.size(); i++) {
        if (!out.get(i).applied()) {
          again.add(group.get(i));
          at.add(i);
        }
      }
      if (again.isEmpty()) {
        break;
      }
      Thread.sleep(200);
      List<TransitionOutcome> o = ledger.applyAll(again, 0);
      for (int j = 0; j < o.size(); j++) {
        out.set(at.get(j), o.get(j));
      }
    }
    return out;
  }

  private void lockEventOrder() throws SQLException {
    try (PreparedStatement ps = holder.prepareStatement("SELECT pg_advisory_lock(?)")) {
      ps.setLong(1, LedgerTx.EVENT_ORDER_LOCK);
      ps.execute();
    }
  }

  private void unlockEventOrder() throws SQLException {
    try (PreparedStatement ps = holder.prepareStatement("SELECT pg_advisory_unlock(?)")) {
      ps.setLong(1, LedgerTx.EVENT_ORDER_LOCK);
      ps.execute();
    }
  }

  /** {pid, client_port} of the backend waiting for an advisory lock, or null. */
  private int[] backendWaitingForTheEventOrderLock() throws SQLException {
    try (Statement st = holder.createStatement();
        ResultSet rs = st.executeQuery("SELECT pid, client_port FROM pg_stat_activity WHERE datname = current_database()"
            + " AND wait_event_type = 'Lock' AND wait_event = 'advisory'")) {
      return rs.next() ? new int[] {rs.getInt(1), rs.getInt(2)} : null;
    }
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

  private int allEvents() throws SQLException {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM alarm_events")) {
      rs.next();
      return rs.getInt(1);
    }
  }

  /** Listeners were told every stored event once, in id order (the dispatcher reads the table after a break). */
  private void assertToldExactlyWhatIsStored() {
    List<AlarmEvent> stored = ledger.eventsAfter(before, 1000);
    await().atMost(Duration.ofSeconds(10)).until(() -> told.size() >= stored.size());
    assertThat(told).containsExactlyElementsOf(stored);
  }

  static boolean connectionFailureInCauses(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause()) {
      if (c instanceof SQLException s && s.getSQLState() != null && s.getSQLState().startsWith("08")) {
        return true;
      }
    }
    return false;
  }
}
