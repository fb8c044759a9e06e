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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Group commit ({@link JdbcAlarmLedger#applyAll}) and the dispatcher's hand-off of committed events
 * on a real TimescaleDB: one bad transition among many loses none of the others, a failed
 * (device, rule) keeps its order, and listeners get exactly what {@code eventsAfter} replays.
 */
class GroupCommitTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T08:00:00.123456789Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<AlarmEvent> told = new CopyOnWriteArrayList<>();
  private JdbcAlarmLedger ledger;
  private static int run;
  private String prefix;

  @BeforeEach
  void setUp() {
    ledger = new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(), registry);
    ledger.addListener(told::add);
    ledger.start();
    prefix = "g" + (++run) + "-";
  }

  @AfterEach
  void tearDown() {
    ledger.close();
  }

  private AlarmTransition t(String device, Kind kind, Severity s, String msg) {
    return new AlarmTransition(prefix + device, "gas-lel-threshold", kind, s, clock.millis(), msg,
        Map.of("gas_lel", 31.5, "threshold", 25, "a_long_key_first", "x"));
  }

  /** PostgreSQL refuses a NUL character in text: a transition the ledger cannot store. */
  private static final String BAD = "gas \u0000 %LEL";

  @Test
  void oneBadTransitionAmongFiftyLosesNoneOfTheOthers() throws Exception {
    long before = ledger.maxEventId();
    List<AlarmTransition> group = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      group.add(t("gas-" + i, Kind.RAISE, Severity.MAJOR, i == 17 ? BAD : "gas 31.5 %LEL above level 1"));
    }
    List<TransitionOutcome> out = ledger.applyAll(group, System.nanoTime());

    assertThat(out).hasSize(50);
    assertThat(out.get(17).status()).isEqualTo(TransitionOutcome.Status.FAILED);
    assertThat(out.get(17).error()).isNotNull();
    assertThat(out).filteredOn(TransitionOutcome::applied).hasSize(49);
    assertThat(openRows()).isEqualTo(49);
    assertThat(registry.get("safegrid.alarms.ledger.group.retries").counter().count()).isEqualTo(1.0);
    // the 49 raised events, one id each, no gap, told in order
    List<AlarmEvent> replay = ledger.eventsAfter(before, 1000);
    assertThat(replay).hasSize(49);
    for (int i = 1; i < replay.size(); i++) {
      assertThat(replay.get(i).id()).isGreaterThan(replay.get(i - 1).id());
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> told.size() >= 49);
    assertThat(told).containsExactlyElementsOf(replay);
  }

  @Test
  void aFailedTransitionHoldsBackTheLaterOnesOfItsDeviceAndRuleOnly() throws Exception {
    List<AlarmTransition> group = List.of(
        t("gas-a", Kind.RAISE, Severity.MAJOR, BAD),
        t("gas-b", Kind.RAISE, Severity.MAJOR, "gas 31.5 %LEL"),
        t("gas-a", Kind.CLEAR, Severity.MAJOR, "gas 3 %LEL"),
        t("gas-b", Kind.SEVERITY_CHANGE, Severity.CRITICAL, "gas 55 %LEL"));
    List<TransitionOutcome> out = ledger.applyAll(group, 0);
    assertThat(out).extracting(TransitionOutcome::status).containsExactly(
        TransitionOutcome.Status.FAILED, TransitionOutcome.Status.APPLIED,
        TransitionOutcome.Status.NOT_TRIED, TransitionOutcome.Status.APPLIED);
    assertThat(out.get(3).alarm().orElseThrow().severity()).isEqualTo(Severity.CRITICAL);
    assertThat(openRows()).isEqualTo(1);
  }

  @Test
  void oneDeviceRaisedClearedAndRaisedAgainInOneGroupReadsItsOwnWrites() {
    List<TransitionOutcome> out = ledger.applyAll(List.of(
        t("gas-r", Kind.RAISE, Severity.MAJOR, "gas 31.5 %LEL"),
        t("gas-r", Kind.CLEAR, Severity.MAJOR, "gas 3 %LEL"),
        t("gas-r", Kind.RAISE, Severity.CRITICAL, "gas 60 %LEL")), 0);
    assertThat(out).allMatch(TransitionOutcome::applied);
    Alarm a = out.get(2).alarm().orElseThrow();
    assertThat(a.state()).isEqualTo(AlarmState.ACTIVE_UNACKED);
    assertThat(a.count()).isEqualTo(2);
    assertThat(ledger.history(a.id())).extracting(AlarmEvent::type)
        .containsExactly("raised", "cleared", "reopened");
  }

  @Test
  void aFailingUpdateSentLaterIsStillChargedToItsOwnTransition() throws Exception {
    ledger.apply(t("gas-u", Kind.RAISE, Severity.MAJOR, "gas 31.5 %LEL"));
    List<TransitionOutcome> out = ledger.applyAll(List.of(
        t("gas-u", Kind.RAISE, Severity.MAJOR, BAD), // the repeat's UPDATE travels with the next round trip
        t("gas-v", Kind.RAISE, Severity.MAJOR, "gas 40 %LEL")), 0);
    assertThat(out).extracting(TransitionOutcome::status).containsExactly(
        TransitionOutcome.Status.FAILED, TransitionOutcome.Status.APPLIED);
    Alarm u = ledger.list(java.util.Set.of(AlarmState.ACTIVE_UNACKED), 1000, 0).stream()
        .filter(x -> x.deviceId().equals(prefix + "gas-u")).findFirst().orElseThrow();
    assertThat(u.count()).isEqualTo(1);
    assertThat(openRows()).isEqualTo(2);
  }

  @Test
  void eventsHandedOverAfterCommitEqualWhatTheReplayReads() throws Exception {
    long before = ledger.maxEventId();
    ledger.applyAll(List.of(
        t("gas-x", Kind.RAISE, Severity.MAJOR, "gas 31.5 %LEL"),
        t("gas-y", Kind.RAISE, Severity.MAJOR, "gas 33 %LEL")), 0);
    clock.advance(Duration.ofSeconds(5));
    ledger.apply(t("gas-x", Kind.SEVERITY_CHANGE, Severity.CRITICAL, "gas 55 %LEL"));
    ledger.apply(t("gas-x", Kind.CLEAR, Severity.CRITICAL, "gas 3 %LEL"));
    List<AlarmEvent> replay = ledger.eventsAfter(before, 100);
    assertThat(replay).extracting(AlarmEvent::type)
        .containsExactly("raised", "raised", "severity_changed", "cleared");
    await().atMost(Duration.ofSeconds(10)).until(() -> told.size() >= 4);
    assertThat(told).containsExactlyElementsOf(replay);
    // the same JSON text, key order included, as the live stream writes it
    for (int i = 0; i < replay.size(); i++) {
      assertThat(Json.write(told.get(i).details())).isEqualTo(Json.write(replay.get(i).details()));
      assertThat(Json.write(Json.alarmToMap(told.get(i).alarm())))
          .isEqualTo(Json.write(Json.alarmToMap(replay.get(i).alarm())));
    }
  }

  @Test
  void eventsOfAnotherLedgerOnTheSameDatabaseAreToldInIdOrderWithoutGaps() throws Exception {
    long before = ledger.maxEventId();
    try (JdbcAlarmLedger other = new JdbcAlarmLedger(db.dataSource(), clock, LedgerConfig.defaults(),
        new SimpleMeterRegistry())) {
      other.apply(t("gas-o1", Kind.RAISE, Severity.MAJOR, "from the other gateway"));
      ledger.apply(t("gas-m1", Kind.RAISE, Severity.MAJOR, "from this one")); // its hand-off has a gap
      other.apply(t("gas-o2", Kind.RAISE, Severity.MAJOR, "from the other gateway"));
    }
    List<AlarmEvent> replay = ledger.eventsAfter(before, 100);
    assertThat(replay).hasSize(3);
    await().atMost(Duration.ofSeconds(10)).until(() -> told.stream().anyMatch(e -> e.id() == replay.get(2).id()));
    assertThat(told.stream().filter(e -> e.id() > before).toList()).containsExactlyElementsOf(replay);
  }

  @Test
  void theWarmUpCommitsNothingTellsNothingAndTheNextAlarmIsStillTold() throws Exception {
    long before = ledger.maxEventId();
    List<String> tellingThreads = new java.util.concurrent.CopyOnWriteArrayList<>();
    ledger.addListener(e -> tellingThreads.add(Thread.currentThread().getName()));
    ledger.warmUpInBackground(20).join(30_000);
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM alarms WHERE device_id = '"
            + JdbcAlarmLedger.WARM_UP_DEVICE + "'")) {
      rs.next();
      assertThat(rs.getInt(1)).isZero();
    }
    assertThat(ledger.maxEventId()).isEqualTo(before);
    ledger.apply(t("gas-after-warm-up", Kind.RAISE, Severity.MAJOR, "gas 31.5 %LEL"));
    List<AlarmEvent> replay = ledger.eventsAfter(before, 100);
    assertThat(replay).hasSize(1);
    await().atMost(Duration.ofSeconds(10)).until(() -> told.stream().anyMatch(e -> e.id() == replay.get(0).id()));
    assertThat(told.stream().filter(e -> e.id() > before).toList()).containsExactlyElementsOf(replay);
    assertThat(told).noneMatch(e -> e.alarm().deviceId().equals(JdbcAlarmLedger.WARM_UP_DEVICE));
    // handed over on the committing thread, not after a read of the table on the dispatcher's:
    // the dispatcher steps over the ids the rolled-back cycles burned (the first alarm after a
    // start went the slow way before)
    assertThat(tellingThreads).containsExactly(Thread.currentThread().getName());
  }

  private int openRows() throws SQLException {
    try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery(
            "SELECT count(*) FROM alarms WHERE state <> 'closed' AND device_id LIKE '" + prefix + "%'")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
