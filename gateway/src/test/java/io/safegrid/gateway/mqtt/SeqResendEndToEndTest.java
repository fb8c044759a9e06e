package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.coap.DeviceSecretOption;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.wiring.Gateway;
import io.safegrid.testing.TestDatabase;
import java.io.InputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole gateway (MQTT, CoAP, TimescaleDB, rules, alarm ledger) against newcomer7 F3 / review7
 * R13 and review7 R17.
 *
 * <ul>
 *   <li>F3: a gas unit without a clock sends {@code seq} 41 (70 %LEL: raised), {@code seq} 42 (0
 *       %LEL: cleared), then sends {@code seq} 41 again (the PUBACK was lost: an MQTT PUBLISH with
 *       DUP=1 on a new connection; over CoAP a CON with a new message id). It used to get a new
 *       receive time, be stored a second time and re-raise the ended leak (critical, call-out).
 *       Now it is answered (PUBACK 0 / 2.04), not stored, not judged, counted in {@code
 *       safegrid.ingest.duplicates{reason=seq}}. The same seq with another payload (a unit that
 *       rebooted and counts again) is a new reading: stored and raised.
 *   <li>R17: a unit without a clock sending several samples in one message ({@code [{"values":
 *       ...}, {"values": ...}]}): the records shared one stamp, every one after the first was
 *       flagged {@code clock_frozen} and kept only as a storage conflict dead letter. Now each
 *       gets its own time, 1 ms apart: all stored, none flagged.
 * </ul>
 */
class SeqResendEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir static Path dir;

  static Gateway gateway;

  @BeforeAll
  static void start() throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(null, "safegrid-f3", "safegrid/notify/", null, null))
        .withStorage(new io.safegrid.gateway.config.StorageConfig(dir.resolve("spool").toString(), 64L << 20, 5000, 10));
    gateway = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc));
  }

  @AfterAll
  static void stop() {
    if (gateway != null) {
      gateway.close();
    }
  }

  /** F3 over MQTT: the DUP resend of seq 41 after seq 42 cleared the leak. */
  @Test
  void mqttResendOfATsLessLeakAfterItsClearIsNotStoredOrRaisedAgain() throws Exception {
    String device = "gas-081";
    String leak = "{\"seq\":41,\"values\":{\"gas_lel\":70}}";
    MqttAsyncClient c = paho(device);
    try {
      assertThat(publish(c, device, leak)).isZero();
      awaitAlarm(device, "active_unacked");
      assertThat(publish(c, device, "{\"seq\":42,\"values\":{\"gas_lel\":0}}")).isZero();
      awaitAlarm(device, "cleared_unacked");
    } finally {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
    // the unit reconnects and sends the PUBLISH whose PUBACK it never saw again, DUP=1
    try (Socket s = RawMqtt.connect(gateway.ports().mqtt(), device, "demo-" + device, 30)) {
      byte[] dup = RawMqtt.publish("devices/" + device + "/telemetry", 1, 7, leak);
      dup[0] |= 0x08; // DUP
      s.getOutputStream().write(dup);
      InputStream in = s.getInputStream();
      assertThat(RawMqtt.readPacket(in)).as("PUBACK, success: it is durable").startsWith(0x40, 0x02, 0x00, 0x07);
    }
    assertResendIgnored(device, 2);
    assertThat(metric("safegrid_ingest_duplicates_total", "reason=\"seq\"")).isGreaterThanOrEqualTo(1.0);
  }

  /** F3 over CoAP: a CON POST sent again with a new message id after the 2.04 was lost. */
  @Test
  void coapResendOfATsLessLeakAfterItsClearIsNotStoredOrRaisedAgain() throws Exception {
    String device = "gas-082";
    String leak = "{\"seq\":41,\"values\":{\"gas_lel\":70}}";
    CoapClient c = coap(device);
    try {
      assertThat(post(c, device, leak)).isEqualTo(CoAP.ResponseCode.CHANGED);
      awaitAlarm(device, "active_unacked");
      assertThat(post(c, device, "{\"seq\":42,\"values\":{\"gas_lel\":0}}")).isEqualTo(CoAP.ResponseCode.CHANGED);
      awaitAlarm(device, "cleared_unacked");
      assertThat(post(c, device, leak)).as("answered as the first").isEqualTo(CoAP.ResponseCode.CHANGED);
    } finally {
      c.shutdown();
    }
    assertResendIgnored(device, 2);
  }

  /** The same seq with another payload: a unit that rebooted and counts from the start again. */
  @Test
  void theSameSeqWithAnotherPayloadIsANewReadingStoredAndJudged() throws Exception {
    String device = "gas-083";
    MqttAsyncClient c = paho(device);
    try {
      assertThat(publish(c, device, "{\"seq\":41,\"values\":{\"gas_lel\":70}}")).isZero();
      awaitAlarm(device, "active_unacked");
      assertThat(publish(c, device, "{\"seq\":42,\"values\":{\"gas_lel\":0}}")).isZero();
      awaitAlarm(device, "cleared_unacked");
      assertThat(publish(c, device, "{\"seq\":41,\"values\":{\"gas_lel\":65}}")).isZero();
    } finally {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
    assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device)).isEqualTo(3);
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND state = 'active_unacked'"
            + " AND count = 2", device)).as("the new leak re-opened the alarm").isEqualTo(1));
  }

  /**
   * review8 R8-8: a unit whose seq never advances (or restarts at boot) sends its new leak byte for
   * byte as it sent the old one: before, that was taken for a resend of the first (PUBACK 0, not
   * stored, not raised). A seq that carried another payload since is no resend.
   */
  @Test
  void aLeakAgainAfterItsClearUnderAnUnchangedSeqIsStoredAndRaised() throws Exception {
    String device = "gas-085";
    String leak = "{\"seq\":0,\"values\":{\"gas_lel\":70}}";
    MqttAsyncClient c = paho(device);
    try {
      assertThat(publish(c, device, leak)).isZero();
      awaitAlarm(device, "active_unacked");
      assertThat(publish(c, device, "{\"seq\":0,\"values\":{\"gas_lel\":0}}")).isZero();
      awaitAlarm(device, "cleared_unacked");
      assertThat(publish(c, device, leak)).isZero();
    } finally {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
    assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device))
        .as("all three stored").isEqualTo(3);
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND state = 'active_unacked'"
            + " AND count = 2", device)).as("the new leak re-opened the alarm").isEqualTo(1));
  }

  /** R17: three ts-less samples in one message: all stored 1 ms apart, in order, none flagged. */
  @Test
  void severalTsLessRecordsInOneMessageAreAllStoredInOrderWithoutAClockFlag() throws Exception {
    String device = "gas-084";
    double frozenBefore = metric("safegrid_rules_flags_total", "reason=\"clock_frozen\"");
    MqttAsyncClient c = paho(device);
    try {
      assertThat(publish(c, device,
          "[{\"values\":{\"gas_lel\":1.0}},{\"values\":{\"gas_lel\":70}},{\"values\":{\"gas_lel\":2.5}}]")).isZero();
      assertThat(publish(c, device, "{\"values\":{\"gas_lel\":3.5}}")).isZero();
    } finally {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
    List<Double> values = new ArrayList<>();
    List<Long> times = new ArrayList<>();
    try (Connection conn = db.connect();
        PreparedStatement st = conn.prepareStatement("SELECT value, (extract(epoch FROM time) * 1000)::bigint"
            + " FROM readings WHERE device_id = ? AND metric = 'gas_lel' ORDER BY time")) {
      st.setString(1, device);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          values.add(rs.getDouble(1));
          times.add(rs.getLong(2));
        }
      }
    }
    assertThat(values).as("every record stored, in payload order").containsExactly(1.0, 70.0, 2.5, 3.5);
    assertThat(times.get(1) - times.get(0)).isEqualTo(1);
    assertThat(times.get(2) - times.get(1)).isEqualTo(1);
    assertThat(times.get(3)).isGreaterThan(times.get(2));
    assertThat(count("SELECT count(*) FROM dead_letters WHERE device_id = ?", device)).isZero();
    assertThat(metric("safegrid_rules_flags_total", "reason=\"clock_frozen\"")).as("no stopped clock")
        .isEqualTo(frozenBefore);
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND severity = 'critical'", device))
            .as("the 70 %LEL in the middle raised").isEqualTo(1));
  }

  /** One gas_lel row per reading sent once; the ended leak not raised again. */
  private static void assertResendIgnored(String device, int rows) throws Exception {
    assertThat(count("SELECT count(*) FROM readings WHERE device_id = ? AND metric = 'gas_lel'", device))
        .as("the resend is not stored again").isEqualTo(rows);
    Thread.sleep(1_500); // the alarm path does not wait for storage: give a re-raise time to show
    assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ?", device)).isEqualTo(1);
    assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND state = 'cleared_unacked'"
        + " AND count = 1", device)).as("raised once and cleared, not raised again").isEqualTo(1);
  }

  private static void awaitAlarm(String device, String state) {
    await().atMost(Duration.ofSeconds(15)).untilAsserted(() ->
        assertThat(count("SELECT count(*) FROM alarms WHERE device_id = ? AND rule_id = 'gas-lel-threshold'"
            + " AND state = '" + state + "'", device)).as(device + " " + state).isEqualTo(1));
  }

  private static MqttAsyncClient paho(String device) throws Exception {
    MqttAsyncClient c = new MqttAsyncClient("tcp://127.0.0.1:" + gateway.ports().mqtt(), "f3-" + device,
        new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o).waitForCompletion(10_000);
    return c;
  }

  private static int publish(MqttAsyncClient c, String device, String payload) throws Exception {
    IMqttToken t = c.publish("devices/" + device + "/telemetry", payload.getBytes(StandardCharsets.UTF_8), 1, false);
    t.waitForCompletion(10_000);
    return t.getReasonCodes()[0];
  }

  private static CoapClient coap(String device) {
    CoapConfig.register();
    UdpConfig.register();
    CoapClient client = new CoapClient("coap://127.0.0.1:" + gateway.ports().coap() + "/devices/" + device + "/telemetry");
    client.setEndpoint(new CoapEndpoint.Builder().setConfiguration(Configuration.createStandardWithoutFile()).build());
    client.setTimeout(10_000L);
    return client;
  }

  /** A CON POST (Californium gives every request a new message id) with the device's secret. */
  private static CoAP.ResponseCode post(CoapClient c, String device, String json) throws Exception {
    Request request = new Request(CoAP.Code.POST, CoAP.Type.CON);
    request.setPayload(json);
    request.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_JSON);
    request.getOptions().addOtherOption(
        new Option(DeviceSecretOption.DEFINITION, ("demo-" + device).getBytes(StandardCharsets.UTF_8)));
    CoapResponse r = c.advanced(request);
    assertThat(r).as("a response").isNotNull();
    return r.getCode();
  }

  private static double metric(String name, String tag) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + gateway.ports().http() + "/metrics"))
            .header("Authorization", "Bearer demo-officer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    return r.body().lines()
        .filter(l -> l.startsWith(name + "{") && l.contains(tag))
        .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
        .sum();
  }

  private static long count(String sql, String device) throws Exception {
    try (Connection c = db.connect(); PreparedStatement st = c.prepareStatement(sql)) {
      st.setString(1, device);
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }
}
