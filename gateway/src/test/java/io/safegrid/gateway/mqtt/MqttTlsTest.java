package io.safegrid.gateway.mqtt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.handler.ssl.util.SelfSignedCertificate;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.security.KeyStore;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

/** The optional TLS listener with a self-signed certificate made for the test. */
class MqttTlsTest {

  @Test
  void pahoPublishesOverTlsAndThePlainPortStillWorks() throws Exception {
    SelfSignedCertificate cert = new SelfSignedCertificate("localhost", "EC", 256);
    RecordingIngestSink sink = new RecordingIngestSink();
    try (MqttServer server =
        MqttServer.builder()
            .host("127.0.0.1")
            .port(0)
            .tls(new MqttTls(0, cert.certificate(), cert.privateKey(), null))
            .ingest(sink)
            .authenticator(MqttTestSupport.AUTH)
            .meterRegistry(new SimpleMeterRegistry())
            .build()
            .start()) {
      assertThat(server.tlsPort()).isPositive().isNotEqualTo(server.port());

      KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
      trust.load(null, null);
      trust.setCertificateEntry("gateway", cert.cert());
      TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      SSLContext ssl = SSLContext.getInstance("TLS");
      ssl.init(null, tmf.getTrustManagers(), null);

      var options = MqttServerTest.v3Options("gas-001", "s-gas-001");
      options.setSocketFactory(ssl.getSocketFactory());
      options.setHttpsHostnameVerificationEnabled(false);
      MqttClient c = new MqttClient("ssl://127.0.0.1:" + server.tlsPort(), "tls", new MemoryPersistence());
      c.setTimeToWait(10_000);
      c.connect(options);
      c.publish("devices/gas-001/telemetry", "{\"tls\":true}".getBytes(StandardCharsets.UTF_8), 1, false);
      c.disconnect();
      c.close();
      await().atMost(Duration.ofSeconds(5)).until(() -> sink.count("gas-001") == 1);

      // an untrusting client does not get in
      var plainTrust = MqttServerTest.v3Options("gas-001", "s-gas-001");
      plainTrust.setHttpsHostnameVerificationEnabled(false);
      MqttClient untrusting = new MqttClient("ssl://127.0.0.1:" + server.tlsPort(), "tls2", new MemoryPersistence());
      assertThatThrownBy(() -> untrusting.connect(plainTrust)).isNotNull();
      untrusting.close();
    } finally {
      cert.delete();
    }
  }

  @Test
  void aMissingKeyFileIsAClearError() {
    File none = new File("does-not-exist.pem");
    MqttServer server =
        MqttServer.builder()
            .host("127.0.0.1")
            .port(0)
            .tls(new MqttTls(0, none, none, null))
            .ingest(new RecordingIngestSink())
            .authenticator(MqttTestSupport.AUTH)
            .meterRegistry(new SimpleMeterRegistry())
            .build();
    assertThatThrownBy(server::start).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("does-not-exist.pem");
  }
}
