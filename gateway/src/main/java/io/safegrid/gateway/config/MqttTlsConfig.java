package io.safegrid.gateway.config;

/**
 * The optional MQTT-over-TLS listener, YAML {@code mqtt.tls}:
 *
 * <pre>
 * mqtt:
 *   tls: {port: 8883, certificate_chain: /etc/safegrid/server.crt, private_key: /etc/safegrid/server.key}
 * </pre>
 *
 * @param port TCP port (8883 is MQTT over TLS, IANA "secure-mqtt"); 0 picks a free one
 * @param certificateChain path of a PEM file: the server certificate, then intermediates
 * @param privateKey path of a PEM file: the certificate's PKCS#8 private key
 * @param keyPassword the private key's password, or null when it is not encrypted
 */
public record MqttTlsConfig(int port, String certificateChain, String privateKey, String keyPassword) {}
