package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code sim load} against a real Mosquitto (no auth) writes a summary with the figures, with
 * either MQTT client (Netty, the default, and Paho).
 */
class LoadAgainstMosquittoTest {

  @TempDir Path dir;
  private Mosquitto broker;

  @BeforeEach
  void start() throws Exception {
    broker = new Mosquitto(dir);
  }

  @AfterEach
  void stop() {
    broker.close();
  }

  @ParameterizedTest
  @ValueSource(strings = {"netty", "paho"})
  void loadWritesSummaryWithAckedRateAndPubackPercentiles(String client) throws Exception {
    Path summary = dir.resolve("out/summary.json");
    PrintStream realOut = System.out;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    int exit;
    try {
      System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
      exit = SimMain.run("load", "--devices", "20", "--rate", "400", "--qos", "1", "--duration", "3",
          "--payload-bytes", "200", "--mix", "1:1:0", "--mqtt", broker.uri(), "--warmup", "1",
          "--mqtt-client", client, "--summary", summary.toString());
    } finally {
      System.setOut(realOut);
    }
    String out = captured.toString(StandardCharsets.UTF_8);
    System.out.println(out);

    assertThat(exit).isZero();
    assertThat(out).contains("[   1s warm-up]", "[   2s]", "[   3s]"); // a progress line every second
    JsonNode s = new ObjectMapper().readTree(summary.toFile());
    assertThat(s.path("connected").asInt()).isEqualTo(20);
    assertThat(s.path("acked").asLong()).isGreaterThan(600).isEqualTo(s.path("sent").asLong());
    assertThat(s.path("failed").asLong()).isZero();
    assertThat(s.path("ackedPerS").asDouble()).isBetween(200.0, 600.0);
    JsonNode lat = s.path("ackLatencyMs");
    assertThat(lat.path("count").asLong()).as("after the warm-up second")
        .isLessThan(s.path("acked").asLong()).isGreaterThan(s.path("acked").asLong() / 2);
    assertThat(lat.path("p50").asDouble()).isPositive();
    assertThat(lat.path("p90").asDouble()).isGreaterThanOrEqualTo(lat.path("p50").asDouble());
    assertThat(lat.path("p99").asDouble()).isGreaterThanOrEqualTo(lat.path("p90").asDouble());
    assertThat(lat.path("p99_9").asDouble()).isGreaterThanOrEqualTo(lat.path("p99").asDouble());
    assertThat(lat.path("max").asDouble()).isGreaterThanOrEqualTo(lat.path("p99_9").asDouble());
    assertThat(s.path("byTransport").path("v3").asLong()).isPositive();
    assertThat(s.path("byTransport").path("v5").asLong()).isPositive();
    assertThat(s.path("alarmLatencyMs").isNull()).as("no --api, no alarm figure").isTrue();
    assertThat(s.path("target").path("payload_bytes").asInt()).isEqualTo(200);
    assertThat(s.path("target").path("mqtt_client").asText()).isEqualTo(client);
    // the Netty devices' socket transport (io_uring / epoll on Linux, as the gateway) and the
    // simulator's own CPU, which shares the cores with what it measures
    assertThat(s.path("target").path("io_transport").asText()).isEqualTo(client.equals("netty")
        ? io.safegrid.sim.link.netty.SocketTransport.fromProperty().label() : "null");
    assertThat(s.path("simulatorCpuS").asDouble()).isPositive();
    assertThat(out).contains("Simulator CPU: ");
    assertThat(s.path("skipped").asLong()).isEqualTo(s.path("skippedBusy").asLong() + s.path("skippedLate").asLong());
    // the pacer issues the target rate: 400/s for 3 s, less what it counted as skipped
    assertThat(s.path("sent").asLong() + s.path("skipped").asLong()).isBetween(1100L, 1300L);
  }

  @Test
  void burstsKeepEveryReadingOfADeviceAtItsOwnTime() throws Exception {
    // the gateway stores (device, metric, time) once: a burst within one millisecond must not
    // turn into duplicates
    List<String> seen = new CopyOnWriteArrayList<>();
    MqttClient subscriber = new MqttClient(broker.uri(), "watcher", new MemoryPersistence());
    MqttConnectOptions o = new MqttConnectOptions();
    o.setMaxInflight(1000);
    subscriber.connect(o);
    subscriber.subscribe("devices/+/telemetry", 0, (topic, m) -> {
      JsonNode r = new ObjectMapper().readTree(m.getPayload());
      seen.add(topic + " " + r.path("ts").asLong());
    });
    PrintStream realOut = System.out;
    int exit;
    try {
      System.setOut(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
      exit = SimMain.run("load", "--devices", "5", "--rate", "2000", "--burst", "8", "--max-in-flight", "16",
          "--duration", "2", "--warmup", "0", "--mqtt", broker.uri());
    } finally {
      System.setOut(realOut);
    }
    Thread.sleep(500);
    subscriber.disconnect();
    assertThat(exit).isZero();
    // 2,000 msg/s for 2 s; on a loaded machine (load average 13-25 while other builds ran) the
    // pacer drops the publishes it runs more than 100 ms late (skippedLate) and 452-1,510 arrived:
    // what matters is that enough bursts went out for a duplicate to show, about 10 per device
    assertThat(seen).hasSizeGreaterThan(400);
    assertThat(seen).as("no two readings of a device at the same ms").doesNotHaveDuplicates();
  }
}
