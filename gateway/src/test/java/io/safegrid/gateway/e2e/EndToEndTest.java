package io.safegrid.gateway.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.NotificationSubscriber;
import io.safegrid.gateway.config.ConfigLoader;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole service, end to end, as the field sees it: the real gateway (composition root, the
 * shipped {@code config/dongnan.yaml}, every port 0) on a fresh TimescaleDB database, a real
 * Mosquitto as the emergency network broker, gas alarms publishing over MQTT with Paho as the
 * simulator does, and a duty officer on {@code /api/live}.
 *
 * <ol>
 *   <li>Five gas alarms report (QoS 1); one of them, a restaurant's ({@code gas-022}), leaks: its
 *       reading crosses 25 %LEL (GB/T 50493-2019 5.5.2, level 1).
 *   <li>The alarm appears on {@code /api/live} ({@code event: alarm}, type {@code raised}).
 *   <li>A notification arrives on the emergency network broker (topic under the configured
 *       prefix, payload naming the device).
 *   <li>Escalation runs: the alarm's persisted deadline ({@code alarms.next_escalation_at}) is made
 *       due, as if its acknowledgement timeout (3 min for MAJOR) had passed, and an {@code
 *       escalated} event follows. The gateway's wiring has no knob for the timeout, so moving the
 *       deadline is the short way to "wait three minutes".
 *   <li>The duty officer acknowledges ({@code POST /api/alarms/{id}/ack}); the deadline is made due
 *       again, and for five escalation poll intervals no {@code escalated} or {@code notified}
 *       event follows, on the stream or in {@code alarm_events}.
 *   <li>Every PUBACK'd reading is in {@code readings}: the row count equals the acknowledged
 *       messages times the values per message, counted right after the last PUBACK (PUBACK means
 *       durable, so no waiting).
 * </ol>
 */
class EndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static final Path SHIPPED = Path.of("../config/dongnan.yaml");
  static final String OFFICER_TOKEN = "demo-officer-token";
  static final String LEAKING = "gas-022";
  static final List<String> BACKGROUND = List.of("gas-030", "gas-031", "gas-032", "gas-033");
  static final int MESSAGES_PER_DEVICE = 40;
  static final int VALUES_PER_MESSAGE = 2; // gas_lel, battery_pct

  static Mosquitto broker;
  static NotificationSubscriber emergencyListener;

  @BeforeAll
  static void emergencyNetwork() throws Exception {
    broker = Mosquitto.start();
    emergencyListener = new NotificationSubscriber(broker.uri());
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (emergencyListener != null) {
      emergencyListener.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  private static LoadedConfig config(Path spool) {
    Map<String, String> env = Map.of(
        "SAFEGRID_DB_URL", db.jdbcUrl(),
        "SAFEGRID_DB_USER", db.user(),
        "SAFEGRID_DB_PASSWORD", db.password(),
        "SAFEGRID_MQTT_PORT", "0",
        "SAFEGRID_COAP_PORT", "0",
        "SAFEGRID_COAPS_PORT", "0",
        "SAFEGRID_HTTP_PORT", "0");
    LoadedConfig shipped = new ConfigLoader().load(SHIPPED, env);
    GatewayConfig gc = shipped.gateway();
    EmergencyNetworkConfig en = gc.emergencyNetwork();
    StorageConfig st = gc.storage();
    gc = gc
        // the shipped client id and topic prefix; only the broker is ours
        .withEmergencyNetwork(new EmergencyNetworkConfig(
            broker.uri(), en.clientId(), en.topicPrefix(), en.username(), en.password()))
        .withStorage(new StorageConfig(spool.toString(), st.spoolMaxBytes(), st.batchSize(), st.batchWindowMs()));
    return new LoadedConfig(shipped.file(), shipped.site(), gc);
  }

  /** What reached the emergency network broker so far, as "topic payload". */
  private static List<String> notifications() {
    return emergencyListener.all().stream().map(r -> r.topic() + " " + r.json()).toList();
  }

  @Test
  void leakIsStoredRaisedStreamedNotifiedEscalatedAndAcknowledgementStopsEscalation(@TempDir Path spool)
      throws Exception {
    try (Gateway gateway = Gateway.start(config(spool))) {
      int mqttPort = gateway.ports().mqtt();
      int httpPort = gateway.ports().http();
      assertThat(mqttPort).as("MQTT listener bound").isPositive();
      assertThat(httpPort).as("HTTP listener bound").isPositive();

      try (SseListener live = SseListener.connect(httpPort, OFFICER_TOKEN)) {
        // 1. five gas alarms report; gas-022 ramps 2 -> 39 %LEL and crosses 25 %LEL once
        long base = System.currentTimeMillis() - 60_000;
        ExecutorService devices = Executors.newFixedThreadPool(1 + BACKGROUND.size());
        List<Future<Integer>> acked = new ArrayList<>();
        acked.add(devices.submit(() -> publish(mqttPort, LEAKING, base, i -> 2.0 + i * 37.0 / (MESSAGES_PER_DEVICE - 1))));
        for (String id : BACKGROUND) {
          acked.add(devices.submit(() -> publish(mqttPort, id, base, i -> 1.0 + (i % 5) * 0.5)));
        }
        int ackedMessages = 0;
        for (Future<Integer> f : acked) {
          ackedMessages += f.get();
        }
        devices.shutdown();
        int sent = MESSAGES_PER_DEVICE * (1 + BACKGROUND.size());
        assertThat(ackedMessages).as("PUBACK'd messages").isEqualTo(sent);

        // 6 (now: PUBACK means durable). every acknowledged reading is in readings
        List<String> ids = new ArrayList<>(BACKGROUND);
        ids.add(LEAKING);
        assertThat(countReadings(ids, base)).as("rows in readings for the PUBACK'd messages")
            .isEqualTo((long) ackedMessages * VALUES_PER_MESSAGE);

        // 2. the alarm appears on /api/live
        SseListener.Event raised = await("raised on /api/live").atMost(Duration.ofSeconds(20))
            .until(() -> live.events().stream()
                .filter(e -> e.name().equals("alarm") && "raised".equals(e.data().path("type").asText())
                    && LEAKING.equals(e.data().path("alarm").path("deviceId").asText()))
                .findFirst().orElse(null), e -> e != null);
        JsonNode alarm = raised.data().path("alarm");
        long alarmId = raised.data().path("alarmId").asLong();
        assertThat(alarm.path("ruleId").asText()).as("the %%LEL threshold rule").startsWith("gas-lel");
        assertThat(alarm.path("severity").asText()).isEqualTo("major");
        assertThat(alarm.path("state").asText()).isEqualTo("active_unacked");
        assertThat(live.alarmEvents(alarmId)).as("one raise, not one per reading over 25 %%LEL")
            .filteredOn(e -> "raised".equals(e.data().path("type").asText())).hasSize(1);

        // 3. a notification arrives on the emergency network broker
        String prefix = gateway.config().gateway().emergencyNetwork().topicPrefix().replaceAll("/+$", "");
        await("notification on the broker").atMost(Duration.ofSeconds(30)).untilAsserted(() ->
            assertThat(notifications()).anySatisfy(n -> assertThat(n).startsWith(prefix + "/").contains(LEAKING)));

        // 4. escalation runs when the acknowledgement timeout passes
        await("escalation deadline set").atMost(Duration.ofSeconds(20))
            .until(() -> nextEscalationAt(alarmId) != null);
        int notificationsBefore = notifications().size();
        assertThat(makeEscalationDue(alarmId)).isEqualTo(1);
        await("escalated on /api/live").atMost(Duration.ofSeconds(20)).until(() ->
            live.alarmEvents(alarmId).stream().anyMatch(e -> "escalated".equals(e.data().path("type").asText())));
        await("escalation notified on the broker").atMost(Duration.ofSeconds(30))
            .until(() -> notifications().size() > notificationsBefore);

        // 5. acknowledging stops escalation
        HttpResponse<String> ack = HttpClient.newHttpClient().send(
            HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + "/api/alarms/" + alarmId + "/ack"))
                .header("Authorization", "Bearer " + OFFICER_TOKEN)
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString("{\"note\": \"e2e: on my way\"}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(ack.statusCode()).as("ack answer: %s", ack.body()).isEqualTo(200);
        SseListener.Event acknowledged = await("acknowledged on /api/live").atMost(Duration.ofSeconds(20))
            .until(() -> live.alarmEvents(alarmId).stream()
                .filter(e -> "acknowledged".equals(e.data().path("type").asText()))
                .findFirst().orElse(null), e -> e != null);
        assertThat(acknowledged.data().path("alarm").path("state").asText()).isEqualTo("active_acked");
        long ackEventId = acknowledged.data().path("id").asLong();

        makeEscalationDue(alarmId); // as if the timeout passed again (0 rows if the ack cleared it)
        long quietUntil = System.nanoTime() + Duration.ofSeconds(5).toNanos(); // 5 poll intervals of 1 s
        while (System.nanoTime() < quietUntil) {
          Thread.sleep(200);
        }
        assertThat(live.alarmEvents(alarmId))
            .as("escalation events on /api/live after the acknowledgement")
            .filteredOn(e -> e.data().path("id").asLong() > ackEventId)
            .filteredOn(e -> List.of("escalated", "notified").contains(e.data().path("type").asText()))
            .isEmpty();
        assertThat(escalationRowsAfter(alarmId, ackEventId))
            .as("escalated/notified rows in alarm_events after the acknowledgement").isZero();
        assertThat(live.failure()).as("the live stream stayed up").isNull();
      }
    }
  }

  /** Values of the {@code i}-th message of a device, %LEL. */
  private interface Ramp {
    double lel(int i);
  }

  /**
   * One device over MQTT 5 (Paho), as the simulator's v5 link: client id and username = device
   * id, password = its demo secret; {@link #MESSAGES_PER_DEVICE} QoS 1 telemetry messages at
   * about 20 per second (under the site's per-device rate limit), at most 8 in flight; event
   * times {@code base + i} seconds.
   *
   * @return how many were PUBACK'd with a success reason code
   */
  private static int publish(int port, String deviceId, long base, Ramp ramp) throws Exception {
    MqttAsyncClient client = new MqttAsyncClient("tcp://127.0.0.1:" + port, deviceId, new MemoryPersistence());
    MqttConnectionOptions options = new MqttConnectionOptions();
    options.setUserName(deviceId);
    options.setPassword(("demo-" + deviceId).getBytes(StandardCharsets.UTF_8));
    options.setCleanStart(true);
    options.setKeepAliveInterval(30);
    client.connect(options).waitForCompletion(15_000);
    List<IMqttToken> tokens = new ArrayList<>();
    int ok = 0;
    try {
      for (int i = 0; i < MESSAGES_PER_DEVICE; i++) {
        if (i >= 8) {
          ok += acknowledged(tokens.get(i - 8));
        }
        String json = String.format(java.util.Locale.ROOT,
            "{\"ts\": %d, \"seq\": %d, \"values\": {\"gas_lel\": %.1f, \"battery_pct\": 87}}",
            base + i * 1000L, i + 1, ramp.lel(i));
        tokens.add(client.publish("devices/" + deviceId + "/telemetry",
            json.getBytes(StandardCharsets.UTF_8), 1, false));
        Thread.sleep(50);
      }
      for (int i = Math.max(0, MESSAGES_PER_DEVICE - 8); i < MESSAGES_PER_DEVICE; i++) {
        ok += acknowledged(tokens.get(i));
      }
    } finally {
      client.disconnect().waitForCompletion(5_000);
      client.close();
    }
    return ok;
  }

  private static int acknowledged(IMqttToken token) {
    try {
      token.waitForCompletion(15_000);
    } catch (Exception e) {
      return 0;
    }
    int[] codes = token.getReasonCodes();
    return codes == null || codes.length == 0 || codes[0] < 0x80 ? 1 : 0;
  }

  private static long countReadings(List<String> deviceIds, long fromMillis) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM readings WHERE device_id = ANY (?) AND time >= ?")) {
      ps.setArray(1, c.createArrayOf("text", deviceIds.toArray()));
      ps.setTimestamp(2, new Timestamp(fromMillis));
      ResultSet rs = ps.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Timestamp nextEscalationAt(long alarmId) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement("SELECT next_escalation_at FROM alarms WHERE id = ?")) {
      ps.setLong(1, alarmId);
      ResultSet rs = ps.executeQuery();
      return rs.next() ? rs.getTimestamp(1) : null;
    }
  }

  /** Moves a pending escalation deadline to the past; returns the rows changed (0: none pending). */
  private static int makeEscalationDue(long alarmId) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE alarms SET next_escalation_at = now() - interval '1 second'"
                + " WHERE id = ? AND next_escalation_at IS NOT NULL")) {
      ps.setLong(1, alarmId);
      return ps.executeUpdate();
    }
  }

  private static long escalationRowsAfter(long alarmId, long afterEventId) throws Exception {
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement(
            "SELECT count(*) FROM alarm_events WHERE alarm_id = ? AND id > ? AND type IN ('escalated', 'notified')")) {
      ps.setLong(1, alarmId);
      ps.setLong(2, afterEventId);
      ResultSet rs = ps.executeQuery();
      rs.next();
      return rs.getLong(1);
    }
  }
}
