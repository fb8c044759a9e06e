package io.safegrid.gateway.config;

/**
 * MQTT server limits.
 *
 * @param maxPacketBytes largest accepted MQTT packet, bytes (64 KiB shipped)
 * @param maxConnections most concurrent client connections
 * @param perDeviceRatePerS messages per second one device may publish before being throttled
 */
public record MqttLimits(int maxPacketBytes, int maxConnections, int perDeviceRatePerS) {}
