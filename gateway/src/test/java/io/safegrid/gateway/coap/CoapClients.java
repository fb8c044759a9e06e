package io.safegrid.gateway.coap;

import java.nio.charset.StandardCharsets;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;

/** Californium clients as a device would use them: plain CoAP, or CoAPS with a PSK. */
final class CoapClients {

  static {
    CoapConfig.register();
    UdpConfig.register();
    DtlsConfig.register();
  }

  static Configuration clientConfig() {
    Configuration config = Configuration.createStandardWithoutFile();
    config.set(DtlsConfig.DTLS_ROLE, DtlsRole.CLIENT_ONLY);
    config.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, 4 * 1024 * 1024);
    return config;
  }

  /** A plain CoAP client with its own endpoint (no shared default endpoint, no properties file). */
  static CoapClient plain(int port, String path) {
    CoapClient client = new CoapClient("coap://127.0.0.1:" + port + path);
    client.setEndpoint(new CoapEndpoint.Builder().setConfiguration(clientConfig()).build());
    client.setTimeout(10_000L);
    return client;
  }

  /** A CoAPS client whose DTLS PSK identity is {@code identity} and key {@code key}. */
  static CoapClient secure(int port, String path, String identity, String key) {
    Configuration config = clientConfig();
    DtlsConnectorConfig dtls =
        DtlsConnectorConfig.builder(config)
            .setAdvancedPskStore(
                new AdvancedSinglePskStore(identity, key.getBytes(StandardCharsets.UTF_8)))
            .build();
    CoapClient client = new CoapClient("coaps://127.0.0.1:" + port + path);
    client.setEndpoint(
        new CoapEndpoint.Builder()
            .setConfiguration(config)
            .setConnector(new DTLSConnector(dtls))
            .build());
    client.setTimeout(10_000L);
    return client;
  }

  /** A JSON POST, CON or NON, with the device secret in option 65003 when given. */
  static Request post(String json, boolean confirmable, String secret) {
    Request request = new Request(Code.POST, confirmable ? Type.CON : Type.NON);
    request.setPayload(json);
    request.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_JSON);
    if (secret != null) {
      request.getOptions()
          .addOtherOption(
              new Option(DeviceSecretOption.DEFINITION, secret.getBytes(StandardCharsets.UTF_8)));
    }
    return request;
  }

  private CoapClients() {}
}
