package io.safegrid.alerting.channel.mqtt;

import java.time.Duration;
import java.util.Objects;

/**
 * The emergency network broker.
 *
 * @param serverUri e.g. {@code tcp://127.0.0.1:1883} (or {@code ssl://...})
 * @param clientId MQTT client id of the gateway's publisher, e.g. {@code safegrid-alerting}
 * @param topicPrefix prefix of the per-recipient topic; the topic is {@code <prefix>/<recipient
 *     id>} (a missing trailing slash is added), default {@code safegrid/notify/}
 * @param username or null
 * @param password or null
 * @param timeout connect and PUBACK timeout; default 10 s
 */
public record MqttChannelConfig(
    String serverUri, String clientId, String topicPrefix, String username, String password, Duration timeout) {
  public MqttChannelConfig {
    Objects.requireNonNull(serverUri, "serverUri");
    clientId = clientId == null || clientId.isBlank() ? "safegrid-alerting" : clientId;
    topicPrefix = topicPrefix == null || topicPrefix.isEmpty() ? "safegrid/notify/" : topicPrefix;
    if (!topicPrefix.endsWith("/")) {
      topicPrefix = topicPrefix + "/"; // "emergency" and "emergency/" both give emergency/<recipient>
    }
    timeout = timeout == null ? Duration.ofSeconds(10) : timeout;
  }

  /** Defaults for everything but the broker URI. */
  public static MqttChannelConfig of(String serverUri) {
    return new MqttChannelConfig(serverUri, null, null, null, null, null);
  }
}
