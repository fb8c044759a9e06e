package io.safegrid.sim.link;

/**
 * Which MQTT client library plays the simulator's MQTT devices: {@link #NETTY} (Netty's MQTT
 * codec, every device on one shared event loop group: the load generator's default) or
 * {@link #PAHO} (Eclipse Paho, four threads per device: the scenario's client, and an option for
 * load).
 */
public enum MqttClientKind {
  NETTY,
  PAHO;

  /**
   * Parses {@code netty} or {@code paho}.
   *
   * @throws IllegalArgumentException for anything else
   */
  public static MqttClientKind parse(String name) {
    return switch (name.trim().toLowerCase()) {
      case "netty" -> NETTY;
      case "paho" -> PAHO;
      default -> throw new IllegalArgumentException("unknown --mqtt-client '" + name + "' (netty, paho)");
    };
  }
}
