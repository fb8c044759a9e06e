package io.safegrid.alerting.outbox;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.channel.mqtt.MqttChannelConfig;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.Alarm;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * newcomer7 F11: a mass outage (a cut power feeder, a dead cell mast) paged the duty officer once
 * per silent device. Maintenance notifications now gather until the next digest slot and reach
 * each recipient as one digest; a gas leak at the same moment is delivered at once. A real
 * Mosquitto and a real Paho subscriber; the service clock is the test's.
 */
class MaintenanceDigestOverMqttTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static Mosquitto broker;

  private static final Duration WAIT = Duration.ofSeconds(10);
  private static final Duration QUIET = Duration.ofMillis(700);
  private static final int SILENT = 30;

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
        new MqttChannelConfig(broker.uri(), "safegrid-digest-test", null, null, null, Duration.ofSeconds(5)),
        List.of());
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry());
    alerting.start();
  }

  @AfterEach
  void tearDown() throws Exception {
    alerting.close();
    sub.close();
    try (Connection c = db.connect(); Statement st = c.createStatement()) { // nothing left due for the next test
      st.execute("UPDATE alarms SET next_escalation_at = NULL");
      st.execute("UPDATE outbox SET delivered_at = now() WHERE delivered_at IS NULL");
    }
  }

  @Test
  void aMassOutageReachesTheDutyOfficerAsOneDigestWhileALeakGoesOutAtOnce() throws Exception {
    // 30 devices the site does not know fall silent at once: each alarm goes to the duty officer
    List<Long> offline = new ArrayList<>();
    for (int i = 0; i < SILENT; i++) {
      offline.add(raise(String.format("sim-%03d", i), "device-offline", Severity.MINOR, "no message for 180 s").id());
    }
    Alarm leak = raise("gas-001", "gas-lel-threshold", Severity.CRITICAL, "gas 60.0 %LEL above level 2 (50 %LEL)");
    List<Received> atOnce = sub.take(8, WAIT);
    assertThat(atOnce).extracting(Received::recipient).as("the leak is not held back by the outage")
        .containsExactlyInAnyOrder(TestGrid.UNIT.id(), TestGrid.BUILDING.id(), TestGrid.COMPOUND.id(),
            TestGrid.COMMUNITY.id(), TestGrid.GAS_CO.id(), TestGrid.MARKET.id(), TestGrid.LEADER.id(), TestGrid.BUREAU.id());
    assertThat(atOnce).allSatisfy(r -> assertThat(r.json().path("alarmId").asLong()).isEqualTo(leak.id()));
    alerting.alarms().acknowledge(leak.id(), "officer-li", "crew on the way"); // its escalation stops

    clock.set(Instant.parse("2026-11-30T08:04:59Z"));
    assertThat(sub.next(QUIET)).as("maintenance waits for the digest slot").isNull();
    assertThat(delivered(offline)).isZero();

    clock.set(Instant.parse("2026-11-30T08:05:00Z"));
    Received digest = sub.take(1, WAIT).get(0);
    assertThat(digest.recipient()).isEqualTo(TestGrid.DUTY.id());
    assertThat(digest.topic()).isEqualTo("safegrid/notify/" + TestGrid.DUTY.id());
    assertThat(digest.json().path("reason").asText()).isEqualTo("digest");
    assertThat(digest.json().path("count").asInt()).isEqualTo(SILENT);
    List<Long> told = new ArrayList<>();
    digest.json().path("notifications").forEach(n -> {
      assertThat(n.path("ruleId").asText()).isEqualTo("device-offline");
      assertThat(n.path("recipient").asText()).isEqualTo(TestGrid.DUTY.id());
      told.add(n.path("alarmId").asLong());
    });
    assertThat(told).containsExactlyElementsOf(offline);
    assertThat(sub.next(QUIET)).as("one message for the 30 devices, not 30").isNull();
    assertThat(delivered(offline)).isEqualTo(SILENT);
  }

  @Test
  void aLoneMaintenanceAlarmGoesOutAtTheSlotInItsUsualShape() throws Exception {
    clock.set(Instant.parse("2026-11-30T09:01:00Z"));
    Alarm battery = raise("gas-002", "low-battery", Severity.WARNING, "battery 15 %");
    assertThat(sub.next(QUIET)).isNull();
    clock.set(Instant.parse("2026-11-30T09:05:00Z"));
    Received r = sub.take(1, WAIT).get(0);
    assertThat(r.recipient()).isEqualTo(TestGrid.UNIT.id());
    assertThat(r.json().path("reason").asText()).isEqualTo("alarm");
    assertThat(r.json().path("alarmId").asLong()).isEqualTo(battery.id());
  }

  @Test
  void theSlotIsTheNextFiveMinuteBoundary() {
    assertThat(OutboxDispatcher.digestSlot(Instant.parse("2026-11-30T08:02:10.5Z"))).isEqualTo(Instant.parse("2026-11-30T08:05:00Z"));
    assertThat(OutboxDispatcher.digestSlot(Instant.parse("2026-11-30T08:05:00Z"))).isEqualTo(Instant.parse("2026-11-30T08:05:00Z"));
    assertThat(OutboxDispatcher.digestSlot(Instant.parse("2026-11-30T08:05:00.001Z"))).isEqualTo(Instant.parse("2026-11-30T08:10:00Z"));
  }

  private Alarm raise(String device, String rule, Severity s, String message) {
    return alerting.alarms().apply(new AlarmTransition(device, rule, AlarmTransition.Kind.RAISE, s,
        clock.millis(), message, Map.of())).orElseThrow();
  }

  private static int delivered(List<Long> alarmIds) throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND alarm_id IN ("
            + String.join(",", alarmIds.stream().map(String::valueOf).toList()) + ")")) {
      rs.next();
      return rs.getInt(1);
    }
  }
}
