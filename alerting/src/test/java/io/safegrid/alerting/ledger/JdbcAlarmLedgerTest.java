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
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class JdbcAlarmLedgerTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T08:00:00Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private JdbcAlarmLedger ledger;
  private static int deviceSeq;
  private String device;

  @BeforeEach
  void setUp() {
    ledger = new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(), registry);
    ledger.start();
    device = "gas-" + (++deviceSeq);
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
  void raiseRegistersOneEntryAndRepeatsRaiseItsCount() throws SQLException {
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "gas 31.2 %LEL above level 1")).orElseThrow();
    assertThat(a.state()).isEqualTo(AlarmState.ACTIVE_UNACKED);
    assertThat(a.count()).isEqualTo(1);
    assertThat(a.evidence()).containsEntry("threshold", 25);
    clock.advance(Duration.ofSeconds(30));
    Alarm b = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "gas 33 %LEL")).orElseThrow();
    assertThat(b.id()).isEqualTo(a.id());
    assertThat(b.count()).isEqualTo(2);
    assertThat(b.message()).isEqualTo("gas 33 %LEL");
    assertThat(b.raisedAt()).isEqualTo(a.raisedAt());
    assertThat(b.updatedAt()).isEqualTo(clock.instant());
    assertThat(ledger.history(a.id())).extracting(AlarmEvent::type).containsExactly("raised", "repeated");
    assertThat(openRows(device)).isEqualTo(1);
  }

  @Test
  void fullLifecycleIsRecordedWithWhoWhenWhy() {
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.CRITICAL, "gas 55 %LEL above level 2")).orElseThrow();
    clock.advance(Duration.ofMinutes(1));
    Alarm acked = ledger.acknowledge(a.id(), "officer-wang", "on my way");
    assertThat(acked.state()).isEqualTo(AlarmState.ACTIVE_ACKED);
    assertThat(acked.acknowledgedBy()).isEqualTo("officer-wang");
    assertThat(acked.acknowledgedAt()).isEqualTo(clock.instant());
    assertThatThrownBy(() -> ledger.acknowledge(a.id(), "officer-li", null))
        .isInstanceOf(IllegalAlarmTransitionException.class);
    assertThatThrownBy(() -> ledger.close(a.id(), "officer-wang", "valve shut"))
        .isInstanceOf(IllegalAlarmTransitionException.class).hasMessageContaining("active_acked");
    clock.advance(Duration.ofMinutes(2));
    Alarm cleared = ledger.apply(t(Kind.CLEAR, Severity.CRITICAL, "gas 3 %LEL")).orElseThrow();
    assertThat(cleared.state()).isEqualTo(AlarmState.CLEARED_ACKED);
    assertThat(cleared.clearedAt()).isEqualTo(clock.instant());
    assertThat(cleared.message()).as("a cleared alarm still says what it was raised for")
        .isEqualTo("gas 55 %LEL above level 2");
    assertThat(ledger.history(a.id())).filteredOn(e -> e.type().equals("cleared"))
        .extracting(AlarmEvent::note).containsExactly("gas 3 %LEL");
    assertThat(ledger.apply(t(Kind.CLEAR, Severity.CRITICAL, "again"))).isEmpty();
    assertThatThrownBy(() -> ledger.close(a.id(), "officer-wang", "  "))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("disposal note");
    assertThatThrownBy(() -> ledger.close(a.id(), "officer-wang", null))
        .isInstanceOf(IllegalArgumentException.class);
    Alarm closed = ledger.close(a.id(), "officer-wang", "hose replaced, tested with detector");
    assertThat(closed.state()).isEqualTo(AlarmState.CLOSED);
    assertThat(closed.closeNote()).isEqualTo("hose replaced, tested with detector");
    assertThat(ledger.find(a.id())).contains(closed);

    List<AlarmEvent> h = ledger.history(a.id());
    assertThat(h).extracting(AlarmEvent::type).containsExactly("raised", "acknowledged", "cleared", "closed");
    assertThat(h).extracting(AlarmEvent::actor).containsExactly("rules", "officer-wang", "rules", "officer-wang");
    assertThat(h).extracting(AlarmEvent::toState).containsExactly(AlarmState.ACTIVE_UNACKED,
        AlarmState.ACTIVE_ACKED, AlarmState.CLEARED_ACKED, AlarmState.CLOSED);
    assertThat(h.get(1).fromState()).isEqualTo(AlarmState.ACTIVE_UNACKED);
    assertThat(h.get(1).note()).isEqualTo("on my way");
    assertThat(h.get(3).note()).isEqualTo("hose replaced, tested with detector");
    assertThat(h.get(3).alarm()).isEqualTo(closed);
    assertThat(h.get(0).alarm().state()).isEqualTo(AlarmState.ACTIVE_UNACKED);
    assertThat(h).extracting(AlarmEvent::id).isSorted();
  }

  @Test
  void clearedUnackedIsAcknowledgedToClearedAcked() {
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.MINOR, "m")).orElseThrow();
    Alarm c = ledger.apply(t(Kind.CLEAR, Severity.MINOR, "ok")).orElseThrow();
    assertThat(c.state()).isEqualTo(AlarmState.CLEARED_UNACKED);
    assertThatThrownBy(() -> ledger.close(a.id(), "officer", "note"))
        .isInstanceOf(IllegalAlarmTransitionException.class);
    assertThat(ledger.acknowledge(a.id(), "officer", null).state()).isEqualTo(AlarmState.CLEARED_ACKED);
  }

  @Test
  void unknownAlarmIsNotFound() {
    assertThatThrownBy(() -> ledger.acknowledge(987654, "x", null)).isInstanceOf(AlarmNotFoundException.class);
    assertThatThrownBy(() -> ledger.close(987654, "x", "n")).isInstanceOf(AlarmNotFoundException.class);
    assertThat(ledger.find(987654)).isEmpty();
  }

  @Test
  void severityChangeUpdatesTheEntry() {
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "level 1")).orElseThrow();
    Alarm b = ledger.apply(t(Kind.SEVERITY_CHANGE, Severity.CRITICAL, "level 2")).orElseThrow();
    assertThat(b.id()).isEqualTo(a.id());
    assertThat(b.severity()).isEqualTo(Severity.CRITICAL);
    assertThat(b.count()).isEqualTo(1);
    List<AlarmEvent> h = ledger.history(a.id());
    assertThat(h).extracting(AlarmEvent::type).containsExactly("raised", "severity_changed");
    assertThat(h.get(1).details()).containsEntry("fromSeverity", "major").containsEntry("severity", "critical");
  }

  @Test
  void aClearedAlarmThatComesBackReopensTheSameEntry() {
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "up")).orElseThrow();
    ledger.acknowledge(a.id(), "officer", null);
    ledger.apply(t(Kind.CLEAR, Severity.MAJOR, "down"));
    clock.advance(Duration.ofMinutes(3));
    Alarm back = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "up again")).orElseThrow();
    assertThat(back.id()).isEqualTo(a.id());
    assertThat(back.count()).isEqualTo(2);
    assertThat(back.state()).isEqualTo(AlarmState.ACTIVE_UNACKED);
    assertThat(back.acknowledgedBy()).isNull();
    assertThat(back.clearedAt()).isNull();

    // written off, and back within the window (10 min after it cleared): the same entry again
    ledger.apply(t(Kind.CLEAR, Severity.MAJOR, "down"));
    ledger.acknowledge(a.id(), "officer", null);
    ledger.close(a.id(), "officer", "pipe joint tightened");
    clock.advance(Duration.ofMinutes(5));
    Alarm again = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "up a third time")).orElseThrow();
    assertThat(again.id()).isEqualTo(a.id());
    assertThat(again.count()).isEqualTo(3);
    assertThat(again.closeNote()).isNull();
    assertThat(ledger.history(a.id())).extracting(AlarmEvent::type).containsExactly("raised", "acknowledged",
        "cleared", "reopened", "cleared", "acknowledged", "closed", "reopened");

    // written off and back after the window: a new ledger entry
    ledger.apply(t(Kind.CLEAR, Severity.MAJOR, "down"));
    ledger.acknowledge(a.id(), "officer", null);
    ledger.close(a.id(), "officer", "regulator replaced");
    clock.advance(Duration.ofMinutes(11));
    Alarm fresh = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "new occurrence")).orElseThrow();
    assertThat(fresh.id()).isNotEqualTo(a.id());
    assertThat(fresh.count()).isEqualTo(1);
    assertThat(ledger.find(a.id()).orElseThrow().state()).isEqualTo(AlarmState.CLOSED);
  }

  @Test
  void concurrentRaisesFromTwoThreadsMakeOneRow() throws Exception {
    int perThread = 25;
    List<String> devices = List.of(device + "-a", device + "-b", device + "-c");
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int th = 0; th < 2; th++) {
        fs.add(pool.submit(() -> {
          start.await();
          for (int i = 0; i < perThread; i++) {
            for (String d : devices) {
              ledger.apply(new AlarmTransition(d, "fire-panel-fire", Kind.RAISE, Severity.CRITICAL,
                  clock.millis(), "fire zone 10", Map.of()));
            }
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdown();
    }
    for (String d : devices) {
      assertThat(openRows(d)).as(d).isEqualTo(1);
      Alarm a = ledger.list(Set.of(), 1000, 0).stream().filter(x -> x.deviceId().equals(d)).findFirst().orElseThrow();
      assertThat(a.count()).isEqualTo(2 * perThread);
      assertThat(ledger.history(a.id())).hasSize(2 * perThread);
    }
  }

  @Test
  void theDatabaseItselfRefusesASecondOpenAlarm() throws SQLException {
    ledger.apply(t(Kind.RAISE, Severity.WARNING, "w"));
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      assertThatThrownBy(() -> st.execute(
          "INSERT INTO alarms (device_id, rule_id, severity, state, raised_at, updated_at) VALUES ('"
              + device + "', 'gas-lel-threshold', 'warning', 'active_unacked', now(), now())"))
          .isInstanceOf(SQLException.class).hasMessageContaining("alarms_one_open_per_device_rule");
    }
  }

  @Test
  void listenersAreToldAfterCommitInIdOrderAndEventsAfterReplaysTheSame() {
    List<AlarmEvent> seen = Collections.synchronizedList(new ArrayList<>());
    ledger.addListener(seen::add);
    long from = ledger.maxEventId();
    Alarm a = ledger.apply(t(Kind.RAISE, Severity.MAJOR, "x")).orElseThrow();
    ledger.acknowledge(a.id(), "officer", "seen");
    ledger.apply(t(Kind.CLEAR, Severity.MAJOR, "y"));
    ledger.close(a.id(), "officer", "done");
    await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() >= 4);
    List<AlarmEvent> replay = ledger.eventsAfter(from, 100);
    assertThat(seen).isEqualTo(replay);
    assertThat(seen).extracting(AlarmEvent::type).containsExactly("raised", "acknowledged", "cleared", "closed");
    assertThat(seen).extracting(AlarmEvent::id).isSorted().doesNotHaveDuplicates();
    assertThat(ledger.eventsAfter(replay.get(1).id(), 100)).extracting(AlarmEvent::type)
        .containsExactly("cleared", "closed");
  }

  @Test
  void listenersGetEventsEqualToTheReadBackForEveryEvidenceShape() {
    // the events handed to listeners are built from the maps (no JSON text round trip): they must
    // equal what the jsonb columns give back, value types and key order included
    List<AlarmEvent> seen = Collections.synchronizedList(new ArrayList<>());
    ledger.addListener(seen::add);
    long from = ledger.maxEventId();
    Map<String, Object> nested = new java.util.LinkedHashMap<>();
    nested.put("zone", "B2");
    nested.put("point", 17L);
    nested.put("list", List.of(1, 2L, 3.5, "x", Map.of("b", 1, "a", 2)));
    Map<String, Object> evidence = new java.util.HashMap<>();
    evidence.put("gas_lel", 31.2);
    evidence.put("threshold", 25);
    evidence.put("small_long", 25L);
    evidence.put("reading_time_ms", 1_764_403_200_123L);
    evidence.put("whole", 60.0);
    evidence.put("flag", false);
    evidence.put("at", Instant.parse("2026-11-29T08:00:00.123456Z").toString());
    evidence.put("nested", nested);
    evidence.put("燃气", "城南");
    evidence.put("float", 0.1f);
    for (Kind k : List.of(Kind.RAISE, Kind.RAISE, Kind.SEVERITY_CHANGE, Kind.CLEAR, Kind.RAISE)) {
      ledger.apply(new AlarmTransition(device, "gas-lel-threshold", k,
          k == Kind.SEVERITY_CHANGE ? Severity.CRITICAL : Severity.MAJOR, clock.millis(), "m", evidence));
    }
    List<AlarmEvent> replay = ledger.eventsAfter(from, 100);
    assertThat(replay).extracting(AlarmEvent::type)
        .containsExactly("raised", "repeated", "severity_changed", "cleared", "reopened");
    await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() >= replay.size());
    assertThat(seen).isEqualTo(replay);
    for (int i = 0; i < replay.size(); i++) {
      assertThat(Json.write(seen.get(i).alarm().evidence())).isEqualTo(Json.write(replay.get(i).alarm().evidence()));
      assertThat(Json.write(seen.get(i).details())).isEqualTo(Json.write(replay.get(i).details()));
    }
    assertThat(replay.get(0).alarm().evidence().get("small_long")).isInstanceOf(Integer.class);
    assertThat(replay.get(0).alarm().evidence().get("reading_time_ms")).isInstanceOf(Long.class);
  }

  @Test
  void listOrdersUnacknowledgedAndMostSevereFirst() {
    String base = device;
    ledger.apply(new AlarmTransition(base + "-w", "r", Kind.RAISE, Severity.WARNING, 0, "w", null));
    clock.advance(Duration.ofSeconds(1));
    Alarm crit = ledger.apply(new AlarmTransition(base + "-c", "r", Kind.RAISE, Severity.CRITICAL, 0, "c", null)).orElseThrow();
    clock.advance(Duration.ofSeconds(1));
    ledger.apply(new AlarmTransition(base + "-m", "r", Kind.RAISE, Severity.MAJOR, 0, "m", null));
    ledger.acknowledge(crit.id(), "officer", null);
    List<String> order = ledger.list(Set.of(AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED), 1000, 0).stream()
        .map(Alarm::deviceId).filter(d -> d.startsWith(base + "-")).toList();
    assertThat(order).containsExactly(base + "-m", base + "-w", base + "-c");
    assertThat(ledger.list(Set.of(AlarmState.ACTIVE_ACKED), 1000, 0)).extracting(Alarm::id).contains(crit.id())
        .allSatisfy(id -> assertThat(ledger.find(id).orElseThrow().state()).isEqualTo(AlarmState.ACTIVE_ACKED));
    assertThatThrownBy(() -> ledger.list(Set.of(), 0, 0)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void metricsCountTransitionsAndOpenAlarms() {
    ledger.apply(t(Kind.RAISE, Severity.CRITICAL, "x"));
    ledger.apply(t(Kind.RAISE, Severity.CRITICAL, "x"));
    assertThat(registry.get("safegrid.alarms.transitions").tag("type", "repeated").counter().count())
        .isGreaterThanOrEqualTo(1.0);
    await().atMost(Duration.ofSeconds(5)).until(
        () -> registry.get("safegrid.alarms.open").tag("severity", "critical").gauge().value() >= 1.0);
  }

  private static int openRows(String deviceId) throws SQLException {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM alarms WHERE state <> 'closed' AND device_id = '" + deviceId + "'")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
