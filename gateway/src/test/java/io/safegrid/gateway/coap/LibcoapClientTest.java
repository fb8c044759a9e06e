package io.safegrid.gateway.coap;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.ingest.IngestListener;
import io.safegrid.gateway.ingest.IngestService;
import io.safegrid.model.Reading;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.groups.Tuple;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The foreign client: libcoap's {@code coap-client} (Debian libcoap3-bin) posts to the gateway
 * over plain CoAP (secret in option 65003 or {@code ?s=}) and over CoAPS with DTLS PSK ({@code -u
 * id -k secret}).
 */
class LibcoapClientTest {

  private final RecordingReadingStore store = new RecordingReadingStore();
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private CoapIngestServer server;

  /** {@code coap-client}, or the TLS-flavoured binaries Debian ships when no alternative is set. */
  static String coapClient() {
    for (String candidate :
        List.of("/usr/bin/coap-client", "/usr/bin/coap-client-openssl", "/usr/bin/coap-client-gnutls")) {
      if (Files.isExecutable(Path.of(candidate))) {
        return candidate;
      }
    }
    return null;
  }

  record Run(int exit, String out) {}

  static Run run(String... args) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(coapClient());
    command.addAll(List.of(args));
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    if (!process.waitFor(30, TimeUnit.SECONDS)) {
      process.destroyForcibly();
      throw new AssertionError("coap-client hung: " + command);
    }
    String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Run(process.exitValue(), out);
  }

  @BeforeEach
  void start() {
    assumeThat(coapClient()).as("libcoap3-bin coap-client installed").isNotNull();
    server =
        new CoapIngestServer(
            CoapSettings.defaults().onLoopbackFreePorts(),
            new IngestService(store, IngestListener.NONE, registry),
            TestDevices::secret,
            TestDevices::type,
            registry);
    server.start();
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
  }

  @Test
  void plainCoapWithSecretOption() throws Exception {
    Run run =
        run("-m", "post", "-B", "5", "-O", DeviceSecretOption.NUMBER + ",demo-gas-001",
            "-e", "{\"ts\":1764403200000,\"values\":{\"gas_lel\":3.5,\"battery_pct\":87}}",
            "coap://127.0.0.1:" + server.coapPort() + "/devices/gas-001/telemetry");

    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(store.readings)
        .extracting(Reading::deviceId, Reading::metric, Reading::value)
        .containsExactlyInAnyOrder(
            Tuple.tuple("gas-001", "gas_lel", 3.5), Tuple.tuple("gas-001", "battery_pct", 87.0));
  }

  @Test
  void plainCoapWithSecretInQuery() throws Exception {
    Run run =
        run("-m", "post", "-B", "5", "-e", "{\"values\":{\"gas_lel\":0.4}}",
            "coap://127.0.0.1:" + server.coapPort() + "/devices/gas-002/telemetry?s=demo-gas-002");

    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(store.readings).extracting(Reading::deviceId).containsExactly("gas-002");
  }

  @Test
  void plainCoapWithWrongSecretShows401() throws Exception {
    Run run =
        run("-m", "post", "-B", "5", "-O", DeviceSecretOption.NUMBER + ",guess",
            "-e", "{\"values\":{\"gas_lel\":0.4}}",
            "coap://127.0.0.1:" + server.coapPort() + "/devices/gas-001/telemetry");

    assertThat(run.out()).contains("4.01");
    assertThat(store.readings).isEmpty();
  }

  @Test
  void coapsWithPsk() throws Exception {
    Run run =
        run("-m", "post", "-B", "5", "-u", "jl-gauge-1", "-k", "demo-jl-gauge-1",
            "-e", "{\"values\":{\"water_level_m\":270.81}}",
            "coaps://127.0.0.1:" + server.coapsPort() + "/devices/jl-gauge-1/telemetry");

    assertThat(run.exit()).as(run.out()).isZero();
    assertThat(store.readings)
        .extracting(Reading::deviceId, Reading::metric, Reading::value)
        .containsExactly(Tuple.tuple("jl-gauge-1", "water_level_m", 270.81));
  }

  @Test
  void coapsWithWrongPskIsRefused() throws Exception {
    Run run =
        run("-m", "post", "-B", "3", "-u", "jl-gauge-1", "-k", "wrong-key",
            "-e", "{\"values\":{\"water_level_m\":270.81}}",
            "coaps://127.0.0.1:" + server.coapsPort() + "/devices/jl-gauge-1/telemetry");

    assertThat(run.out()).doesNotContain("2.04");
    assertThat(store.readings).isEmpty();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).untilAsserted(() ->
        assertThat(registry.counter("safegrid.coap.rejects", "reason", "dtls_handshake").count())
            .as("a foreign stack's failed handshake is counted too").isGreaterThanOrEqualTo(1.0));
  }

  @Test
  void wrongMethodAndUnknownPathAreCounted() throws Exception {
    String base = "coap://127.0.0.1:" + server.coapPort();
    assertThat(run("-m", "get", "-B", "3", base + "/devices/gas-001/telemetry").out()).contains("4.05");
    assertThat(run("-m", "post", "-B", "3", "-e", "{}", base + "/nothing/here").out()).contains("4.04");
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "method_not_allowed").count()).isEqualTo(1.0);
    assertThat(registry.counter("safegrid.coap.rejects", "reason", "not_found").count()).isEqualTo(1.0);
  }
}
