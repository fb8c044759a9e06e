package io.safegrid.gateway.coap;

import static io.safegrid.gateway.coap.CoapClients.post;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * End to end on a real TimescaleDB: CoAP and CoAPS posts from Californium and from libcoap's
 * coap-client end in {@code readings}; a CON's 2.04 comes only after the commit (the row is
 * there the moment the answer is); bad JSON ends in {@code dead_letters}.
 */
class CoapToTimescaleTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @TempDir static Path spool;

  private static IngestOnTestDatabase ingest;
  private static CoapIngestServer server;

  @BeforeAll
  static void start() {
    ingest = new IngestOnTestDatabase(db, spool);
    server = TestDevices.server(CoapSettings.defaults().onLoopbackFreePorts(), ingest);
  }

  @AfterAll
  static void stop() {
    if (ingest != null) {
      ingest.close(); // the server, then the store
    }
  }

  @Test
  void con204MeansTheReadingIsCommitted() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-001/telemetry");
    var response = client.advanced(
        post("{\"ts\":\"2026-11-29T08:00:00Z\",\"seq\":7,\"values\":{\"gas_lel\":26.5}}", true, "demo-gas-001"));

    assertThat(response.getCode()).isEqualTo(ResponseCode.CHANGED);
    // no waiting: the 2.04 was sent only once the row was durable
    assertThat(value("gas-001", "gas_lel", "2026-11-29T08:00:00Z")).isEqualTo(26.5);
    client.shutdown();
  }

  @Test
  void nonAndCoapsReachReadings() throws Exception {
    CoapClient non = CoapClients.plain(server.coapPort(), "/devices/gas-002/telemetry");
    non.advanced(post("{\"ts\":\"2026-11-29T08:01:00Z\",\"values\":{\"gas_lel\":3.0}}", false, "demo-gas-002"));
    CoapClient coaps = CoapClients.secure(server.coapsPort(), "/devices/jl-gauge-1/telemetry",
        "jl-gauge-1", "demo-jl-gauge-1");
    var response = coaps.advanced(
        post("{\"ts\":\"2026-11-29T08:02:00Z\",\"values\":{\"water_level_m\":270.85}}", true, null));

    assertThat(response.getCode()).isEqualTo(ResponseCode.CHANGED);
    assertThat(value("jl-gauge-1", "water_level_m", "2026-11-29T08:02:00Z")).isEqualTo(270.85);
    await().atMost(Duration.ofSeconds(10))
        .until(() -> value("gas-002", "gas_lel", "2026-11-29T08:01:00Z") != null);
    non.shutdown();
    coaps.shutdown();
  }

  @Test
  void libcoapClientReachesReadings() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(LibcoapClientTest.coapClient() != null);
    var plain = LibcoapClientTest.run("-m", "post", "-B", "5", "-O", "65003,demo-lg-panel-1",
        "-e", "{\"ts\":\"2026-11-29T08:03:00Z\",\"values\":{\"mains_v\":219.5}}",
        "coap://127.0.0.1:" + server.coapPort() + "/devices/lg-panel-1/telemetry");
    var secure = LibcoapClientTest.run("-m", "post", "-B", "5", "-u", "gas-001", "-k", "demo-gas-001",
        "-e", "{\"ts\":\"2026-11-29T08:04:00Z\",\"values\":{\"gas_lel\":0.7}}",
        "coaps://127.0.0.1:" + server.coapsPort() + "/devices/gas-001/telemetry");

    assertThat(plain.exit()).as(plain.out()).isZero();
    assertThat(secure.exit()).as(secure.out()).isZero();
    assertThat(value("lg-panel-1", "mains_v", "2026-11-29T08:03:00Z")).isEqualTo(219.5);
    assertThat(value("gas-001", "gas_lel", "2026-11-29T08:04:00Z")).isEqualTo(0.7);
  }

  @Test
  void badJsonIs400AndKeptInDeadLetters() throws Exception {
    CoapClient client = CoapClients.plain(server.coapPort(), "/devices/gas-002/events");
    var response = client.advanced(post("{\"event\": ", true, "demo-gas-002"));

    assertThat(response.getCode()).isEqualTo(ResponseCode.BAD_REQUEST);
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery(
            "SELECT source, reason FROM dead_letters WHERE device_id = 'gas-002'")) {
      assertThat(rs.next()).isTrue();
      assertThat(rs.getString("source")).isEqualTo("coap:/devices/gas-002/events");
      assertThat(response.getResponseText()).isEqualTo(rs.getString("reason"));
    }
    client.shutdown();
  }

  private static Double value(String device, String metric, String time) throws Exception {
    try (Connection c = db.dataSource().getConnection();
        Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT value FROM readings WHERE device_id = '" + device
            + "' AND metric = '" + metric + "' AND time = '" + time + "'")) {
      return rs.next() ? rs.getDouble(1) : null;
    }
  }
}
