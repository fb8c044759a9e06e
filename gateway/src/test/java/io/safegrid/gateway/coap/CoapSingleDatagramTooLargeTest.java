package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Arrays;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * newcomer5 F2, the other side: one plain CoAP datagram (no block1) larger than Californium's
 * default 2,048-byte datagram and over the body bound gets 4.13 with Size1, counted {@code
 * too_large}, and its first 4,096 bytes kept in {@code dead_letters}; one under the bound but over
 * 2,048 bytes is stored (2.04). Before the fix both got no answer at all.
 */
class CoapSingleDatagramTooLargeTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @TempDir static Path spool;

  private static final int MAX_BODY = 6_000;
  private static IngestOnTestDatabase ingest;
  private static CoapIngestServer server;

  @BeforeAll
  static void start() {
    ingest = new IngestOnTestDatabase(db, spool);
    server = TestDevices.server(CoapSettings.defaults().onLoopbackFreePorts().withMaxBodyBytes(MAX_BODY), ingest);
  }

  @AfterAll
  static void stop() {
    if (ingest != null) {
      ingest.close(); // the server, then the store
    }
  }

  private static Response post(String body) throws Exception {
    Request request = CoapClients.post(body, true, "demo-gas-002");
    request.getOptions().setUriPath("/devices/gas-002/telemetry");
    try (RawCoapDevice device = new RawCoapDevice(server.coapPort())) {
      return device.exchange(request);
    }
  }

  private static String padded(double lel, int length) {
    String head = "{\"values\":{\"gas_lel\":" + lel + "},\"text\":\"";
    return head + "x".repeat(length - head.length() - 2) + "\"}";
  }

  @Test
  void oneDatagramOverTheBoundIs413CountedAndKeptOneUnderItIsStored() throws Exception {
    String under = padded(7.5, 5_000);
    Response stored = post(under);
    assertThat(stored).as("an answer to one 5,000-byte body under the 6,000-byte bound").isNotNull();
    assertThat(stored.getCode()).isEqualTo(ResponseCode.CHANGED);

    String over = padded(8.5, 9_000);
    Response refused = post(over);
    assertThat(refused).as("an answer to one 9,000-byte body over the 6,000-byte bound").isNotNull();
    assertThat(refused.getCode()).isEqualTo(ResponseCode.REQUEST_ENTITY_TOO_LARGE);
    assertThat(refused.getOptions().getSize1()).isEqualTo(MAX_BODY);
    assertThat(ingest.counter("safegrid.coap.rejects", "too_large")).isEqualTo(1);

    byte[] firstBytes = Arrays.copyOf(over.getBytes(StandardCharsets.UTF_8), 4096);
    await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      try (Connection c = db.connect();
          PreparedStatement ps = c.prepareStatement("SELECT reason, payload FROM dead_letters"
              + " WHERE device_id = 'gas-002' AND source = 'coap:/devices/gas-002/telemetry'")) {
        ResultSet rs = ps.executeQuery();
        assertThat(rs.next()).as("the oversize body is kept").isTrue();
        assertThat(rs.getString(1)).startsWith("CoAP body of 9000 bytes over the maximum of 6000 bytes");
        assertThat(rs.getBytes(2)).isEqualTo(firstBytes);
        assertThat(rs.next()).as("kept once").isFalse();
      }
      assertThat(ingest.counter("safegrid.coap.dead_letters", "too_large")).isEqualTo(1);
    });
    try (Connection c = db.connect();
        PreparedStatement ps = c.prepareStatement(
            "SELECT value FROM readings WHERE device_id = 'gas-002' AND metric = 'gas_lel'")) {
      ResultSet rs = ps.executeQuery();
      assertThat(rs.next()).isTrue();
      assertThat(rs.getDouble(1)).as("only the body under the bound is stored").isEqualTo(7.5);
      assertThat(rs.next()).isFalse();
    }
  }
}
