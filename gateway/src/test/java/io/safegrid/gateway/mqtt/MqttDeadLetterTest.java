package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Every refusal of the MQTT server that keeps a row in {@code dead_letters} is counted in {@code
 * safegrid.mqtt.dead_letters{reason}}, and the counter and the table agree, whatever the client
 * did after sending (newcomer finding M1: mosquitto_pub at QoS 0 on MQTT 5 disconnects at once);
 * malformed packets of a connected device close the connection and are kept with their first
 * bytes. Real TimescaleDB, mosquitto_pub and raw sockets.
 */
class MqttDeadLetterTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();

  @TempDir static Path spool;

  static IngestOnTestDatabase ingest;
  static MqttServer server;

  @BeforeAll
  static void start() {
    ingest = new IngestOnTestDatabase(db, spool);
    String[] devices = new String[12];
    for (int i = 0; i < devices.length; i++) {
      devices[i] = "gas-" + (201 + i);
    }
    server = MqttTestSupport.onTestDatabase(ingest, MqttLimits.defaults(), devices);
  }

  @AfterAll
  static void stop() {
    if (ingest != null) {
      ingest.close(); // the server, then the store
    }
  }

  private static List<byte[]> payloads(String device, String source) throws Exception {
    List<byte[]> out = new ArrayList<>();
    try (Connection c = db.connect();
        PreparedStatement st = c.prepareStatement(
            "SELECT payload FROM dead_letters WHERE device_id = ? AND source = ? ORDER BY id")) {
      st.setString(1, device);
      st.setString(2, source);
      try (ResultSet rs = st.executeQuery()) {
        while (rs.next()) {
          out.add(rs.getBytes(1));
        }
      }
    }
    return out;
  }

  /** The counter and the table agree: one count per row MQTT input left in dead_letters. */
  private static void counterMatchesTable() {
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      double counted = ingest.sum("safegrid.mqtt.dead_letters");
      assertThat((long) counted).isEqualTo(ingest.rows("SELECT count(*) FROM dead_letters WHERE source LIKE 'mqtt:%'"));
    });
  }

  private static void mosquittoPub(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("mosquitto_pub", "-h", "127.0.0.1", "-p",
        String.valueOf(server.port())));
    cmd.addAll(List.of(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
  }

  /**
   * Newcomer finding M1: an MQTT 5 QoS 0 PUBLISH to another device's topic was kept but not
   * counted (the count waited for the ack, and mosquitto_pub had already gone). The same for an
   * undecodable payload at QoS 0 (its reject count was lost the same way).
   */
  @Test
  void aclAndPayloadRefusalsAreCountedAsTheyAreKeptAtEveryQosAndVersion() throws Exception {
    double aclBefore = ingest.counter("safegrid.mqtt.dead_letters", "acl_publish");
    double invalidBefore = ingest.counter("safegrid.mqtt.dead_letters", "invalid_payload");
    double invalidRejectsBefore = ingest.counter("safegrid.mqtt.rejects", "invalid_payload");
    for (String version : new String[] {"mqttv5", "mqttv311"}) {
      for (String qos : new String[] {"0", "1"}) {
        mosquittoPub("-V", version, "-q", qos, "-u", "gas-201", "-P", "demo-gas-201",
            "-t", "devices/gas-209/telemetry", "-m", "{\"values\":{\"gas_lel\":7}}");
        mosquittoPub("-V", version, "-q", qos, "-u", "gas-202", "-P", "demo-gas-202",
            "-t", "devices/gas-202/telemetry", "-m", "not json " + version + " " + qos);
      }
    }
    await().atMost(Duration.ofSeconds(10)).until(() ->
        ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-201'"
            + " AND source = 'mqtt:devices/gas-209/telemetry'") == 4
        && ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-202'") == 4);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-202' AND reason LIKE"
        + " 'not JSON: unexpected word ''not'' (a JSON value is an object, array, string, number, true, false or null)"
        + " (line 1, column 1)'")).as("newcomer note D4: a reason in plain words").isEqualTo(4);
    // newcomer note P4: an implausible %LEL is refused with its reason, the rest stored
    mosquittoPub("-V", "mqttv5", "-q", "1", "-u", "gas-202", "-P", "demo-gas-202",
        "-t", "devices/gas-202/telemetry", "-m", "{\"ts\":1764403200000,\"values\":{\"gas_lel\":1e300,\"battery_pct\":80}}");
    mosquittoPub("-V", "mqttv5", "-q", "1", "-u", "gas-202", "-P", "demo-gas-202",
        "-t", "devices/gas-202/telemetry", "-m", "{\"values\":{\"gas_lel\":-40}}");
    await().atMost(Duration.ofSeconds(10)).until(() ->
        ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-202'"
            + " AND reason LIKE '%gas_lel: % %LEL is outside 0-5000 %LEL, what any gas mixture can read%'") == 2);
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-202'")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-202' AND metric = 'battery_pct'")).isEqualTo(1);
    await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
      assertThat(ingest.counter("safegrid.mqtt.dead_letters", "partly_refused")).isEqualTo(1);
      assertThat(ingest.counter("safegrid.mqtt.dead_letters", "acl_publish") - aclBefore)
          .as("one count per kept ACL refusal, QoS 0 on MQTT 5 included").isEqualTo(4);
      assertThat(ingest.counter("safegrid.mqtt.dead_letters", "invalid_payload") - invalidBefore).isEqualTo(5);
      assertThat(ingest.counter("safegrid.mqtt.rejects", "invalid_payload") - invalidRejectsBefore).isEqualTo(5);
    });
    counterMatchesTable();
  }

  private static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }

  private static byte[] bytes(int... b) {
    byte[] out = new byte[b.length];
    for (int i = 0; i < b.length; i++) {
      out[i] = (byte) b[i];
    }
    return out;
  }

  /** Sends {@code writes} (each one write, 150 ms apart) after CONNACK; returns what came back until closed. */
  private static byte[] sendConnected(String device, int level, byte[]... writes) throws Exception {
    try (Socket s = RawMqtt.connect(server.port(), device, "demo-" + device, 60, level)) {
      OutputStream out = s.getOutputStream();
      for (int i = 0; i < writes.length; i++) {
        if (i > 0) {
          Thread.sleep(150);
        }
        out.write(writes[i]);
        out.flush();
      }
      return RawMqtt.readUntilClosed(s, 5000);
    }
  }

  /**
   * MQTT 3.1.1 4.8 / MQTT 5.0 4.13: a malformed packet closes the connection (MQTT 5 with
   * DISCONNECT 0x81 first); it is counted ({@code rejects} and {@code dead_letters}, reason
   * {@code malformed}) and kept: the packet's own first bytes, not the packets before it in the
   * same read.
   */
  @Test
  void malformedPacketsOfAConnectedDeviceCloseAndAreKeptWithTheirFirstBytes() throws Exception {
    byte[] badLength = bytes(0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F, 'x');
    byte[] notUtf8Topic = RawMqtt.publish(bytes('d', 0xC3, 0x28, 'x'), 0, 0,
        "{\"values\":{\"gas_lel\":1}}".getBytes(StandardCharsets.UTF_8), false);
    byte[] notUtf8TopicV5 = RawMqtt.publish(bytes('d', 0xC3, 0x28, 'x'), 0, 0,
        "{\"values\":{\"gas_lel\":1}}".getBytes(StandardCharsets.UTF_8), true);
    byte[] reservedType = bytes(0x00, 0x00);
    byte[] garbage = "GET / HTTP/1.1\r\nHost: gateway\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    byte[] pingreq = bytes(0xC0, 0x00);
    byte[] good = RawMqtt.publish("devices/gas-205/telemetry".getBytes(StandardCharsets.UTF_8), 0, 0,
        "{\"values\":{\"gas_lel\":2}}".getBytes(StandardCharsets.UTF_8), false);
    double rejectsBefore = ingest.counter("safegrid.mqtt.rejects", "malformed");
    double keptBefore = ingest.counter("safegrid.mqtt.dead_letters", "malformed");

    // MQTT 3.1.1: closed, nothing sent back
    assertThat(sendConnected("gas-203", 4, badLength)).isEmpty();
    assertThat(sendConnected("gas-203", 4, notUtf8Topic)).isEmpty();
    assertThat(sendConnected("gas-203", 4, reservedType)).isEmpty();
    // garbage behind a good PINGREQ in the same write: the PINGRESP comes, then the close
    assertThat(sendConnected("gas-204", 4, concat(pingreq, garbage))).containsExactly(0xD0, 0x00);
    // a malformed PUBLISH arriving in two writes, behind a good PUBLISH: only it is kept
    assertThat(sendConnected("gas-205", 4, concat(good, java.util.Arrays.copyOf(notUtf8Topic, 4)),
        java.util.Arrays.copyOfRange(notUtf8Topic, 4, notUtf8Topic.length))).isEmpty();
    // MQTT 5: DISCONNECT 0x81 malformed packet, then closed
    assertThat(sendConnected("gas-206", 5, badLength)).startsWith(0xE0, 0x02, 0x81);
    assertThat(sendConnected("gas-206", 5, notUtf8TopicV5)).startsWith(0xE0, 0x02, 0x81);
    assertThat(sendConnected("gas-206", 5, garbage)).startsWith(0xE0, 0x02, 0x81);

    await().atMost(Duration.ofSeconds(10)).until(() ->
        ingest.rows("SELECT count(*) FROM dead_letters WHERE source = 'mqtt:malformed' AND device_id IN ("
        + " 'gas-203', 'gas-204', 'gas-205', 'gas-206')") == 8);
    // one connection each, kept by whichever storage writer takes it: in any order
    assertThat(payloads("gas-203", "mqtt:malformed"))
        .containsExactlyInAnyOrder(badLength, notUtf8Topic, reservedType);
    assertThat(payloads("gas-204", "mqtt:malformed")).containsExactly(garbage);
    assertThat(payloads("gas-205", "mqtt:malformed")).containsExactly(notUtf8Topic);
    assertThat(payloads("gas-206", "mqtt:malformed")).containsExactlyInAnyOrder(badLength, notUtf8TopicV5, garbage);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE source = 'mqtt:malformed' AND device_id IN ("
        + " 'gas-203', 'gas-204', 'gas-205', 'gas-206')"
        + " AND reason LIKE 'malformed MQTT packet (%): %not processed; kept its first % bytes (at most 4096)'"))
        .isEqualTo(8);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE source = 'mqtt:malformed' AND device_id IN ("
        + " 'gas-203', 'gas-204', 'gas-205', 'gas-206')"
        + " AND reason LIKE '%MQTT 5.0 4.13: DISCONNECT 0x81%'")).isEqualTo(3);
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-205'"))
        .as("the good PUBLISH before the malformed one is stored").isEqualTo(1);
    await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
      assertThat(ingest.counter("safegrid.mqtt.dead_letters", "malformed") - keptBefore).isEqualTo(8);
      assertThat(ingest.counter("safegrid.mqtt.rejects", "malformed") - rejectsBefore).isEqualTo(8);
    });
    counterMatchesTable();
  }

  /**
   * A large malformed packet keeps at most 4096 bytes, also when it spans many reads (a SUBSCRIBE
   * whose 5,995-byte topic filter ends in invalid UTF-8 is refused only once it is all in); one
   * refused at its start (a topic that is not UTF-8, 20,000 bytes sent) keeps what had arrived by
   * then, at most 4096 bytes.
   */
  @Test
  void aLargeMalformedPacketKeepsAtMostItsFirst4096Bytes() throws Exception {
    byte[] filter = new byte[5995];
    java.util.Arrays.fill(filter, (byte) 'a');
    filter[5993] = (byte) 0xC3;
    filter[5994] = (byte) 0x28;
    byte[] longSubscribe = RawMqtt.packet(0x82, concat(bytes(0x00, 0x01, filter.length >> 8, filter.length & 0xFF),
        filter, bytes(0x01)));
    List<byte[]> pieces = new ArrayList<>();
    for (int i = 0; i < longSubscribe.length; i += 1000) {
      pieces.add(java.util.Arrays.copyOfRange(longSubscribe, i, Math.min(longSubscribe.length, i + 1000)));
    }
    assertThat(sendConnected("gas-207", 4, pieces.toArray(new byte[0][]))).isEmpty();
    await().atMost(Duration.ofSeconds(10)).until(() -> payloads("gas-207", "mqtt:malformed").size() == 1);
    assertThat(payloads("gas-207", "mqtt:malformed").get(0)).isEqualTo(java.util.Arrays.copyOf(longSubscribe, 4096));

    byte[] payload = new byte[20_000];
    java.util.Arrays.fill(payload, (byte) 'p');
    byte[] badTopic = RawMqtt.publish(bytes('d', 0xC3, 0x28), 0, 0, payload, false);
    try {
      sendConnected("gas-209", 4, badTopic);
    } catch (java.net.SocketException resetWhileWriting) {
      // the server closes as soon as it has read the topic
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> payloads("gas-209", "mqtt:malformed").size() == 1);
    byte[] kept = payloads("gas-209", "mqtt:malformed").get(0);
    assertThat(kept.length).isBetween(7, 4096);
    assertThat(kept).isEqualTo(java.util.Arrays.copyOf(badTopic, kept.length));
    counterMatchesTable();
  }

  /**
   * A packet only a server sends (CONNACK, SUBACK, UNSUBACK, PINGRESP) from a connected device is
   * a protocol error (MQTT 5.0 4.13.2: DISCONNECT 0x82; 3.1.1 4.8: closed), counted and kept.
   */
  @Test
  void packetsOnlyAServerSendsAreProtocolErrorsAndKept() throws Exception {
    double rejectsBefore = ingest.counter("safegrid.mqtt.rejects", "protocol_error");
    byte[] connack = bytes(0x20, 0x02, 0x00, 0x00);
    byte[] pingresp = bytes(0xD0, 0x00);
    byte[] suback5 = bytes(0x90, 0x04, 0x00, 0x01, 0x00, 0x00);
    assertThat(sendConnected("gas-208", 4, connack)).isEmpty();
    assertThat(sendConnected("gas-208", 4, concat(bytes(0xC0, 0x00), pingresp))).containsExactly(0xD0, 0x00);
    assertThat(sendConnected("gas-208", 5, suback5)).startsWith(0xE0, 0x02, 0x82);
    await().atMost(Duration.ofSeconds(10)).until(() -> payloads("gas-208", "mqtt:protocol_error").size() == 3);
    assertThat(payloads("gas-208", "mqtt:protocol_error")).containsExactly(connack, pingresp, suback5);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE source = 'mqtt:protocol_error' AND device_id = 'gas-208'"
        + " AND reason LIKE 'MQTT protocol error (%): a % goes from a server to a client, never to a server%'"))
        .isEqualTo(3);
    assertThat(ingest.counter("safegrid.mqtt.rejects", "protocol_error") - rejectsBefore).isEqualTo(3);
    counterMatchesTable();
  }

  /**
   * Newcomer5 F5: a second CONNECT (a protocol error, MQTT 3.1.1 / 5.0 3.1.0-2) and a PUBLISH with
   * an empty topic (3.1.1 4.7.3-1, 5.0 3.3.2.1) from a connected device close the connection (MQTT
   * 5: DISCONNECT 0x82) and are counted and kept like any malformed packet, with their first bytes;
   * of the CONNECT only its header, never the password it carries.
   */
  @Test
  void aSecondConnectAndAnEmptyTopicAreKeptWithTheirFirstBytes() throws Exception {
    double protocolBefore = ingest.counter("safegrid.mqtt.rejects", "protocol_error");
    double malformedBefore = ingest.counter("safegrid.mqtt.rejects", "malformed");
    byte[] connect4 = RawMqtt.connectPacket("gas-210", "demo-gas-210", 60, 4);
    byte[] connect5 = RawMqtt.connectPacket("gas-210", "demo-gas-210", 60, 5);
    byte[] reading = "{\"values\":{\"gas_lel\":3}}".getBytes(StandardCharsets.UTF_8);
    byte[] emptyTopic4 = RawMqtt.publish(new byte[0], 1, 7, reading, false);
    byte[] emptyTopic5 = RawMqtt.publish(new byte[0], 1, 7, reading, true);

    assertThat(sendConnected("gas-210", 4, connect4)).isEmpty();
    assertThat(sendConnected("gas-210", 5, connect5)).startsWith(0xE0, 0x02, 0x82);
    assertThat(sendConnected("gas-210", 4, emptyTopic4)).as("no PUBACK, closed").isEmpty();
    assertThat(sendConnected("gas-210", 5, emptyTopic5)).startsWith(0xE0, 0x02, 0x82);

    await().atMost(Duration.ofSeconds(10)).until(() ->
        payloads("gas-210", "mqtt:protocol_error").size() == 2 && payloads("gas-210", "mqtt:malformed").size() == 2);
    // fixed header, protocol name, level, flags, keepalive: 12 bytes; no client id, user name or password
    assertThat(payloads("gas-210", "mqtt:protocol_error"))
        .containsExactly(java.util.Arrays.copyOf(connect4, 12), java.util.Arrays.copyOf(connect5, 12));
    assertThat(payloads("gas-210", "mqtt:malformed")).containsExactly(emptyTopic4, emptyTopic5);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-210' AND reason LIKE"
        + " 'MQTT protocol error (CONNECT, first byte 0x10): a second CONNECT on a connected session%"
        + "kept its first 12 bytes (at most 4096, its header only: client id, will, user name and password are not kept)'"))
        .isEqualTo(2);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-210' AND reason LIKE"
        + " 'malformed MQTT packet (PUBLISH, first byte 0x32): PUBLISH with an empty topic name%'")).isEqualTo(2);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-210'"
        + " AND reason LIKE '%MQTT 5.0 4.13: DISCONNECT 0x82%'")).isEqualTo(2);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE position(convert_to('demo-gas-210', 'UTF8') in payload) > 0"))
        .as("no secret in dead_letters").isZero();
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'gas-210'")).isZero();
    await().atMost(Duration.ofSeconds(3)).untilAsserted(() -> {
      assertThat(ingest.counter("safegrid.mqtt.rejects", "protocol_error") - protocolBefore).isEqualTo(2);
      assertThat(ingest.counter("safegrid.mqtt.rejects", "malformed") - malformedBefore).isEqualTo(2);
    });
    counterMatchesTable();
  }

  /**
   * Newcomer5 F6: a device sending 300 PUBLISH packets to another device's topic gets each one
   * counted and kept, but one INFO line, not 300 (the rest go into a summary line a minute).
   */
  @Test
  void aclRefusalsAreAllCountedAndKeptButLoggedOncePerDevice() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(AclRefusalLog.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    try {
      double before = ingest.counter("safegrid.mqtt.rejects", "acl_publish");
      ByteArrayOutputStream burst = new ByteArrayOutputStream();
      for (int i = 0; i < 300; i++) {
        burst.writeBytes(RawMqtt.publish("devices/gas-201/telemetry".getBytes(StandardCharsets.UTF_8), 0, 0,
            ("{\"values\":{\"gas_lel\":" + i + "}}").getBytes(StandardCharsets.UTF_8), true));
      }
      burst.writeBytes(bytes(0xC0, 0x00)); // PINGREQ: answered once the 300 before it were taken
      try (Socket s = RawMqtt.connect(server.port(), "gas-211", "demo-gas-211", 60, 5)) {
        s.getOutputStream().write(burst.toByteArray());
        assertThat(RawMqtt.readPacket(s.getInputStream())).as("MQTT 5: refused, the connection stays")
            .containsExactly(0xD0, 0x00);
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> ingest.rows("SELECT count(*) FROM dead_letters"
          + " WHERE device_id = 'gas-211' AND source = 'mqtt:devices/gas-201/telemetry'") == 300);
      await().atMost(Duration.ofSeconds(3)).until(() -> ingest.counter("safegrid.mqtt.rejects", "acl_publish") - before == 300);
      assertThat(lines.list).filteredOn(e -> e.getFormattedMessage().contains("gas-211")).singleElement()
          .satisfies(e -> assertThat(e.getFormattedMessage())
              .startsWith("device gas-211: PUBLISH to devices/gas-201/telemetry refused (not its topic)"));
    } finally {
      logger.detachAppender(lines);
    }
    counterMatchesTable();
  }

  /**
   * Before CONNACK no device is known: a malformed packet (here garbage in the same write as the
   * CONNECT, decoded before the credentials are checked) is counted and closes the connection, but
   * nothing is kept, so neither the CONNECT's password nor an anonymous sender's bytes reach the
   * table.
   */
  @Test
  void garbageBeforeConnackIsCountedButNotKept() throws Exception {
    double rejectsBefore = ingest.counter("safegrid.mqtt.rejects", "malformed");
    try (Socket s = new Socket("127.0.0.1", server.port())) {
      s.getOutputStream().write(concat(RawMqtt.connectPacket("gas-204", "demo-gas-204", 60, 4),
          "garbage".getBytes(StandardCharsets.US_ASCII)));
      RawMqtt.readUntilClosed(s, 5000);
    }
    await().atMost(Duration.ofSeconds(3)).until(() ->
        ingest.counter("safegrid.mqtt.rejects", "malformed") - rejectsBefore == 1);
    Thread.sleep(300);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id IS NULL")).isZero();
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE position(convert_to('demo-gas-204', 'UTF8') in payload) > 0"))
        .isZero();
  }
}
