package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The MQTT server on Netty's native epoll transport (the default on Linux) and on the JDK's NIO
 * (forced): a QoS 1 PUBLISH reaches the sink and is acknowledged on both.
 */
class MqttTransportTest {

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void aQos1PublishIsStoredAndAcknowledgedOnEitherTransport(boolean nativeTransport) throws Exception {
    RecordingIngestSink sink = new RecordingIngestSink();
    try (MqttTestSupport mqtt = new MqttTestSupport(sink, MqttLimits.defaults(), nativeTransport)) {
      // this build ships the linux-x86_64 native library: on such a machine epoll must load
      boolean linuxX64 = System.getProperty("os.name").startsWith("Linux")
          && System.getProperty("os.arch").matches("amd64|x86_64");
      String expected = nativeTransport && linuxX64 ? "epoll" : "nio";
      assertThat(mqtt.server.transport()).as("cause if epoll is missing: %s",
          MqttTransport.epollUnavailabilityCause()).isEqualTo(expected);

      MqttClient c = new MqttClient(mqtt.tcpUrl(), "gas-001-" + expected, new MemoryPersistence());
      c.setTimeToWait(10_000);
      c.connect(MqttServerTest.v3Options("gas-001", "s-gas-001"));
      try {
        // publish() of a QoS 1 message returns once its PUBACK came back
        c.publish("devices/gas-001/telemetry", "{\"values\":{\"gas_lel\":3.5}}".getBytes(StandardCharsets.UTF_8), 1, false);
      } finally {
        c.disconnect();
        c.close(true);
      }
      await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-001") == 1);
      assertThat(mqtt.registry.get("safegrid.mqtt.puback.latency").timer().count()).isEqualTo(1);
    }
  }
}
