package io.safegrid.gateway.mqtt;

import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import java.io.File;
import java.util.Objects;
import javax.net.ssl.SSLException;

/**
 * The optional MQTT-over-TLS listener (IANA port 8883, "secure-mqtt").
 *
 * @param port TCP port; 0 picks a free one ({@link MqttServer#tlsPort()} tells which)
 * @param certificateChain PEM file: the server certificate, then intermediates
 * @param privateKey PEM file: the PKCS#8 private key of the certificate
 * @param keyPassword the private key's password, or null if it is not encrypted
 */
public record MqttTls(int port, File certificateChain, File privateKey, String keyPassword) {

  /** The IANA-registered port of MQTT over TLS. */
  public static final int DEFAULT_PORT = 8883;

  public MqttTls {
    Objects.requireNonNull(certificateChain, "certificateChain");
    Objects.requireNonNull(privateKey, "privateKey");
    if (port < 0 || port > 65_535) {
      throw new IllegalArgumentException("port must be 0..65535");
    }
  }

  /**
   * Builds the server-side TLS context (TLS 1.2 and 1.3, the JDK's default ciphers).
   *
   * @throws IllegalArgumentException if the files cannot be read or do not match
   */
  SslContext sslContext() {
    try {
      return SslContextBuilder.forServer(certificateChain, privateKey, keyPassword)
          .protocols("TLSv1.3", "TLSv1.2")
          .build();
    } catch (SSLException | IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "cannot use TLS key " + privateKey + " and certificate " + certificateChain + ": " + e.getMessage(), e);
    }
  }
}
