package io.safegrid.gateway.config;

/**
 * MQTT server limits, and the optional TLS listener.
 *
 * @param maxPacketBytes largest accepted MQTT packet, bytes (64 KiB shipped)
 * @param maxConnections most concurrent client connections
 * @param perDeviceRatePerS messages per second one device may publish before being throttled
 * @param tls the MQTT-over-TLS listener, or null for none (the shipped config has none)
 */
public record MqttLimits(int maxPacketBytes, int maxConnections, int perDeviceRatePerS, MqttTlsConfig tls) {

  /** Limits without a TLS listener. */
  public MqttLimits(int maxPacketBytes, int maxConnections, int perDeviceRatePerS) {
    this(maxPacketBytes, maxConnections, perDeviceRatePerS, null);
  }
}
