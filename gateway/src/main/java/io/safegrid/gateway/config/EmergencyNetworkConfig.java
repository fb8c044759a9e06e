package io.safegrid.gateway.config;

/**
 * The emergency network's MQTT broker, where alarm notifications are published (one topic per
 * recipient id).
 *
 * @param brokerUrl e.g. {@code tcp://127.0.0.1:1884}; null = notifications wait in the outbox
 * @param clientId MQTT client id of the gateway
 * @param topicPrefix topic prefix, e.g. {@code emergency} (then {@code emergency/{recipient id}})
 */
public record EmergencyNetworkConfig(String brokerUrl, String clientId, String topicPrefix) {}
