package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.netty.handler.codec.mqtt.MqttVersion;
import io.safegrid.sim.link.DeviceLink;
import io.safegrid.sim.link.netty.NettyMqttClients;
import io.safegrid.sim.link.netty.NettyMqttLink;
import io.safegrid.sim.scenario.ScenarioRunner;
import io.safegrid.sim.scenario.ScenarioSpec;
import io.safegrid.sim.site.SimDevice;
import io.safegrid.sim.site.SiteFile;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulator against the real gateway: the shaded gateway jar (built by the reactor before this
 * module's tests) runs as a process on a fresh TimescaleDB database with the Dongnan site, ports
 * 0. A short Dongnan scenario ends with the expected alarms; the load mode writes a summary with
 * the acked rate, PUBACK (CoAP 2.04) latency and publish-to-alarm latency. Devices talk as the
 * shipped scenario says: gas alarms MQTT 3.1.1, fire panels MQTT 5, river gauges CoAP.
 *
 * <p>Skipped when the gateway jar has not been built ({@code mvn -pl device-sim} alone) or psql is
 * missing. Server: {@code SAFEGRID_TEST_DB_URL} or the local TimescaleDB.
 */
class GatewayEndToEndSimTest {

  static final Path GATEWAY_JAR = Path.of("..", "gateway", "target", "safegrid-gateway.jar");
  static final Pattern LISTENING = Pattern.compile(
      "SafeGrid listening: mqtt=(\\S+) coap=(\\S+) coaps=(\\S+) http=(\\S+)");

  @TempDir static Path dir;
  static Process gateway;
  static String database;
  static int mqttPort;
  static int coapPort;
  static int httpPort;

  @BeforeAll
  static void startGateway() throws Exception {
    assumeThat(Files.isRegularFile(GATEWAY_JAR)).as("gateway jar built (full reactor)").isTrue();
    assumeThat(Files.isExecutable(Path.of("/usr/bin/psql"))).as("psql installed").isTrue();
    database = "gatewayendtoendsimtest_" + Long.toHexString(System.nanoTime());
    psql("CREATE DATABASE " + database);
    String site = Files.readString(ScenarioSpecTest.SITE)
        .replace("broker_url: tcp://127.0.0.1:1884", "broker_url: null")
        .replace("spool_dir: var/spool", "spool_dir: " + dir.resolve("spool"));
    Path config = dir.resolve("site.yaml");
    Files.writeString(config, site);
    ProcessBuilder pb = new ProcessBuilder("java", "-jar", GATEWAY_JAR.toAbsolutePath().toString(),
        "--config", config.toString()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("SAFEGRID_DB_URL", serverUrl().replaceAll("/[^/?]*(\\?.*)?$", "/" + database));
    env.put("SAFEGRID_DB_USER", "safegrid");
    env.put("SAFEGRID_DB_PASSWORD", "safegrid");
    env.put("SAFEGRID_MQTT_PORT", "0");
    env.put("SAFEGRID_COAP_PORT", "0");
    env.put("SAFEGRID_COAPS_PORT", "0");
    env.put("SAFEGRID_HTTP_PORT", "0");
    gateway = pb.start();
    CompletableFuture<Matcher> ports = new CompletableFuture<>();
    Path log = dir.resolve("gateway.log");
    Thread pump = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(gateway.getInputStream(), StandardCharsets.UTF_8));
          var out = Files.newBufferedWriter(log)) {
        String line;
        while ((line = in.readLine()) != null) {
          out.write(line);
          out.newLine();
          out.flush();
          Matcher m = LISTENING.matcher(line);
          if (m.find()) {
            ports.complete(m);
          }
        }
        ports.completeExceptionally(new IllegalStateException("gateway exited: " + Files.readString(log)));
      } catch (Exception e) {
        ports.completeExceptionally(e);
      }
    }, "gateway-log");
    pump.setDaemon(true);
    pump.start();
    Matcher m = ports.get(120, TimeUnit.SECONDS);
    mqttPort = Integer.parseInt(m.group(1));
    coapPort = Integer.parseInt(m.group(2));
    httpPort = Integer.parseInt(m.group(4));
  }

  @AfterAll
  static void stopGateway() throws Exception {
    if (gateway != null) {
      gateway.destroy();
      if (!gateway.waitFor(20, TimeUnit.SECONDS)) {
        gateway.destroyForcibly();
      }
    }
    if (database != null) {
      psql("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
    }
  }

  @Test
  void shortDongnanScenarioEndsWithTheExpectedAlarms() throws Exception {
    ScenarioSpec spec = ScenarioSpec.read(ScenarioSpecTest.SCENARIO)
        .withSpeed(300).withDuration(75);
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    new ScenarioRunner(spec, SiteFile.devices(ScenarioSpecTest.SITE), "tcp://127.0.0.1:" + mqttPort,
        "coap://127.0.0.1:" + coapPort, new PrintStream(log, true, StandardCharsets.UTF_8)).run();
    System.out.println(log.toString(StandardCharsets.UTF_8));

    Set<String> alarms = new HashSet<>();
    for (JsonNode a : api("/api/alarms")) {
      alarms.add(a.path("deviceId").asText() + " " + a.path("ruleId").asText());
    }
    assertThat(alarms).contains(
        "gas-022 gas-lel-threshold",
        "fire-languang-xiangjiang fire-panel-fire",
        "fire-nanmen-3 fire-panel-mains-fault",
        "river-jialing-2 river-level-threshold");
    assertThat(alarms).doesNotContain("gas-023 gas-lel-threshold", "river-jialing-1 river-level-threshold");
    assertThat(log.toString(StandardCharsets.UTF_8)).contains("gas-065 with a wrong secret: refused (");
  }

  @Test
  void loadAgainstTheGatewayWritesTheFigures() throws Exception {
    Path summary = dir.resolve("load.json");
    int exit = SimMain.run("load", "--site", ScenarioSpecTest.SITE.toString(),
        "--mqtt", "tcp://127.0.0.1:" + mqttPort, "--coap", "coap://127.0.0.1:" + coapPort,
        "--mix", "1:1:1", "--devices", "42", "--rate", "120",
        "--qos", "1", "--duration", "12", "--warmup", "1", "--api", "http://127.0.0.1:" + httpPort,
        "--token", "demo-viewer-token", "--probe-transport", "coap", "--probe-devices", "3",
        "--probe-interval-ms", "1500", "--probe-samples", dir.resolve("alarm.csv").toString(),
        "--probe-annunciation-samples", dir.resolve("annunciation.csv").toString(),
        "--summary", summary.toString());

    assertThat(exit).isZero();
    JsonNode s = new ObjectMapper().readTree(summary.toFile());
    assertThat(s.path("acked").asLong()).isGreaterThan(500).isEqualTo(s.path("sent").asLong());
    assertThat(s.path("byTransport").path("v3").asLong()).isPositive();
    assertThat(s.path("byTransport").path("v5").asLong()).isPositive();
    assertThat(s.path("byTransport").path("coap").asLong()).isPositive();
    assertThat(s.path("ackLatencyMs").path("p99").asDouble()).isPositive();
    assertThat(s.path("alarmLatencyMs").path("count").asLong()).as("probe alarms seen on /api/live").isPositive();
    assertThat(s.path("alarmLatencyMs").path("p50").asDouble()).isPositive();
    // three probes, each crossing every 1.5 s from 2 s in: about 20 crossings in 12 s
    assertThat(s.path("probe").path("devices")).hasSize(3);
    assertThat(s.path("probe").path("devices").toString()).contains("gas-117", "gas-116", "gas-115");
    assertThat(s.path("probe").path("crossings").asLong()).isGreaterThanOrEqualTo(15);
    // CoAP keeps no order between a device's requests: while the freshly started gateway is slow,
    // a clear may overtake its crossing (then no alarm); most crossings still give a sample
    System.out.println(s.path("probe"));
    assertThat(s.path("alarmLatencyMs").path("count").asLong()).as("alarm events matched to crossings")
        .isGreaterThanOrEqualTo(s.path("probe").path("crossings").asLong() / 2)
        .isLessThanOrEqualTo(s.path("probe").path("crossings").asLong());
    // each crossing is timed apart to its event: annunciation (the rule engine's decision, before
    // the ledger's commit), which this gateway sends ahead of the ledger's event: alarm on the same
    // stream: as many annunciations as alarms, and each read no later than its alarm (in the same
    // socket read when both came at once)
    assertThat(s.path("annunciationLatencyMs").path("count").asLong()).as("publish-to-annunciation samples")
        .isEqualTo(s.path("probe").path("annunciationSamples").asLong())
        .isGreaterThanOrEqualTo(s.path("alarmLatencyMs").path("count").asLong())
        .isLessThanOrEqualTo(s.path("probe").path("crossings").asLong());
    assertThat(s.path("probe").path("annunciationUnmatched").asLong()).isZero();
    java.util.Map<String, Long> annunciationRead = new java.util.HashMap<>();
    for (String line : Files.readAllLines(dir.resolve("annunciation.csv"))) {
      String[] c = line.split(",");
      annunciationRead.put(c[0] + "," + c[1], Long.parseLong(c[4]));
    }
    List<String> alarmLines = Files.readAllLines(dir.resolve("alarm.csv"));
    assertThat(alarmLines).hasSize(s.path("alarmLatencyMs").path("count").asInt());
    for (String line : alarmLines) {
      String[] c = line.split(",");
      assertThat(annunciationRead.get(c[0] + "," + c[1])).as("the annunciation of crossing %s, read by its alarm", line)
          .isNotNull().isLessThanOrEqualTo(Long.parseLong(c[4]));
    }
  }

  @Test
  void nettyLinkWithAWrongSecretIsRefusedAndTheRightOneGetsPubacksAnd0x99ForGarbage() throws Exception {
    String uri = "tcp://127.0.0.1:" + mqttPort;
    SimDevice gas = new SimDevice("gas-101", "gas_alarm", "demo-gas-101", "gas-101", null, null, 60);
    try (NettyMqttClients clients = new NettyMqttClients(1, 30, 30_000)) {
      for (MqttVersion v : List.of(MqttVersion.MQTT_3_1_1, MqttVersion.MQTT_5)) {
        NettyMqttLink wrong = clients.open(uri, gas, "not-the-secret", v);
        assertThatThrownBy(() -> wrong.connect().get(30, TimeUnit.SECONDS))
            .isInstanceOf(ExecutionException.class)
            .cause().isInstanceOf(DeviceLink.Refused.class)
            .hasMessageStartingWith("gas-101 refused: CONNACK 0x");
        assertThat(wrong.isConnected()).isFalse();
      }
      NettyMqttLink v5 = clients.open(uri, gas, gas.secret(), MqttVersion.MQTT_5);
      v5.connect().get(30, TimeUnit.SECONDS);
      v5.publish("telemetry", ("{\"ts\":" + System.currentTimeMillis() + ",\"values\":{\"gas_lel\":1.0}}")
          .getBytes(StandardCharsets.UTF_8), 1).get(30, TimeUnit.SECONDS);
      assertThatThrownBy(() -> v5.publish("telemetry", "not json".getBytes(StandardCharsets.UTF_8), 1)
          .get(30, TimeUnit.SECONDS))
          .cause().isInstanceOf(DeviceLink.Refused.class).hasMessageContaining("0x99");
      v5.close();
    }
  }

  private static JsonNode api(String path) throws Exception {
    HttpResponse<String> r = HttpClient.newHttpClient().send(
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + httpPort + path))
            .header("Authorization", "Bearer demo-viewer-token").build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(200);
    JsonNode body = new ObjectMapper().readTree(r.body());
    return body.isArray() ? body : body.path("alarms").isArray() ? body.path("alarms") : body.path("items");
  }

  private static String serverUrl() {
    String url = System.getenv("SAFEGRID_TEST_DB_URL");
    return url == null || url.isBlank() ? "jdbc:postgresql://127.0.0.1:55432/safegrid" : url;
  }

  private static void psql(String sql) throws Exception {
    Matcher m = Pattern.compile("jdbc:postgresql://([^:/]+):(\\d+)/").matcher(serverUrl());
    if (!m.find()) {
      throw new IllegalStateException("cannot read host and port from " + serverUrl());
    }
    ProcessBuilder pb = new ProcessBuilder("psql", "-h", m.group(1), "-p", m.group(2), "-U", "safegrid",
        "-d", "postgres", "-v", "ON_ERROR_STOP=1", "-qc", sql).redirectErrorStream(true);
    pb.environment().put("PGPASSWORD", "safegrid");
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (p.waitFor() != 0) {
      throw new IllegalStateException("psql " + sql + ": " + out);
    }
  }
}
