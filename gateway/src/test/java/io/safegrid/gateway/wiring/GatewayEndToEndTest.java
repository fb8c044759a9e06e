package io.safegrid.gateway.wiring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.alerting.testsupport.Mosquitto;
import io.safegrid.alerting.testsupport.NotificationSubscriber;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
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
import java.time.Duration;
import java.util.List;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped site running whole: a gas alarm posts over CoAP, the reading is stored, the rule
 * engine raises the alarm, the dashboard API shows it, and the emergency network broker (a real
 * Mosquitto) gets the notification; a fire panel's event over MQTT 5 is acknowledged once stored
 * and raises the fire alarm, also when its free text holds a U+0000.
 */
class GatewayEndToEndTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  static Mosquitto broker;
  static NotificationSubscriber listener;

  @BeforeAll
  static void broker() throws Exception {
    broker = Mosquitto.start();
    listener = new NotificationSubscriber(broker.uri());
  }

  @AfterAll
  static void stopBroker() throws Exception {
    if (listener != null) {
      listener.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  /** What reached the emergency network broker so far, as "topic payload". */
  private static List<String> notifications() {
    return listener.all().stream().map(r -> r.topic() + " " + r.json()).toList();
  }

  @Test
  void aLeakPostedOverCoapIsStoredRaisedShownAndNotified(@TempDir Path spool) throws Exception {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway()
        .withEmergencyNetwork(new EmergencyNetworkConfig(broker.uri(), "safegrid-e2e", "safegrid/notify/", null, null))
        .withStorage(new io.safegrid.gateway.config.StorageConfig(spool.toString(), 64L << 20, 5000, 10));
    try (Gateway g = Gateway.start(new LoadedConfig(shipped.file(), shipped.site(), gc))) {
      assertThat(g.ports().coap()).isPositive();
      assertThat(g.ports().coaps()).isPositive();
      long ts = System.currentTimeMillis();
      String body = "{\"ts\": " + ts + ", \"seq\": 1, \"values\": {\"gas_lel\": 31.5, \"battery_pct\": 87}}";

      CoapClient wrong = new CoapClient(
          "coap://127.0.0.1:" + g.ports().coap() + "/devices/gas-001/telemetry?s=demo-gas-002");
      CoapResponse refused = wrong.post(body, MediaTypeRegistry.APPLICATION_JSON);
      wrong.shutdown();
      assertThat(refused.getCode()).isEqualTo(CoAP.ResponseCode.UNAUTHORIZED);

      CoapClient client = new CoapClient(
          "coap://127.0.0.1:" + g.ports().coap() + "/devices/gas-001/telemetry?s=demo-gas-001");
      CoapResponse r = client.post(body, MediaTypeRegistry.APPLICATION_JSON);
      client.shutdown();
      assertThat(r).isNotNull();
      assertThat(r.getCode()).isEqualTo(CoAP.ResponseCode.CHANGED);

      // acknowledged means durable: the row is there now
      try (Connection c = db.dataSource().getConnection();
          PreparedStatement ps = c.prepareStatement(
              "SELECT value FROM readings WHERE device_id = 'gas-001' AND metric = 'gas_lel' AND time = ?")) {
        ps.setTimestamp(1, new java.sql.Timestamp(ts));
        ResultSet rs = ps.executeQuery();
        assertThat(rs.next()).isTrue();
        assertThat(rs.getDouble(1)).isEqualTo(31.5);
      }

      HttpClient http = HttpClient.newHttpClient();
      HttpRequest alarms = HttpRequest.newBuilder(
              URI.create("http://127.0.0.1:" + g.ports().http() + "/api/alarms?state=active_unacked"))
          .header("Authorization", "Bearer demo-officer-token").build();
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(http.send(alarms, HttpResponse.BodyHandlers.ofString()).body())
              .contains("gas-001").contains("gas-lel"));

      await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
          assertThat(notifications()).anySatisfy(n -> assertThat(n).contains("gas-001")));

      // a fire panel over MQTT 5: wrong secret refused; right one, QoS 1 event -> PUBACK -> alarm
      String mqttUri = "tcp://127.0.0.1:" + g.ports().mqtt();
      MqttClient intruder = new MqttClient(mqttUri, "fire-languang-xiangjiang", new MemoryPersistence());
      MqttConnectionOptions bad = new MqttConnectionOptions();
      bad.setUserName("fire-languang-xiangjiang");
      bad.setPassword("demo-gas-001".getBytes(StandardCharsets.UTF_8));
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> intruder.connect(bad))
          .isInstanceOf(org.eclipse.paho.mqttv5.common.MqttException.class);
      intruder.close();

      MqttClient panel = new MqttClient(mqttUri, "fire-languang-xiangjiang", new MemoryPersistence());
      MqttConnectionOptions good = new MqttConnectionOptions();
      good.setUserName("fire-languang-xiangjiang");
      good.setPassword("demo-fire-languang-xiangjiang".getBytes(StandardCharsets.UTF_8));
      panel.connect(good);
      panel.publish("devices/fire-languang-xiangjiang/events",
          ("{\"ts\": " + System.currentTimeMillis() + ", \"event\": \"fire\", \"zone\": 3, \"point\": 12}")
              .getBytes(StandardCharsets.UTF_8), 1, false); // returns once PUBACK arrived
      panel.disconnect();
      panel.close();
      try (Connection c = db.dataSource().getConnection();
          PreparedStatement ps = c.prepareStatement(
              "SELECT count(*) FROM device_events WHERE device_id = 'fire-languang-xiangjiang' AND event = 'fire'")) {
        ResultSet rs = ps.executeQuery();
        rs.next();
        assertThat(rs.getInt(1)).as("acknowledged means durable").isEqualTo(1);
      }
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(http.send(alarms, HttpResponse.BodyHandlers.ofString()).body())
              .contains("fire-languang-xiangjiang").contains("panel-fire"));

      // a fire whose free text holds a NUL (NUL-padded fixed-width firmware fields): PostgreSQL
      // text cannot store U+0000, yet the fire must raise: stored with U+FFFD, the original kept
      String nul = "{\"event\":\"fire\",\"zone\":4,\"point\":4,\"text\":\"smoke\\u0000here\"}";
      org.eclipse.paho.mqttv5.client.MqttAsyncClient nanmen =
          new org.eclipse.paho.mqttv5.client.MqttAsyncClient(mqttUri, "fire-nanmen-2", new MemoryPersistence());
      MqttConnectionOptions o = new MqttConnectionOptions();
      o.setUserName("fire-nanmen-2");
      o.setPassword("demo-fire-nanmen-2".getBytes(StandardCharsets.UTF_8));
      nanmen.connect(o).waitForCompletion(10_000);
      org.eclipse.paho.mqttv5.client.IMqttToken sent =
          nanmen.publish("devices/fire-nanmen-2/events", nul.getBytes(StandardCharsets.UTF_8), 1, false);
      sent.waitForCompletion(10_000);
      assertThat(sent.getReasonCodes()).as("PUBACK success, not 0x99").containsOnly(0);
      nanmen.disconnect().waitForCompletion(10_000);
      nanmen.close();
      try (Connection c = db.dataSource().getConnection();
          PreparedStatement ps = c.prepareStatement(
              "SELECT text FROM device_events WHERE device_id = 'fire-nanmen-2' AND event = 'fire'")) {
        ResultSet rs = ps.executeQuery();
        assertThat(rs.next()).isTrue();
        assertThat(rs.getString(1)).isEqualTo("smoke\uFFFDhere");
      }
      try (Connection c = db.dataSource().getConnection();
          PreparedStatement ps = c.prepareStatement(
              "SELECT reason, convert_from(payload, 'UTF8') FROM dead_letters WHERE device_id = 'fire-nanmen-2'")) {
        ResultSet rs = ps.executeQuery();
        assertThat(rs.next()).as("the original text is kept").isTrue();
        assertThat(rs.getString(1)).contains("partly refused").contains("U+0000 stored as U+FFFD");
        assertThat(rs.getString(2)).isEqualTo(nul);
      }
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() ->
          assertThat(http.send(alarms, HttpResponse.BodyHandlers.ofString()).body())
              .contains("fire-nanmen-2").contains("panel-fire"));
    }
  }
}
