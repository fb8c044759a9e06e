package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.sim.link.CoapLink;
import io.safegrid.sim.site.SimDevice;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.Principal;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.option.MapBasedOptionRegistry;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedMultiPskStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The simulator's CoAP device against a stand-in Californium server that checks what the gateway
 * checks: the secret in option 65003 on coap://, the PSK identity on coaps://.
 */
class CoapLinkTest {

  record Got(String path, String secret, String pskIdentity, String payload) {}

  private final List<Got> got = new CopyOnWriteArrayList<>();
  private CoapServer server;
  private CoapEndpoint plain;
  private CoapEndpoint secure;
  private final SimDevice device =
      new SimDevice("gas-001", "gas_alarm", "demo-gas-001", "kitchen", "restaurant", null, 60);

  @BeforeEach
  void start() {
    Configuration config = CoapLink.clientConfig();
    config.set(DtlsConfig.DTLS_ROLE, DtlsConfig.DtlsRole.SERVER_ONLY);
    server = new CoapServer(config);
    CoapResource telemetry = new CoapResource("telemetry") {
      @Override
      public void handlePOST(CoapExchange exchange) {
        Option secret = exchange.getRequestOptions().getOtherOption(CoapLink.DEVICE_SECRET);
        Principal peer = exchange.advanced().getRequest().getSourceContext().getPeerIdentity();
        got.add(new Got(exchange.getRequestOptions().getUriPathString(),
            secret == null ? null : new String(secret.getValue(), StandardCharsets.UTF_8),
            peer == null ? null : peer.getName(), exchange.getRequestText()));
        boolean ok = peer != null || (secret != null && "demo-gas-001".equals(new String(secret.getValue(), StandardCharsets.UTF_8)));
        exchange.respond(ok ? ResponseCode.CHANGED : ResponseCode.UNAUTHORIZED);
      }
    };
    CoapResource anyDevice = new CoapResource("any") {
      @Override
      public Resource getChild(String name) {
        return name.equals("telemetry") ? telemetry : null;
      }
    };
    server.add(new CoapResource("devices") {
      @Override
      public Resource getChild(String name) {
        return anyDevice;
      }
    });
    var options = new MapBasedOptionRegistry(StandardOptionRegistry.getDefaultOptionRegistry(), CoapLink.DEVICE_SECRET);
    plain = new CoapEndpoint.Builder().setConfiguration(config)
        .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).setOptionRegistry(options).build();
    AdvancedMultiPskStore psk = new AdvancedMultiPskStore();
    psk.setKey("gas-001", "demo-gas-001".getBytes(StandardCharsets.UTF_8));
    secure = new CoapEndpoint.Builder().setConfiguration(config).setConnector(new DTLSConnector(
        DtlsConnectorConfig.builder(config).setAddress(new InetSocketAddress("127.0.0.1", 0))
            .setAdvancedPskStore(psk).build())).build();
    server.addEndpoint(plain);
    server.addEndpoint(secure);
    server.start();
  }

  @AfterEach
  void stop() {
    server.destroy();
  }

  @Test
  void plainCoapCarriesTheSecretInOption65003() throws Exception {
    try (CoapLink link = new CoapLink("coap://127.0.0.1:" + plain.getAddress().getPort(), device, "demo-gas-001", null)) {
      link.publish("telemetry", "{\"values\":{\"gas_lel\":1}}".getBytes(StandardCharsets.UTF_8), 1)
          .get(10, TimeUnit.SECONDS);
    }
    assertThat(got).containsExactly(
        new Got("devices/gas-001/telemetry", "demo-gas-001", null, "{\"values\":{\"gas_lel\":1}}"));
  }

  @Test
  void wrongSecretIsReportedAsRefused() throws Exception {
    try (CoapLink link = new CoapLink("coap://127.0.0.1:" + plain.getAddress().getPort(), device, "wrong", null)) {
      assertThatThrownBy(() -> link.publish("telemetry", "{}".getBytes(StandardCharsets.UTF_8), 1)
          .get(10, TimeUnit.SECONDS))
          .isInstanceOf(ExecutionException.class)
          .hasMessageContaining("4.01");
    }
  }

  @Test
  void coapsRunsADtlsPskHandshakeWithTheDeviceIdAsIdentity() throws Exception {
    try (CoapLink link = new CoapLink("coaps://127.0.0.1:" + secure.getAddress().getPort(), device, "demo-gas-001", null)) {
      link.publish("telemetry", "{\"values\":{\"gas_lel\":2}}".getBytes(StandardCharsets.UTF_8), 1)
          .get(10, TimeUnit.SECONDS);
    }
    assertThat(got).singleElement().satisfies(g -> {
      assertThat(g.pskIdentity()).isEqualTo("gas-001");
      assertThat(g.secret()).isNull();
    });
  }
}
