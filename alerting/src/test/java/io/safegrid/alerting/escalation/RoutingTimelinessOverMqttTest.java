package io.safegrid.alerting.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.NotificationSubscriber;
import io.safegrid.alerting.testsupport.NotificationSubscriber.Received;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Who hears of an alarm, and when, as the emergency network's broker delivers it (a real Mosquitto
 * and a real Paho subscriber on {@code safegrid/notify/#}; the real TimescaleDB; the service clock
 * is the test's and stands 2 min 50 s before a digest slot, so anything held for a digest does not
 * arrive):
 *
 * <ul>
 *   <li>review7 R5: an acknowledgement lapses only above the highest severity acknowledged, so a
 *       leak swinging around 50 %LEL after its critical was acknowledged calls nobody again;
 *   <li>review7 R6: a dead notification channel ({@code channel-dead:*}) and any alarm whose
 *       escalation timeout is shorter than the digest window are told at once, not at the slot;
 *   <li>review7 R7: a device that goes silent (or faulty) with its hazard alarm open is routed as
 *       that hazard: its responders at once; a quiet device's stays maintenance.
 * </ul>
 */
class RoutingTimelinessOverMqttTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static Mosquitto broker;

  private static final Duration WAIT = Duration.ofSeconds(10);
  /** Longer than several poll rounds (50 ms): when nothing arrives in it, nothing was due. */
  private static final Duration QUIET = Duration.ofMillis(700);

  /** 2 min 10 s after a digest slot (08:00): the next one is 08:05. */
  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-30T08:02:10Z"));
  private NotificationSubscriber sub;
  private Alerting alerting;

  @BeforeAll
  static void startBroker() throws Exception {
    broker = Mosquitto.start();
  }

  @AfterAll
  static void stopBroker() {
    broker.close();
  }

  @BeforeEach
  void setUp() throws Exception {
    sub = new NotificationSubscriber(broker.uri());
    AlertingConfig cfg = new AlertingConfig(null,
        new EscalationConfig(null, null, Duration.ofMillis(50), 50),
        new OutboxConfig(5, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofMillis(50), 50),
        new MqttChannelConfig(broker.uri(), "safegrid-timeliness-test", null, null, null, Duration.ofSeconds(5)),
        List.of());
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry());
    alerting.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    alerting.close();
    sub.close();
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("TRUNCATE outbox, alarm_events, alarms"); // each test starts with no alarm open
    }
  }

  @Test
  void aLeakSwingingAroundItsAcknowledgedCriticalCallsNobodyAgainButARiseAboveTheAcknowledgedSeverityDoes()
      throws Exception {
    Alarm leak = raise("gas-001", "gas-lel-threshold", Severity.CRITICAL, "gas 55.0 %LEL above level 2 (50 %LEL)");
    assertThat(sub.take(8, WAIT)).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id(),
        TestGrid.GAS_CO.id(), TestGrid.MARKET.id(), TestGrid.LEADER.id(), TestGrid.BUREAU.id());
    alerting.alarms().acknowledge(leak.id(), "officer-li", "crew on the way");

    for (int swing = 0; swing < 3; swing++) {
      Alarm down = change("gas-001", "gas-lel-threshold", Severity.MAJOR, "gas 47.5 %LEL now level 1");
      assertThat(down.state().wireName()).isEqualTo("active_acked");
      Alarm up = change("gas-001", "gas-lel-threshold", Severity.CRITICAL, "gas 51.0 %LEL now level 2");
      assertThat(up.state().wireName()).as("back to the critical acknowledged: still acknowledged").isEqualTo("active_acked");
      assertThat(up.acknowledgedBy()).isEqualTo("officer-li");
    }
    assertThat(sub.next(QUIET)).as("nobody is called again for a leak already acknowledged at critical").isNull();
    assertThat(alerting.alarms().find(leak.id()).orElseThrow().state().wireName()).isEqualTo("active_acked");
    assertThat(alerting.alarms().history(leak.id())).filteredOn(e -> e.type().equals("notified")).hasSize(1);
    clock.advance(Duration.ofMinutes(2));
    assertThat(alerting.escalator().runDue()).as("no escalation restarted").isZero();

    // acknowledged at major, then critical: that was never acknowledged, the call-out runs again
    Alarm major = raise("gas-002", "gas-lel-threshold", Severity.MAJOR, "gas 30.0 %LEL above level 1 (25 %LEL)");
    assertThat(sub.take(5, WAIT)).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.GAS_CO.id(), TestGrid.MARKET.id());
    alerting.alarms().acknowledge(major.id(), "officer-li", "someone is going");
    Alarm critical = change("gas-002", "gas-lel-threshold", Severity.CRITICAL, "gas 85.0 %LEL now level 2");
    assertThat(critical.state().wireName()).isEqualTo("active_unacked");
    List<Received> again = sub.take(8, WAIT);
    assertThat(again).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id(),
        TestGrid.GAS_CO.id(), TestGrid.MARKET.id(), TestGrid.LEADER.id(), TestGrid.BUREAU.id());
    assertThat(again).allSatisfy(r -> {
      assertThat(r.json().path("alarmId").asLong()).isEqualTo(major.id());
      assertThat(r.json().path("severity").asText()).isEqualTo("critical");
      assertThat(r.json().path("state").asText()).isEqualTo("active_unacked");
    });
  }

  @Test
  void aDeadNotificationChannelAndAMajorFaultAreToldAtOnceWhileAMinorFaultWaitsForTheDigestSlot() throws Exception {
    Alarm dead = raise("safegrid-gateway", "channel-dead:webhook:city", Severity.MAJOR,
        "notification channel webhook:city dead: 8 attempts failed for dongnan-duty, last error: connection refused");
    Received r = sub.take(1, WAIT).get(0);
    assertThat(r.recipient()).isEqualTo(TestGrid.DUTY.id());
    assertThat(r.json().path("alarmId").asLong()).isEqualTo(dead.id());
    assertThat(r.json().path("reason").asText()).isEqualTo("alarm");
    assertThat(sub.next(QUIET)).as("no responder is called out for SafeGrid's own channel").isNull();

    // a major panel fault escalates after 3 min: waiting up to 5 for a digest would tell the next
    // level before the first
    Alarm panel = raise("fire-nmxc-1", "fire-panel-fault", Severity.MAJOR, "loop 2 open circuit");
    Received p = sub.take(1, WAIT).get(0);
    assertThat(p.recipient()).isEqualTo(TestGrid.COMPOUND.id());
    assertThat(p.json().path("alarmId").asLong()).isEqualTo(panel.id());

    Alarm minor = raise("gas-003", "gas-fault", Severity.MINOR, "sensor failure");
    assertThat(sub.next(QUIET)).as("a minor fault (10 min timeout) still waits for the digest slot").isNull();
    clock.set(Instant.parse("2026-11-30T08:05:00Z"));
    Received m = sub.take(1, WAIT).get(0);
    assertThat(m.recipient()).isEqualTo(TestGrid.BUILDING.id());
    assertThat(m.json().path("alarmId").asLong()).isEqualTo(minor.id());
  }

  @Test
  void aLeakingUnitThatFallsSilentTellsItsRespondersAtOnceWhileAQuietOneWaitsAsMaintenance() throws Exception {
    Alarm leak = raise("gas-001", "gas-lel-threshold", Severity.CRITICAL, "gas 70.0 %LEL above level 2 (50 %LEL)");
    sub.take(8, WAIT);
    alerting.alarms().acknowledge(leak.id(), "officer-li", "crew on the way"); // acknowledged: still open

    Alarm silent = raise("gas-001", "device-offline", Severity.MINOR, "no message for 180 s");
    List<Received> told = sub.take(6, WAIT); // before the 08:05 slot: not held for a digest
    assertThat(told).allSatisfy(r -> assertThat(r.json().path("alarmId").asLong()).isEqualTo(silent.id()));
    // the grid from the leak's (critical) start down, the responders; no second report upward for
    // a minor offline: the leak was reported when it was raised (review8 R8-6)
    assertThat(told).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id(),
        TestGrid.GAS_CO.id(), TestGrid.MARKET.id());
    assertThat(told).filteredOn(r -> r.json().path("reason").asText().equals("responder"))
        .extracting(Received::recipient).containsExactlyInAnyOrder(TestGrid.GAS_CO.id(), TestGrid.MARKET.id());
    assertThat(told).noneMatch(r -> r.json().path("reason").asText().equals("digest"));

    Alarm quiet = raise("gas-002", "device-offline", Severity.MINOR, "no message for 180 s");
    Alarm quietFault = raise("gas-003", "gas-fault", Severity.MINOR, "sensor failure");
    assertThat(sub.next(QUIET)).as("quiet devices' offline and fault stay maintenance: the digest slot").isNull();
    clock.set(Instant.parse("2026-11-30T08:05:00Z"));
    Received digest = sub.take(1, WAIT).get(0);
    assertThat(digest.recipient()).isEqualTo(TestGrid.BUILDING.id());
    assertThat(digest.json().path("reason").asText()).isEqualTo("digest");
    List<Long> inDigest = new java.util.ArrayList<>();
    digest.json().path("notifications").forEach(n -> inDigest.add(n.path("alarmId").asLong()));
    assertThat(inDigest).containsExactly(quiet.id(), quietFault.id());
    assertThat(sub.next(QUIET)).as("no responder for a quiet device").isNull();
  }

  /**
   * review8 R8-6: a leak that cleared on Monday, acknowledged but not yet written off, is no
   * incident a power cut on Thursday belongs to: the unit's device-offline is maintenance (the
   * digest slot, the grid alone, no responder, no report upward). A leak that cleared minutes ago
   * (within the re-open window, 10 min) still is: the offline is routed as the leak, responders at
   * once, but reported upward only per its own (minor) severity.
   */
  @Test
  void aLeakClearedLongAgoButNotWrittenOffLeavesAPowerCutAMaintenanceMatter() throws Exception {
    clock.set(Instant.parse("2026-11-30T07:40:00Z"));
    Alarm monday = raise("gas-001", "gas-lel-threshold", Severity.CRITICAL, "gas 70.0 %LEL above level 2 (50 %LEL)");
    sub.take(8, WAIT);
    clear("gas-001", "gas-lel-threshold");
    alerting.alarms().acknowledge(monday.id(), "officer-li", "valve closed, ventilated");
    assertThat(alerting.alarms().find(monday.id()).orElseThrow().state().wireName()).isEqualTo("cleared_acked");

    clock.set(Instant.parse("2026-11-30T08:02:10Z")); // 22 min later: the power cut
    raise("gas-001", "device-offline", Severity.MINOR, "no message for 180 s");
    assertThat(sub.next(QUIET)).as("a long-cleared leak's unit going silent is maintenance: held for the digest slot")
        .isNull();
    clock.set(Instant.parse("2026-11-30T08:05:00Z"));
    Received lone = sub.take(1, WAIT).get(0);
    assertThat(lone.recipient()).isEqualTo(TestGrid.BUILDING.id());
    assertThat(sub.next(QUIET)).as("no responder, no report upward").isNull();

    // gas-002: its leak cleared 3 min before it fell silent: still the incident
    clock.set(Instant.parse("2026-11-30T08:06:00Z"));
    Alarm recent = raise("gas-002", "gas-lel-threshold", Severity.CRITICAL, "gas 70.0 %LEL above level 2 (50 %LEL)");
    sub.take(8, WAIT);
    clear("gas-002", "gas-lel-threshold");
    alerting.alarms().acknowledge(recent.id(), "officer-li", "crew on site");
    clock.set(Instant.parse("2026-11-30T08:09:00Z"));
    Alarm silent = raise("gas-002", "device-offline", Severity.MINOR, "no message for 180 s");
    List<Received> told = sub.take(6, WAIT);
    assertThat(told).allSatisfy(r -> assertThat(r.json().path("alarmId").asLong()).isEqualTo(silent.id()));
    assertThat(told).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(), TestGrid.COMMUNITY.id(),
        TestGrid.GAS_CO.id(), TestGrid.MARKET.id());
    assertThat(sub.next(QUIET)).as("reported upward only per the offline's own severity (minor): nobody else").isNull();
  }

  /**
   * newcomer7 F25 (alerting side): a fire spreading to another zone of the panel (the rules repeat
   * the open alarm with {@code new_zone}) tells everyone already told again, reason {@code
   * spread}, and lapses an acknowledgement given for the zones before.
   */
  @Test
  void aFireSpreadingToAnotherZoneTellsEveryoneToldAgainAndLapsesTheAcknowledgement() throws Exception {
    List<String> told = List.of(TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(),
        TestGrid.COMMUNITY.id(), TestGrid.FIRE.id(), TestGrid.LEADER.id(), TestGrid.BUREAU.id());
    Alarm fire = raise("fire-nmxc-1", "fire-panel-fire", Severity.CRITICAL, "fire zone 1 point 12",
        Map.of("zone", 1, "zones", List.of(1)));
    assertThat(sub.take(7, WAIT)).extracting(Received::recipient).containsExactlyInAnyOrderElementsOf(told);
    alerting.alarms().acknowledge(fire.id(), "officer-li", "brigade sent to zone 1");

    Alarm spread = raise("fire-nmxc-1", "fire-panel-fire", Severity.CRITICAL, "fire zone 5 point 3; zones in alarm: 1, 5",
        Map.of("zone", 5, "new_zone", 5, "zones", List.of(1, 5)));
    assertThat(spread.id()).isEqualTo(fire.id());
    assertThat(spread.state().wireName()).as("zone 5 was never acknowledged").isEqualTo("active_unacked");
    List<Received> again = sub.take(7, WAIT);
    assertThat(again).extracting(Received::recipient).containsExactlyInAnyOrderElementsOf(told);
    assertThat(again).allSatisfy(r -> {
      assertThat(r.json().path("reason").asText()).isEqualTo("spread");
      assertThat(r.json().path("message").asText()).contains("zones in alarm: 1, 5");
      assertThat(r.json().path("state").asText()).isEqualTo("active_unacked");
    });

    Alarm same = raise("fire-nmxc-1", "fire-panel-fire", Severity.CRITICAL, "fire zone 5 point 4; zones in alarm: 1, 5",
        Map.of("zone", 5, "new_zone", 5, "zones", List.of(1, 5)));
    assertThat(same.state().wireName()).isEqualTo("active_unacked");
    assertThat(sub.next(QUIET)).as("no new zone: nobody told again").isNull();

    Alarm further = raise("fire-nmxc-1", "fire-panel-fire", Severity.CRITICAL, "fire zone 7 point 1; zones in alarm: 1, 5, 7",
        Map.of("zone", 7, "new_zone", 7, "zones", List.of(1, 5, 7)));
    assertThat(sub.take(7, WAIT)).allSatisfy(r -> assertThat(r.json().path("reason").asText()).isEqualTo("spread"));
    assertThat(further.count()).isEqualTo(4);
  }

  /**
   * newcomer8 N3: a gauge whose offline alarm was raised and cleared before (nobody acknowledged
   * it) goes silent in a flood: its re-open calls flood command and the militia out at once, where
   * a flapping offline re-open tells nobody.
   */
  @Test
  void aGaugeWhoseOfflineAlarmReopensInAFloodCallsFloodCommandOut() throws Exception {
    Alarm gaugeOffline = raise("gauge-jialing-1", "device-offline", Severity.MINOR, "no message for 900 s");
    alerting.alarms().apply(new AlarmTransition("gauge-jialing-1", "device-offline", AlarmTransition.Kind.CLEAR,
        Severity.MINOR, clock.millis(), "reporting again", Map.of()));
    raise("gauge-jialing-1", "river-level-threshold", Severity.MAJOR, "river 271.20 m above warning 270.80 m");
    assertThat(sub.take(3, WAIT)).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.COMMUNITY.id(), TestGrid.FLOOD.id(), TestGrid.MILITIA.id());
    Alarm washedAway = raise("gauge-jialing-1", "device-offline", Severity.MINOR, "no message for 900 s");
    assertThat(washedAway.id()).isEqualTo(gaugeOffline.id());
    List<Received> gauge = sub.take(3, WAIT);
    assertThat(gauge).extracting(Received::recipient).containsExactlyInAnyOrder(
        TestGrid.COMMUNITY.id(), TestGrid.FLOOD.id(), TestGrid.MILITIA.id());
    assertThat(gauge).allSatisfy(r -> assertThat(r.json().path("alarmId").asLong()).isEqualTo(gaugeOffline.id()));

  }

  private Alarm raise(String device, String rule, Severity s, String message, Map<String, Object> evidence) {
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.RAISE, s,
        clock.millis(), message, evidence)).orElseThrow();
  }

  private Alarm raise(String device, String rule, Severity s, String message) {
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.RAISE, s,
        clock.millis(), message, Map.of())).orElseThrow();
  }

  private void clear(String device, String rule) {
    alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.CLEAR, Severity.CRITICAL,
        clock.millis(), "back to normal", Map.of()));
  }

  private Alarm change(String device, String rule, Severity s, String message) {
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.SEVERITY_CHANGE, s,
        clock.millis(), message, Map.of())).orElseThrow();
  }
}
