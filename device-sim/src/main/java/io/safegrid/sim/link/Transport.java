package io.safegrid.sim.link;

import io.netty.handler.codec.mqtt.MqttVersion;
import io.safegrid.sim.link.netty.NettyMqttClients;
import io.safegrid.sim.site.SimDevice;
import org.eclipse.californium.core.network.Endpoint;

/** How a simulated device talks: MQTT 3.1.1, MQTT 5, or CoAP (plain or DTLS, by the URI). */
public enum Transport {
  V3,
  V5,
  COAP;

  /** Parses {@code v3}, {@code v5}, {@code mqtt} (= v3), {@code coap}. */
  public static Transport parse(String name) {
    return switch (name.trim().toLowerCase()) {
      case "v3", "mqtt", "mqtt3" -> V3;
      case "v5", "mqtt5" -> V5;
      case "coap", "coaps" -> COAP;
      default -> throw new IllegalArgumentException("unknown transport '" + name + "' (v3, v5, coap)");
    };
  }

  /**
   * Opens a link for {@code device}.
   *
   * @param mqttUri broker URI for V3/V5
   * @param coapUri gateway URI for COAP
   * @param password the secret presented
   * @param sharedCoap shared plain CoAP endpoint or null
   */
  public DeviceLink open(
      String mqttUri, String coapUri, SimDevice device, String password, Endpoint sharedCoap) {
    return open(mqttUri, coapUri, device, password, sharedCoap, null);
  }

  /**
   * Opens a link for {@code device}; MQTT on Netty's codec when {@code netty} is given (shared
   * event loops, for load), else on Paho (a client with its own threads per device).
   *
   * @param netty the shared Netty MQTT event loops, or null for Paho
   */
  public DeviceLink open(String mqttUri, String coapUri, SimDevice device, String password,
      Endpoint sharedCoap, NettyMqttClients netty) {
    if (netty != null && this != COAP) {
      return netty.open(mqttUri, device, password, this == V5 ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1);
    }
    return switch (this) {
      case V3 -> new MqttV3Link(mqttUri, device, password, 1000);
      case V5 -> new MqttV5Link(mqttUri, device, password);
      case COAP -> new CoapLink(coapUri, device, password, sharedCoap);
    };
  }
}
