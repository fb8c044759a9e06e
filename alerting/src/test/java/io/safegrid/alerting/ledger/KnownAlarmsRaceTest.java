package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One-round-trip rule transitions (docs/alerting.md "One round trip") raced against officer actions,
 * escalation steps and a second gateway on the same database, many times each: no acknowledgement,
 * clear, re-open or escalation step lost or taken twice, every history consistent, every event told
 * once in id order. Written by the round-5 reviewer to break the change (it did not break).
 */
class KnownAlarmsRaceTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T02:00:00Z"));
  private final MeterRegistry registry = new SimpleMeterRegistry();
  private Alerting a;
  private Alerting b;
  private JdbcAlarmLedger la;
  private JdbcAlarmLedger lb;
  private final List<AlarmEvent> told = new CopyOnWriteArrayList<>();
  private long startId;
  private final ExecutorService pool = Executors.newFixedThreadPool(2);
  private static int run;

  @BeforeEach
  void setUp() {
    AlertingConfig cfg = new AlertingConfig(null, null, null, null, List.of());
    a = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, registry);
    b = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry());
    la = a.ledger();
    lb = b.ledger();
    la.addListener(told::add);
    la.start();
    lb.start();
    startId = la.maxEventId();
    run++;
  }

  @AfterEach
  void tearDown() {
    pool.shutdownNow();
    la.close();
    lb.close();
  }

  private AlarmTransition t(String rule, Kind kind, Severity s, double lel) {
    return new AlarmTransition("gas-001", rule, kind, s, clock.millis(), "gas " + lel + " %LEL",
        Map.of("gas_lel", lel));
  }

  private double used() {
    return registry.get("safegrid.alarms.ledger.memory.used").counter().count();
  }

  /** Every event's from-state is the previous event's to-state, and the row ends where the history ends. */
  private void assertConsistent(long id) throws Exception {
    List<AlarmEvent> h = la.history(id);
    Alarm row = la.find(id).orElseThrow();
    AlarmState prev = null;
    for (AlarmEvent e : h) {
      if (prev != null) {
        assertThat(e.fromState()).as("alarm %d event %d %s: %s", id, e.id(), e.type(), types(h)).isEqualTo(prev);
      }
      prev = e.toState();
    }
    assertThat(row.state()).as("alarm %d row vs history %s", id, types(h)).isEqualTo(prev);
    // escalation: the row's step is the highest step notified, and the steps are 1..n once each
    TreeSet<Integer> steps = new TreeSet<>();
    List<String> keys = new ArrayList<>();
    int rowStep;
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement()) {
      try (ResultSet rs = st.executeQuery("SELECT idempotency_key FROM outbox WHERE alarm_id = " + id)) {
        Pattern p = Pattern.compile("a\\d+-s(\\d+)-.*");
        while (rs.next()) {
          Matcher m = p.matcher(rs.getString(1));
          assertThat(m.matches()).isTrue();
          steps.add(Integer.parseInt(m.group(1)));
          keys.add(rs.getString(1));
        }
      }
      try (ResultSet rs = st.executeQuery("SELECT escalation_step FROM alarms WHERE id = " + id)) {
        rs.next();
        rowStep = rs.getInt(1);
      }
    }
    assertThat(rowStep).as("alarm %d escalation_step vs outbox %s", id, keys).isEqualTo(steps.isEmpty() ? 0 : steps.last());
    assertThat(steps.size()).as("alarm %d steps contiguous %s", id, steps).isEqualTo(steps.isEmpty() ? 0 : steps.last());
  }

  private static List<String> types(List<AlarmEvent> h) {
    List<String> out = new ArrayList<>();
    for (AlarmEvent e : h) {
      out.add(e.type() + ":" + e.fromState() + "->" + e.toState() + "(" + e.actor() + ")");
    }
    return out;
  }

  private void race(Runnable x, Runnable y) throws Exception {
    CountDownLatch go = new CountDownLatch(1);
    Future<?> fx = pool.submit(() -> { go.await(); x.run(); return null; });
    Future<?> fy = pool.submit(() -> { go.await(); y.run(); return null; });
    go.countDown();
    fx.get(30, TimeUnit.SECONDS);
    fy.get(30, TimeUnit.SECONDS);
  }

  private void assertToldEverythingOnceInOrder() {
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      List<Long> table = new ArrayList<>();
      for (AlarmEvent e : la.eventsAfter(startId, 100_000)) {
        table.add(e.id());
      }
      List<Long> seen = new ArrayList<>();
      for (AlarmEvent e : told) {
        seen.add(e.id());
      }
      assertThat(seen).isEqualTo(table);
    });
    for (AlarmEvent e : told) {
      assertThat(e.alarm().deviceId()).isNotEqualTo(JdbcAlarmLedger.WARM_UP_DEVICE);
    }
  }

  @Test
  void aClearRacingAnAcknowledgementLosesNeither() throws Exception {
    Thread warm = la.warmUpInBackground(300); // the rolled-back warm-up runs alongside
    double used0 = used();
    for (int i = 0; i < 60; i++) {
      String rule = "ack-race-" + run + "-" + i;
      clock.advance(Duration.ofMillis(10));
      Alarm raised = la.apply(t(rule, Kind.RAISE, Severity.MAJOR, 31)).orElseThrow();
      la.apply(t(rule, Kind.RAISE, Severity.MAJOR, 32)); // remembered now
      JdbcAlarmLedger officer = i % 2 == 0 ? lb : la; // another gateway, or this one on another thread
      int n = i;
      race(() -> la.apply(t(rule, Kind.CLEAR, Severity.MAJOR, 3)),
          () -> officer.acknowledge(raised.id(), "officer-" + n, "on my way"));
      Alarm end = la.find(raised.id()).orElseThrow();
      assertThat(end.state()).as("iteration %d", i).isEqualTo(AlarmState.CLEARED_ACKED);
      assertThat(end.acknowledgedBy()).isEqualTo("officer-" + i);
      assertThat(end.count()).isEqualTo(2);
      assertConsistent(raised.id());
    }
    warm.join(60_000);
    assertThat(used() - used0).isGreaterThan(60);
    assertToldEverythingOnceInOrder();
  }

  @Test
  void aReopenRacingACloseLosesNeither() throws Exception {
    for (int i = 0; i < 40; i++) {
      String rule = "close-race-" + run + "-" + i;
      clock.advance(Duration.ofMillis(10));
      Alarm raised = la.apply(t(rule, Kind.RAISE, Severity.MINOR, 31)).orElseThrow();
      lb.acknowledge(raised.id(), "officer", "seen");
      la.apply(t(rule, Kind.CLEAR, Severity.MINOR, 3)); // redone after the ack, remembered cleared_acked
      JdbcAlarmLedger officer = i % 2 == 0 ? lb : la;
      boolean[] closed = {false};
      race(() -> la.apply(t(rule, Kind.RAISE, Severity.MINOR, 40)),
          () -> {
            try {
              officer.close(raised.id(), "officer", "valve shut");
              closed[0] = true;
            } catch (IllegalAlarmTransitionException refused) {
              // the reopen came first
            }
          });
      Alarm end = la.find(raised.id()).orElseThrow();
      assertThat(end.state()).as("iteration %d closed=%s", i, closed[0]).isEqualTo(AlarmState.ACTIVE_UNACKED);
      assertThat(end.count()).isEqualTo(2);
      assertThat(la.history(raised.id())).extracting(AlarmEvent::type)
          .contains(closed[0] ? "closed" : "reopened", "reopened");
      assertConsistent(raised.id());
    }
    assertToldEverythingOnceInOrder();
  }

  @Test
  void anEscalationStepRacingARuleTransitionIsTakenOnce() throws Exception {
    for (int i = 0; i < 40; i++) {
      String rule = "esc-race-" + run + "-" + i;
      Alarm raised = la.apply(t(rule, Kind.RAISE, i % 2 == 0 ? Severity.CRITICAL : Severity.MAJOR, 60)).orElseThrow();
      la.apply(t(rule, Kind.RAISE, raised.severity(), 61)); // remembered
      clock.advance(Duration.ofMinutes(4)); // due
      io.safegrid.alerting.escalation.Escalator esc = (i % 4 < 2 ? b : a).escalator();
      AlarmTransition next = switch (i % 3) {
        case 0 -> t(rule, Kind.RAISE, raised.severity(), 62);
        case 1 -> t(rule, Kind.SEVERITY_CHANGE, Severity.CRITICAL, 70);
        default -> t(rule, Kind.CLEAR, raised.severity(), 2);
      };
      race(() -> la.apply(next), esc::runDue);
      // and once more, both: the row must still be consistent
      clock.advance(Duration.ofMinutes(4));
      race(() -> la.apply(t(rule, Kind.RAISE, Severity.CRITICAL, 80)), esc::runDue);
      assertConsistent(raised.id());
      clock.advance(Duration.ofMinutes(4));
      lb.acknowledge(raised.id(), "officer", "seen"); // stops it, so later iterations do not step it
    }
    assertToldEverythingOnceInOrder();
  }

  @Test
  void twoGatewaysRaisingAndClearingOneAlarmAtOnce() throws Exception {
    for (int i = 0; i < 40; i++) {
      String rule = "two-gw-" + run + "-" + i;
      Alarm raised = la.apply(t(rule, Kind.RAISE, Severity.MAJOR, 31)).orElseThrow();
      lb.apply(t(rule, Kind.RAISE, Severity.MAJOR, 32)); // b remembers too (after a select)
      la.apply(t(rule, Kind.RAISE, Severity.MAJOR, 33)); // a: stale -> redo -> remembered
      // both remember it at different versions; both write at once
      race(() -> la.apply(t(rule, Kind.RAISE, Severity.MAJOR, 34)), () -> lb.apply(t(rule, Kind.RAISE, Severity.MAJOR, 35)));
      race(() -> la.apply(t(rule, Kind.CLEAR, Severity.MAJOR, 2)), () -> lb.apply(t(rule, Kind.RAISE, Severity.MAJOR, 36)));
      Alarm end = la.find(raised.id()).orElseThrow();
      List<AlarmEvent> h = la.history(raised.id());
      long repeats = h.stream().filter(e -> e.type().equals("repeated") || e.type().equals("reopened")).count();
      assertThat(end.count()).as("%s", types(h)).isEqualTo(1 + repeats);
      assertConsistent(raised.id());
    }
    assertToldEverythingOnceInOrder();
  }
}
