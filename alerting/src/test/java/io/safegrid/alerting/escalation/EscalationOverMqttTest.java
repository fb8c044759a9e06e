package io.safegrid.alerting.escalation;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.NotificationSubscriber;
import io.safegrid.alerting.testsupport.NotificationSubscriber.Received;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Escalation through the grid, delivered by a real Mosquitto broker to a real Paho subscriber; the
 * service clock is injected and advanced by the test.
 */
class EscalationOverMqttTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static Mosquitto broker;

  private static final Duration WAIT = Duration.ofSeconds(10);
  /** Longer than several poll rounds (50 ms): when nothing arrives in it, nothing was due. */
  private static final Duration QUIET = Duration.ofMillis(700);

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T08:00:00Z"));
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
    alerting = newAlerting();
    alerting.start();
  }

  private Alerting newAlerting() {
    AlertingConfig cfg = new AlertingConfig(null,
        new EscalationConfig(null, null, Duration.ofMillis(50), 50),
        new OutboxConfig(5, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofMillis(50), 50),
        new MqttChannelConfig(broker.uri(), "safegrid-alerting-test", null, null, null, Duration.ofSeconds(5)),
        List.of());
    return Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry());
  }

  @AfterEach
  void tearDown() throws Exception {
    alerting.close();
    sub.close();
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("UPDATE alarms SET next_escalation_at = NULL");
    }
  }

  private Alarm raise(String device, Severity s) {
    return alerting.alarms().apply(new AlarmTransition(device, "gas-lel-threshold", AlarmTransition.Kind.RAISE, s,
        clock.millis(), "gas 55.0 %LEL above level 2 (50 %LEL)", Map.of("gas_lel", 55.0))).orElseThrow();
  }

  @Test
  void criticalGasAlarmStartsAtTheCommunityReportsUpwardAndClimbsEveryMinuteUntilAcknowledged() throws Exception {
    Instant t0 = clock.instant();
    Alarm a = raise("gas-001", Severity.CRITICAL);

    List<Received> first = sub.take(8, WAIT);
    assertThat(first).extracting(Received::recipient).as("a hazard tells the grid below its start too (F28)").containsExactlyInAnyOrder(
        "nmxc-b3-u2", "nmxc-b3", "nmxc", "nanmen-community", "gas-company", "market-supervision", "dongnan-duty-leader", "district-emergency-bureau");
    Received community = first.stream().filter(r -> r.recipient().equals("nanmen-community")).findFirst().orElseThrow();
    assertThat(community.topic()).isEqualTo("safegrid/notify/nanmen-community");
    assertThat(community.json().path("alarmId").asLong()).isEqualTo(a.id());
    assertThat(community.json().path("deviceId").asText()).isEqualTo("gas-001");
    assertThat(community.json().path("severity").asText()).isEqualTo("critical");
    assertThat(community.json().path("level").asText()).isEqualTo("community");
    assertThat(community.json().path("kind").asText()).isEqualTo("gas");
    assertThat(community.json().path("place").asText()).contains("Nanmen New City");
    assertThat(community.json().path("message").asText()).contains("55.0 %LEL");
    assertThat(community.key()).isNotBlank();
    assertThat(first.stream().filter(r -> r.recipient().equals("dongnan-duty-leader")).findFirst().orElseThrow()
        .json().path("reason").asText()).isEqualTo("report_upward");

    clock.advance(Duration.ofSeconds(59));
    assertThat(sub.next(QUIET)).as("nothing before the 1 min deadline").isNull();

    clock.advance(Duration.ofSeconds(1));
    Received up = sub.take(1, WAIT).get(0);
    assertThat(up.recipient()).isEqualTo("dongnan-duty");
    assertThat(up.json().path("level").asText()).isEqualTo("sub_district");
    assertThat(up.json().path("reason").asText()).isEqualTo("escalation");
    assertThat(Instant.parse(up.json().path("at").asText())).isEqualTo(t0.plusSeconds(60));
    String expectedTime = java.time.format.DateTimeFormatter.ISO_LOCAL_TIME.format(
        t0.plusSeconds(60).atOffset(java.time.ZoneOffset.UTC).toLocalTime().withNano(0));
    org.awaitility.Awaitility.await().atMost(WAIT).untilAsserted(() -> assertThat(alerting.alarms().history(a.id()))
        .filteredOn(e -> e.type().equals("escalated")).singleElement()
        .extracting(e -> e.note()).asString()
        .as("the history names the deadline that fell due, in words a duty officer reads")
        .startsWith("unacknowledged at its escalation deadline " + expectedTime + " UTC: escalated to "));

    clock.advance(Duration.ofSeconds(30));
    assertThat(sub.next(QUIET)).isNull();
    clock.advance(Duration.ofSeconds(30));
    Received again = sub.take(1, WAIT).get(0);
    assertThat(again.recipient()).as("top of the grid: re-notified every T").isEqualTo("dongnan-duty");
    assertThat(again.json().path("reason").asText()).isEqualTo("renotify");
    assertThat(Instant.parse(again.json().path("at").asText())).isEqualTo(t0.plusSeconds(120));

    alerting.alarms().acknowledge(a.id(), "officer-zhang", "crew on site");
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMinutes(1));
    }
    assertThat(sub.next(QUIET)).as("acknowledge stops escalation").isNull();

    List<AlarmEvent> all = alerting.alarms().history(a.id());
    // each step's delivery (the outbox's 'delivery' events, newcomer8 N7) between the steps
    assertThat(all).filteredOn(e -> e.type().equals("delivery"))
        .allSatisfy(e -> assertThat(e.note()).startsWith("delivered: step"));
    List<AlarmEvent> h = all.stream().filter(e -> !e.type().equals("delivery")).toList();
    assertThat(h).extracting(AlarmEvent::type)
        .containsExactly("raised", "notified", "escalated", "notified", "acknowledged");
    assertThat(h.get(2).actor()).isEqualTo("escalation");
    assertThat(h.get(2).details()).containsEntry("level", "sub_district");
    assertThat(sub.all()).extracting(Received::key).doesNotHaveDuplicates();
  }

  @Test
  void majorAlarmClimbsCompoundCommunitySubDistrictEveryThreeMinutes() throws Exception {
    Alarm a = raise("gas-002", Severity.MAJOR);
    List<Received> first = sub.take(5, WAIT);
    assertThat(first).extracting(Received::recipient)
        .containsExactlyInAnyOrder("nmxc-b3-u2", "nmxc-b3", "nmxc", "gas-company", "market-supervision");
    assertThat(sub.next(QUIET)).as("major is not reported upward").isNull();

    clock.advance(Duration.ofMinutes(2));
    assertThat(sub.next(QUIET)).isNull();
    clock.advance(Duration.ofMinutes(1));
    assertThat(sub.take(1, WAIT).get(0).recipient()).isEqualTo("nanmen-community");
    clock.advance(Duration.ofMinutes(3));
    assertThat(sub.take(1, WAIT).get(0).recipient()).isEqualTo("dongnan-duty");
    clock.advance(Duration.ofMinutes(3));
    assertThat(sub.take(1, WAIT).get(0).recipient()).isEqualTo("dongnan-duty");
    alerting.alarms().acknowledge(a.id(), "officer-zhang", null);
    clock.advance(Duration.ofMinutes(10));
    assertThat(sub.next(QUIET)).isNull();
  }

  @Test
  void severityRiseToCriticalJumpsToTheCommunityAndReportsUpward() throws Exception {
    Alarm a = raise("gas-004", Severity.WARNING);
    assertThat(sub.take(3, WAIT)).extracting(Received::recipient)
        .containsExactlyInAnyOrder("nmxc-b3-u2", "gas-company", "market-supervision");
    alerting.alarms().apply(new AlarmTransition("gas-004", "gas-lel-threshold",
        AlarmTransition.Kind.SEVERITY_CHANGE, Severity.CRITICAL, clock.millis(), "gas 60 %LEL", Map.of()));
    assertThat(sub.take(5, WAIT)).extracting(Received::recipient).as("the levels between the old and the new start too")
        .containsExactlyInAnyOrder("nmxc-b3", "nmxc", "nanmen-community", "dongnan-duty-leader", "district-emergency-bureau");
    clock.advance(Duration.ofMinutes(1));
    assertThat(sub.take(1, WAIT).get(0).recipient()).isEqualTo("dongnan-duty");
    alerting.alarms().acknowledge(a.id(), "officer", null);
  }

  /**
   * newcomer5 F3: each re-open restarted escalation at the first level with a fresh deadline, so a
   * gas alarm flapping every 20 s that nobody acknowledged never reached the next level. Now a
   * re-open before any acknowledgement keeps the running escalation (and notifies nobody again);
   * one after an acknowledgement is a new occurrence and starts over.
   */
  @Test
  void aFlappingAlarmNobodyAcknowledgesStillClimbsAndOneAcknowledgedStartsOver() throws Exception {
    Alarm a = flap(AlarmTransition.Kind.RAISE, 55.0);
    assertThat(sub.take(5, WAIT)).extracting(Received::recipient)
        .containsExactlyInAnyOrder("nmxc-b3-u2", "nmxc-b3", "nmxc", "gas-company", "market-supervision");
    for (int i = 0; i < 8; i++) { // 160 s of flapping, the 3-minute major deadline still ahead
      clock.advance(Duration.ofSeconds(10));
      flap(AlarmTransition.Kind.CLEAR, 3.0);
      clock.advance(Duration.ofSeconds(10));
      assertThat(flap(AlarmTransition.Kind.RAISE, 55.0).count()).isEqualTo(i + 2);
    }
    assertThat(sub.next(QUIET)).as("re-opened, still unacknowledged: nobody is told again").isNull();
    clock.advance(Duration.ofSeconds(20)); // 3 min after the raise
    Received up = sub.take(1, WAIT).get(0);
    assertThat(up.recipient()).as("it climbs at the raise's deadline").isEqualTo("nanmen-community");
    assertThat(up.json().path("reason").asText()).isEqualTo("escalation");

    alerting.alarms().acknowledge(a.id(), "officer-li", "on my way");
    clock.advance(Duration.ofSeconds(10));
    flap(AlarmTransition.Kind.CLEAR, 3.0);
    clock.advance(Duration.ofSeconds(10));
    flap(AlarmTransition.Kind.RAISE, 56.0);
    assertThat(sub.take(5, WAIT)).as("acknowledged, then back: a new occurrence, from the first level")
        .extracting(Received::recipient).containsExactlyInAnyOrder("nmxc-b3-u2", "nmxc-b3", "nmxc", "gas-company", "market-supervision");
    alerting.alarms().acknowledge(a.id(), "officer-li", null);
  }

  private Alarm flap(AlarmTransition.Kind kind, double lel) {
    return alerting.alarms().apply(new AlarmTransition("gas-001", "gas-lel-flapping", kind, Severity.MAJOR,
        clock.millis(), "gas " + lel + " %LEL", Map.of("gas_lel", lel))).orElseThrow();
  }

  @Test
  void restartInTheMiddleOfAnEscalationContinuesWhereItWasAndSendsNothingTwice() throws Exception {
    Alarm a = raise("gas-003", Severity.MAJOR);
    sub.take(5, WAIT);
    clock.advance(Duration.ofMinutes(3));
    assertThat(sub.take(1, WAIT).get(0).recipient()).isEqualTo("nanmen-community");

    // the gateway stops; the deadline of the next step stays in the database
    alerting.close();
    clock.advance(Duration.ofMinutes(3)); // the next step falls due while it is down
    assertThat(sub.next(QUIET)).isNull();

    alerting = newAlerting();
    alerting.start();
    Received next = sub.take(1, WAIT).get(0);
    assertThat(next.recipient()).isEqualTo("dongnan-duty");
    assertThat(next.json().path("reason").asText()).isEqualTo("escalation");
    assertThat(sub.next(QUIET)).as("earlier steps are not repeated").isNull();
    assertThat(alerting.escalator().runDue()).as("nothing more is due").isZero();

    clock.advance(Duration.ofMinutes(3));
    assertThat(sub.take(1, WAIT).get(0).json().path("reason").asText()).isEqualTo("renotify");
    alerting.alarms().acknowledge(a.id(), "officer", null);
    clock.advance(Duration.ofMinutes(10));
    assertThat(sub.next(QUIET)).isNull();

    List<Received> mine = sub.all().stream().filter(r -> r.json().path("alarmId").asLong() == a.id()).toList();
    assertThat(mine).hasSize(8); // unit, building, compound, 2 responders; community; duty officer x2
    assertThat(mine).extracting(Received::key).doesNotHaveDuplicates();
    Set<String> outboxKeys = new HashSet<>();
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT idempotency_key, delivered_at IS NOT NULL FROM outbox WHERE alarm_id = " + a.id())) {
      while (rs.next()) {
        outboxKeys.add(rs.getString(1));
        assertThat(rs.getBoolean(2)).isTrue();
      }
    }
    assertThat(outboxKeys).containsExactlyInAnyOrderElementsOf(mine.stream().map(Received::key).toList());
  }

  @Test
  void brokerDownThenUpDeliversEverythingOnceAndInOrderWithoutHammeringTheBroker() throws Exception {
    broker.close();
    Alarm a = raise("fire-nmxc-1", Severity.CRITICAL); // unit .. community, fire brigade, leader, bureau
    org.awaitility.Awaitility.await().atMost(WAIT).until(() -> failedAttempts(a.id()) >= 1);
    Thread.sleep(300);
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT sum(attempts), count(*) FROM outbox WHERE alarm_id = " + a.id())) {
      rs.next();
      assertThat(rs.getInt(1)).as("one failed attempt; the others wait for its retry").isEqualTo(1);
      assertThat(rs.getInt(2)).isEqualTo(7);
    }
    broker.restart();
    sub.close();
    sub = new NotificationSubscriber(broker.uri());
    clock.advance(Duration.ofSeconds(1));
    List<Received> got = sub.take(7, WAIT);
    assertThat(got).extracting(Received::recipient).containsExactly(
        "nmxc-b3-u2", "nmxc-b3", "nmxc", "nanmen-community", "fire-brigade", "dongnan-duty-leader", "district-emergency-bureau");
    assertThat(sub.next(QUIET)).isNull();
    alerting.alarms().acknowledge(a.id(), "officer", null);
  }

  private static int failedAttempts(long alarmId) throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM outbox WHERE last_error IS NOT NULL AND alarm_id = " + alarmId)) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
