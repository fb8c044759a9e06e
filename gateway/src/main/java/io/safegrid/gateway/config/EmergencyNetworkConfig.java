package io.safegrid.gateway.config;

/**
 * The emergency network's MQTT broker, where alarm notifications are published (one topic per
 * recipient id: {@code topicPrefix + recipientId}).
 *
 * @param brokerUrl e.g. {@code tcp://127.0.0.1:1884}; null = no MQTT notification channel
 * @param clientId MQTT client id of the gateway's publisher
 * @param topicPrefix topic prefix, e.g. {@code safegrid/notify/}
 * @param username broker user, or null
 * @param password broker password, or null
 */
public record EmergencyNetworkConfig(
    String brokerUrl, String clientId, String topicPrefix, String username, String password) {

  @Override
  public String toString() {
    return "EmergencyNetworkConfig[brokerUrl=" + brokerUrl + ", clientId=" + clientId
        + ", topicPrefix=" + topicPrefix + ", username=" + username + "]";
  }
}
