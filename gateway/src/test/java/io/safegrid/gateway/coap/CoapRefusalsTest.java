package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.safegrid.gateway.ingest.IngestOnTestDatabase;
import io.safegrid.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every CoAP refusal, from libcoap's {@code coap-client}, on a real TimescaleDB: the right response
 * code, counted in {@code safegrid.coap.rejects}, and, where an authenticated device sent a body,
 * kept in {@code dead_letters} and counted in {@code safegrid.coap.dead_letters}; the counter and
 * the table agree. Requests no device is proven for (unknown device, wrong secret) are answered
 * and counted, not kept.
 */
class CoapRefusalsTest {

  @RegisterExtension static final TestDatabase db = new TestDatabase();
  @TempDir static Path spool;

  private static final int MAX_BODY = 512;
  private static IngestOnTestDatabase ingest;
  private static CoapIngestServer server;

  @BeforeAll
  static void start() {
    Assumptions.assumeTrue(LibcoapClientTest.coapClient() != null, "libcoap3-bin coap-client installed");
    ingest = new IngestOnTestDatabase(db, spool);
    server = TestDevices.server(CoapSettings.defaults().onLoopbackFreePorts().withMaxBodyBytes(MAX_BODY), ingest);
  }

  @AfterAll
  static void stop() {
    if (ingest != null) {
      ingest.close(); // the server, then the store
    }
  }

  private static String plain(String device, String secret, String body) throws Exception {
    return LibcoapClientTest.run("-m", "post", "-B", "5", "-O", DeviceSecretOption.NUMBER + "," + secret,
        "-e", body, "coap://127.0.0.1:" + server.coapPort() + "/devices/" + device + "/telemetry").out();
  }

  @Test
  void everyRefusalHasItsCodeIsCountedAndKeptWhereADeviceSentABody() throws Exception {
    // unknown device, wrong secret: 4.01, counted, nothing kept
    assertThat(plain("gas-999", "demo-gas-999", "{\"values\":{\"gas_lel\":1}}")).contains("4.01");
    assertThat(plain("gas-001", "guess", "{\"values\":{\"gas_lel\":1}}")).contains("4.01");
    assertThat(ingest.counter("safegrid.coap.rejects", "unauthorized")).isEqualTo(2);
    // bad JSON, NaN, an implausible %LEL: 4.00 with the reason in plain words, kept, counted
    assertThat(plain("gas-001", "demo-gas-001", "not json")).contains("4.00")
        .contains("not JSON: unexpected word 'not'");
    assertThat(plain("gas-001", "demo-gas-001", "{\"values\":{\"gas_lel\":NaN}}")).contains("4.00")
        .contains("gas_lel: NaN is not a finite number");
    assertThat(plain("gas-001", "demo-gas-001", "{\"values\":{\"gas_lel\":-40}}")).contains("4.00")
        .contains("gas_lel: -40 %LEL is outside 0-5000 %LEL");
    // oversize: 4.13, the first bytes kept
    String big = "{\"values\":{\"gas_lel\":1},\"text\":\"" + "x".repeat(700) + "\"}";
    assertThat(plain("gas-001", "demo-gas-001", big)).contains("4.13");
    // CoAPS: a device posting to another device's resource: 4.03, kept under the sender
    assertThat(LibcoapClientTest.run("-m", "post", "-B", "5", "-u", "gas-001", "-k", "demo-gas-001",
        "-e", "{\"values\":{\"gas_lel\":44}}",
        "coaps://127.0.0.1:" + server.coapsPort() + "/devices/gas-002/telemetry").out()).contains("4.03");
    // wrong method and path: 4.05 / 4.04 from Californium, counted, before any device is known
    String base = "coap://127.0.0.1:" + server.coapPort();
    assertThat(LibcoapClientTest.run("-m", "put", "-B", "3", "-e", "{}", base + "/devices/gas-001/telemetry").out())
        .contains("4.05");
    assertThat(LibcoapClientTest.run("-m", "post", "-B", "3", "-e", "{}", base + "/devices/gas-001/status").out())
        .contains("4.04");

    await().atMost(Duration.ofSeconds(10)).until(() -> ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-001'") == 5);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-001'"
        + " AND source = 'coap:/devices/gas-001/telemetry'")).isEqualTo(4);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-001'"
        + " AND reason LIKE 'CoAP body of " + big.length() + " bytes over the maximum of 512 bytes%'"
        + " AND payload = convert_to(?, 'UTF8')", big)).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'gas-001'"
        + " AND source = 'coaps:/devices/gas-002/telemetry' AND reason LIKE '%another device''s resource%4.03%'"
        + " AND payload = convert_to('{\"values\":{\"gas_lel\":44}}', 'UTF8')")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id IS NULL OR device_id = 'gas-999'")).isZero();
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id IN ('gas-001', 'gas-002')")).isZero();
    assertThat(ingest.counter("safegrid.coap.rejects", "invalid_payload")).isEqualTo(3);
    assertThat(ingest.counter("safegrid.coap.rejects", "too_large")).isEqualTo(1);
    assertThat(ingest.counter("safegrid.coap.rejects", "forbidden")).isEqualTo(1);
    assertThat(ingest.counter("safegrid.coap.rejects", "method_not_allowed")).isEqualTo(1);
    assertThat(ingest.counter("safegrid.coap.rejects", "not_found")).isEqualTo(1);
    await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
      assertThat(ingest.counter("safegrid.coap.dead_letters", "invalid_payload")).isEqualTo(3);
      assertThat(ingest.counter("safegrid.coap.dead_letters", "too_large")).isEqualTo(1);
      assertThat(ingest.counter("safegrid.coap.dead_letters", "forbidden")).isEqualTo(1);
      double counted = ingest.sum("safegrid.coap.dead_letters");
      assertThat((long) counted).as("counter and table agree")
          .isEqualTo(ingest.rows("SELECT count(*) FROM dead_letters WHERE source LIKE 'coap%'"));
    });
  }

  /** A partly refused body: 2.04, the good fields stored, the body kept and counted once. */
  @Test
  void aPartlyRefusedBodyIsStoredKeptAndCounted() throws Exception {
    String out = LibcoapClientTest.run("-m", "post", "-B", "5", "-O", DeviceSecretOption.NUMBER + ",demo-jl-gauge-1",
        "-e", "{\"values\":{\"water_level_m\":268.2,\"battery_pct\":\"low\"}}",
        "coap://127.0.0.1:" + server.coapPort() + "/devices/jl-gauge-1/telemetry").out();
    assertThat(out).contains("stored 1; refused: battery_pct: the string \"low\" is not a number");
    assertThat(ingest.rows("SELECT count(*) FROM readings WHERE device_id = 'jl-gauge-1'")).isEqualTo(1);
    assertThat(ingest.rows("SELECT count(*) FROM dead_letters WHERE device_id = 'jl-gauge-1'"
        + " AND reason LIKE 'partly refused: battery_pct%'")).isEqualTo(1);
    assertThat(ingest.counter("safegrid.coap.dead_letters", "partly_refused")).isEqualTo(1);
  }
}
