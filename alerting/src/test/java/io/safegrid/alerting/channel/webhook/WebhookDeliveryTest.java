package io.safegrid.alerting.channel.webhook;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.alerting.Alerting;
import io.safegrid.alerting.AlertingConfig;
import io.safegrid.alerting.MutableClock;
import io.safegrid.alerting.escalation.EscalationConfig;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.outbox.OutboxDispatcher;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.TestGrid;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** Webhook delivery through the outbox: retries with backoff, HMAC signature, exactly-once effect. */
class WebhookDeliveryTest {
  @RegisterExtension static final TestDatabase db = new TestDatabase();
  private static final String SECRET = "brigade-secret";

  private final MutableClock clock = new MutableClock(Instant.parse("2026-11-29T09:00:00Z"));
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private int port;
  private WebhookReceiver receiver;
  private Alerting alerting;

  @BeforeEach
  void setUp() throws Exception {
    port = Mosquitto.freePort();
    receiver = new WebhookReceiver(port, SECRET);
    WebhookConfig hook = new WebhookConfig("fire-brigade", URI.create("http://127.0.0.1:" + port + "/hook"),
        SECRET, Set.of("fire-brigade"), Duration.ofSeconds(2));
    cfg = new AlertingConfig(null, new EscalationConfig(null, null, Duration.ofMillis(50), 50),
        new OutboxConfig(4, Duration.ofSeconds(1), Duration.ofMinutes(1), Duration.ofSeconds(30), Duration.ofMillis(50), 50),
        null, List.of(hook));
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, registry);
    alerting.start();
  }

  private AlertingConfig cfg;

  @AfterEach
  void tearDown() throws Exception {
    alerting.close();
    receiver.close();
    try (Connection c = db.connect(); Statement st = c.createStatement()) {
      st.execute("UPDATE alarms SET next_escalation_at = NULL");
      st.execute("UPDATE outbox SET dead = true WHERE delivered_at IS NULL");
    }
  }

  private static int ruleSeq;

  /** A fire on the panel, under a rule of its own per test (so each test registers a new alarm). */
  private Alarm fire() {
    return alerting.alarms().apply(new AlarmTransition("fire-nmxc-1", "fire-panel-fire-" + (++ruleSeq), AlarmTransition.Kind.RAISE,
        Severity.CRITICAL, clock.millis(), "fire, zone 10 point 2", Map.of("zone", 10))).orElseThrow();
  }

  @Test
  void receiverDownThenUpGetsTheNotificationExactlyOnce() throws Exception {
    Alarm a = fire();
    await().atMost(Duration.ofSeconds(10)).until(() -> attempts(a.id()) >= 1 && lastError(a.id()) != null);
    assertThat(lastError(a.id())).contains("POST");
    clock.advance(Duration.ofSeconds(1)); // backoff after the first failure: 1 s
    await().atMost(Duration.ofSeconds(10)).until(() -> attempts(a.id()) >= 2);
    Thread.sleep(300);
    assertThat(attempts(a.id())).as("no retry before the 2 s backoff").isEqualTo(2);

    receiver.start();
    clock.advance(Duration.ofSeconds(2));
    await().atMost(Duration.ofSeconds(10)).until(() -> receiver.requests.size() >= 1);
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered(a.id()));
    for (int i = 0; i < 5; i++) {
      clock.advance(Duration.ofMinutes(1));
      Thread.sleep(100);
    }
    alerting.alarms().acknowledge(a.id(), "officer", null);
    Thread.sleep(300);

    assertThat(receiver.requests).hasSize(1);
    WebhookReceiver.Request r = receiver.requests.get(0);
    assertThat(r.signatureValid()).isTrue();
    JsonNode body = new ObjectMapper().readTree(r.body());
    assertThat(body.path("alarmId").asLong()).isEqualTo(a.id());
    assertThat(body.path("recipient").asText()).isEqualTo("fire-brigade");
    assertThat(body.path("severity").asText()).isEqualTo("critical");
    assertThat(body.path("idempotencyKey").asText()).isEqualTo(r.key());
    assertThat(receiver.processed).hasSize(1).containsKey(r.key());
    assertThat(attempts(a.id())).isEqualTo(3);
    assertThat(registry.get("safegrid.outbox.delivered").tag("channel", "webhook:fire-brigade").counter().count())
        .isEqualTo(1.0);
    assertThat(registry.get("safegrid.outbox.failures").tag("channel", "webhook:fire-brigade").counter().count())
        .isEqualTo(2.0);
    assertThat(registry.get("safegrid.outbox.pending").gauge().value())
        .as("no MQTT broker configured: the MQTT notifications wait in the outbox").isGreaterThanOrEqualTo(1.0);
  }

  @Test
  void aLostAcknowledgementIsRetriedAndTheReceiverDeduplicatesByIdempotencyKey() throws Exception {
    receiver.start();
    receiver.loseAcks.set(1);
    Alarm a = fire();
    await().atMost(Duration.ofSeconds(10)).until(() -> receiver.requests.size() >= 1);
    clock.advance(Duration.ofSeconds(1));
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered(a.id()));
    clock.advance(Duration.ofSeconds(30));
    Thread.sleep(400);
    alerting.alarms().acknowledge(a.id(), "officer", null);

    assertThat(receiver.requests).hasSize(2);
    assertThat(receiver.requests.get(0).key()).isEqualTo(receiver.requests.get(1).key());
    assertThat(receiver.requests.get(0).body()).isEqualTo(receiver.requests.get(1).body());
    assertThat(receiver.processed).hasSize(1);
  }

  @Test
  void aChannelThatStaysDeadRaisesAnAlarmOfItsOwn() throws Exception {
    Alarm a = fire();
    for (int i = 1; i <= 4; i++) {
      int n = i;
      await().atMost(Duration.ofSeconds(10)).until(() -> attempts(a.id()) >= n);
      clock.advance(Duration.ofSeconds(1L << (i - 1)));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> dead(a.id()));
    Alarm channelAlarm = await().atMost(Duration.ofSeconds(10)).until(
        () -> alerting.alarms().list(Set.of(AlarmState.ACTIVE_UNACKED), 1000, 0).stream()
            .filter(x -> x.deviceId().equals(OutboxDispatcher.GATEWAY_DEVICE)).findFirst().orElse(null),
        x -> x != null);
    assertThat(channelAlarm.ruleId()).isEqualTo("channel-dead:webhook:fire-brigade");
    assertThat(channelAlarm.severity()).isEqualTo(Severity.MAJOR);
    assertThat(channelAlarm.message()).contains("webhook:fire-brigade").contains("4 attempts");
    assertThat(registry.get("safegrid.outbox.failures").tag("channel", "webhook:fire-brigade").counter().count())
        .isEqualTo(4.0);

    // the gateway restarts and the receiver comes back: the next delivery on the channel clears its alarm
    alerting.close();
    alerting = Alerting.create(db.dataSource(), TestGrid.directory(), clock, cfg, new SimpleMeterRegistry());
    alerting.start();
    receiver.start();
    fire(); // a hazard: the fire brigade is told at once (a panel fault is maintenance: grid only, as a digest)
    await().atMost(Duration.ofSeconds(10)).until(
        () -> alerting.alarms().find(channelAlarm.id()).orElseThrow().state() == AlarmState.CLEARED_UNACKED);
    alerting.alarms().acknowledge(a.id(), "officer", null);
  }

  private long attempts(long alarmId) throws Exception {
    return one("SELECT coalesce(max(attempts), 0) FROM outbox WHERE alarm_id = " + alarmId
        + " AND channel = 'webhook:fire-brigade'");
  }

  private String lastError(long alarmId) throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement();
        ResultSet rs = st.executeQuery("SELECT last_error FROM outbox WHERE alarm_id = " + alarmId
            + " AND channel = 'webhook:fire-brigade'")) {
      return rs.next() ? rs.getString(1) : null;
    }
  }

  private boolean delivered(long alarmId) throws Exception {
    return one("SELECT count(*) FROM outbox WHERE delivered_at IS NOT NULL AND alarm_id = " + alarmId
        + " AND channel = 'webhook:fire-brigade'") == 1;
  }

  private boolean dead(long alarmId) throws Exception {
    return one("SELECT count(*) FROM outbox WHERE dead AND alarm_id = " + alarmId
        + " AND channel = 'webhook:fire-brigade'") == 1;
  }

  private static long one(String sql) throws Exception {
    try (Connection c = db.connect(); Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }
}
