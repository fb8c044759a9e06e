package io.safegrid.gateway.e2e;

import java.nio.charset.StandardCharsets;
import org.eclipse.paho.mqttv5.client.IMqttToken;
import org.eclipse.paho.mqttv5.client.MqttAsyncClient;
import org.eclipse.paho.mqttv5.client.MqttConnectionOptions;
import org.eclipse.paho.mqttv5.client.persist.MemoryPersistence;

/**
 * A device of the shipped demo site as a test drives it over MQTT 5 (Paho): username = device id,
 * password = its demo secret {@code demo-{id}} (contract: demo only).
 */
public final class DemoDevice {

  private DemoDevice() {}

  /**
   * Connects as the device (client id {@code clientPrefix + device}), sends one QoS 1 PUBLISH on
   * {@code devices/{device}/{topic}}, waits for its PUBACK and disconnects.
   *
   * @param uri the gateway's MQTT URI, e.g. {@code tcp://127.0.0.1:1883}
   * @param topic {@code telemetry}, {@code events} or {@code status}
   * @return the PUBACK's reason code (0 success, 0x99 payload format invalid)
   */
  public static int publish(String uri, String clientPrefix, String device, String topic, String payload)
      throws Exception {
    MqttAsyncClient c = new MqttAsyncClient(uri, clientPrefix + device, new MemoryPersistence());
    MqttConnectionOptions o = new MqttConnectionOptions();
    o.setUserName(device);
    o.setPassword(("demo-" + device).getBytes(StandardCharsets.UTF_8));
    c.connect(o).waitForCompletion(10_000);
    try {
      IMqttToken sent = c.publish("devices/" + device + "/" + topic, payload.getBytes(StandardCharsets.UTF_8), 1, false);
      sent.waitForCompletion(10_000);
      return sent.getReasonCodes()[0];
    } finally {
      c.disconnect().waitForCompletion(10_000);
      c.close();
    }
  }
}
