package io.safegrid.gateway.e2e;

import io.safegrid.alerting.ledger.BreakableProxy;
import io.safegrid.gateway.config.DatabaseConfig;
import io.safegrid.gateway.config.EmergencyNetworkConfig;
import io.safegrid.gateway.config.GatewayConfig;
import io.safegrid.gateway.config.LoadedConfig;
import io.safegrid.gateway.config.ShippedConfig;
import io.safegrid.gateway.config.StorageConfig;
import io.safegrid.testing.TestDatabase;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.eclipse.paho.mqttv5.client.MqttClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;

/**
 * The shipped site on a test database reached through a {@link BreakableProxy} (the tests of a
 * database outage), and a device publishing to it.
 */
final class ThroughProxy {
  private ThroughProxy() {}

  /**
   * {@code config/dongnan.yaml} ({@link ShippedConfig}) with the database behind {@code proxy}, its
   * own spool, and optionally the emergency network broker and the pool size.
   *
   * @param brokerUri the emergency network broker (shipped client id and topic prefix), or null
   *     to keep the shipped one (nothing listens there in tests)
   * @param poolSize the {@code safegrid} pool's size, or 0 for the shipped one
   */
  static LoadedConfig config(TestDatabase db, BreakableProxy proxy, Path spool, String brokerUri, int poolSize) {
    LoadedConfig shipped = ShippedConfig.onTestDatabase(db);
    GatewayConfig gc = shipped.gateway();
    DatabaseConfig d = gc.database();
    StorageConfig st = gc.storage();
    gc = gc
        .withDatabase(new DatabaseConfig("jdbc:postgresql://127.0.0.1:" + proxy.port() + "/" + db.name(),
            d.user(), d.password(), poolSize > 0 ? poolSize : d.poolSize()))
        .withStorage(new StorageConfig(spool.toString(), st.spoolMaxBytes(), st.batchSize(), st.batchWindowMs()));
    if (brokerUri != null) {
      EmergencyNetworkConfig en = gc.emergencyNetwork();
      gc = gc.withEmergencyNetwork(new EmergencyNetworkConfig(
          brokerUri, en.clientId(), en.topicPrefix(), en.username(), en.password()));
    }
    return new LoadedConfig(shipped.file(), shipped.site(), gc);
  }

  /** Publishes telemetry at QoS 1 as the device (MQTT 5, secret {@code demo-<id>}); returns once the PUBACK came. */
  static void publish(String uri, String device, String payload) throws Exception {
    MqttClient c = new MqttClient(uri, device, new MemoryPersistence());
    c.setTimeToWait(30_000);
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o);
    try {
      c.publish("devices/" + device + "/telemetry", payload.getBytes(StandardCharsets.UTF_8), 1, false);
    } finally {
      c.disconnect();
      c.close();
    }
  }
}
