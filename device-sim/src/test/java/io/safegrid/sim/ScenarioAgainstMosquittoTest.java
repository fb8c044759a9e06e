package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.sim.link.Transport;
import io.safegrid.sim.scenario.ScenarioRunner;
import io.safegrid.sim.scenario.ScenarioSpec;
import io.safegrid.sim.site.SiteFile;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The shipped Dongnan scenario, 100 simulated minutes at x1000, every device over MQTT to a real
 * Mosquitto: a subscriber sees the leak cross 25 and 50 %LEL, the fire event, the mains fault,
 * the Jialing flood through 270.80 m, a backlog array and garbage.
 */
class ScenarioAgainstMosquittoTest {

  record Seen(String topic, String payload) {}

  @Test
  void dongnanScenarioPublishesTheIncidents(@TempDir Path dir) throws Exception {
    try (Mosquitto broker = new Mosquitto(dir)) {
      List<Seen> seen = new CopyOnWriteArrayList<>();
      MqttClient watcher = new MqttClient(broker.uri(), "watcher", new MemoryPersistence());
      MqttConnectOptions o = new MqttConnectOptions();
      o.setMaxInflight(1000);
      watcher.connect(o);
      watcher.subscribe("devices/#", 0, (topic, m) ->
          seen.add(new Seen(topic, new String(m.getPayload(), StandardCharsets.UTF_8))));

      ScenarioSpec spec = ScenarioSpec.read(ScenarioSpecTest.SCENARIO)
          .withSpeed(1000).withDuration(100).withTransport("river_gauge", Transport.V3);
      ByteArrayOutputStream log = new ByteArrayOutputStream();
      ScenarioRunner runner = new ScenarioRunner(spec, SiteFile.devices(ScenarioSpecTest.SITE),
          broker.uri(), "coap://127.0.0.1:9", new PrintStream(log, true, StandardCharsets.UTF_8));
      runner.run();
      Thread.sleep(500);
      watcher.disconnect();
      System.out.println(log.toString(StandardCharsets.UTF_8));

      ObjectMapper json = new ObjectMapper();
      double leakMax = max(seen, json, "devices/gas-022/telemetry", "gas_lel");
      double otherGasMax = max(seen, json, "devices/gas-023/telemetry", "gas_lel");
      double floodMax = max(seen, json, "devices/river-jialing-2/telemetry", "water_level_m");
      double calmRiverMax = max(seen, json, "devices/river-jialing-1/telemetry", "water_level_m");
      assertThat(leakMax).isGreaterThan(50);
      assertThat(otherGasMax).isLessThan(10);
      assertThat(floodMax).isGreaterThan(270.80);
      assertThat(calmRiverMax).isLessThan(270.80);
      assertThat(seen).anySatisfy(s -> {
        assertThat(s.topic()).isEqualTo("devices/fire-languang-xiangjiang/events");
        assertThat(s.payload()).contains("\"event\":\"fire\"", "\"zone\":3");
      });
      assertThat(seen).anySatisfy(s -> {
        assertThat(s.topic()).isEqualTo("devices/fire-nanmen-3/events");
        assertThat(s.payload()).contains("mains_fault");
      });
      assertThat(seen).anySatisfy(s -> {
        assertThat(s.topic()).isEqualTo("devices/gas-060/telemetry");
        assertThat(json.readTree(s.payload()).isArray()).isTrue();
        assertThat(json.readTree(s.payload()).size()).isEqualTo(120);
      });
      assertThat(seen).anySatisfy(s -> {
        assertThat(s.topic()).isEqualTo("devices/gas-064/telemetry");
        assertThat(s.payload()).isEqualTo("not json at all");
      });
      // at x1000 the seconds the reconnect storm takes to reconnect 139 clients cost many
      // simulated reports (sent while disconnected, or in flight when dropped, count as failed)
      assertThat(runner.acked.get()).isGreaterThan(runner.sent.get() * 3 / 4);
      assertThat(runner.acked.get() + runner.refused.get() + runner.failed.get()).isEqualTo(runner.sent.get());
      assertThat(log.toString(StandardCharsets.UTF_8)).contains("leak gas-022", "reconnect_storm");
    }
  }

  private static double max(List<Seen> seen, ObjectMapper json, String topic, String metric) throws Exception {
    double max = Double.NEGATIVE_INFINITY;
    for (Seen s : seen) {
      if (s.topic().equals(topic)) {
        JsonNode n = json.readTree(s.payload());
        if (n.isObject() && n.path("values").has(metric)) {
          max = Math.max(max, n.path("values").path(metric).asDouble());
        }
      }
    }
    return max;
  }
}
