package io.safegrid.gateway.mqtt;

/**
 * Limits of the MQTT server, from the site configuration.
 *
 * @param maxPacketBytes largest MQTT packet accepted, bytes (remaining length); larger ones end the
 *     connection (MQTT 5: DISCONNECT 0x95 packet too large) without being buffered. Sent to MQTT 5
 *     clients as Maximum Packet Size in CONNACK. Default 64 KiB.
 * @param maxConnections open TCP connections at most; further ones are closed at once
 * @param messagesPerSecondPerDevice PUBLISH packets per second per device (sustained; bursts up to
 *     one second's worth); a faster device is slowed by not reading its socket, nothing is dropped
 * @param receiveMaximum PUBLISH packets of one connection being stored at once (QoS 0, 1 and 2);
 *     sent to MQTT 5 clients as Receive Maximum; when full the socket is not read until one is
 *     acknowledged
 * @param connectTimeoutMillis time a new connection has to send CONNECT, ms
 */
public record MqttLimits(
    int maxPacketBytes,
    int maxConnections,
    int messagesPerSecondPerDevice,
    int receiveMaximum,
    long connectTimeoutMillis) {

  /** 64 KiB, the default maximum packet size. */
  public static final int DEFAULT_MAX_PACKET_BYTES = 64 * 1024;

  public MqttLimits {
    if (maxPacketBytes < 128 || maxPacketBytes > 268_435_455) {
      throw new IllegalArgumentException("maxPacketBytes must be 128..268435455, got " + maxPacketBytes);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be >= 1");
    }
    if (messagesPerSecondPerDevice < 1) {
      throw new IllegalArgumentException("messagesPerSecondPerDevice must be >= 1");
    }
    if (receiveMaximum < 1 || receiveMaximum > 65_535) {
      throw new IllegalArgumentException("receiveMaximum must be 1..65535 (MQTT 5.0 3.2.2.3.3)");
    }
    if (connectTimeoutMillis < 1) {
      throw new IllegalArgumentException("connectTimeoutMillis must be >= 1");
    }
  }

  /** 64 KiB packets, 10,000 connections, 100 messages/s per device, 32 inflight, 10 s to CONNECT. */
  public static MqttLimits defaults() {
    return new MqttLimits(DEFAULT_MAX_PACKET_BYTES, 10_000, 100, 32, 10_000);
  }

  public MqttLimits withMaxPacketBytes(int v) {
    return new MqttLimits(v, maxConnections, messagesPerSecondPerDevice, receiveMaximum, connectTimeoutMillis);
  }

  public MqttLimits withMaxConnections(int v) {
    return new MqttLimits(maxPacketBytes, v, messagesPerSecondPerDevice, receiveMaximum, connectTimeoutMillis);
  }

  public MqttLimits withMessagesPerSecondPerDevice(int v) {
    return new MqttLimits(maxPacketBytes, maxConnections, v, receiveMaximum, connectTimeoutMillis);
  }

  public MqttLimits withReceiveMaximum(int v) {
    return new MqttLimits(maxPacketBytes, maxConnections, messagesPerSecondPerDevice, v, connectTimeoutMillis);
  }

  public MqttLimits withConnectTimeoutMillis(long v) {
    return new MqttLimits(maxPacketBytes, maxConnections, messagesPerSecondPerDevice, receiveMaximum, v);
  }
}
