package io.safegrid.sim.link;

import io.safegrid.sim.site.SimDevice;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.CoAP.Type;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.network.Endpoint;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.californium.scandium.DTLSConnector;
import org.eclipse.californium.scandium.config.DtlsConfig;
import org.eclipse.californium.scandium.config.DtlsConfig.DtlsRole;
import org.eclipse.californium.scandium.config.DtlsConnectorConfig;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedSinglePskStore;

/**
 * CoAP device (Californium): {@code POST /devices/{id}/{channel}}. On {@code coap://} the secret
 * travels in option 65003 (the gateway's Device-Secret option); on {@code coaps://} the device
 * runs a DTLS 1.2 PSK handshake with identity = device id, key = secret, on its own endpoint.
 */
public final class CoapLink implements DeviceLink {

  /** SafeGrid's Device-Secret option: experimental range, critical, unsafe (see docs/coap.md). */
  public static final OpaqueOptionDefinition DEVICE_SECRET =
      new OpaqueOptionDefinition(65003, "Device-Secret", true, 1, 255);

  static {
    CoapConfig.register();
    UdpConfig.register();
    DtlsConfig.register();
  }

  private final String base;
  private final byte[] secret;
  private final boolean secure;
  private final Endpoint endpoint;
  private final boolean ownEndpoint;
  private final CoapClient client;
  private final AtomicInteger inFlight = new AtomicInteger();

  /**
   * @param gatewayUri {@code coap://host:port} or {@code coaps://host:port}
   * @param shared a plain CoAP endpoint shared by many simulated devices, or null for one of its
   *     own (always its own for coaps)
   * @param secret the secret to present (wrong on purpose for the wrong-secret fault)
   */
  public CoapLink(String gatewayUri, SimDevice device, String secret, Endpoint shared) {
    URI uri = URI.create(gatewayUri);
    this.secure = "coaps".equals(uri.getScheme());
    if (!secure && !"coap".equals(uri.getScheme())) {
      throw new IllegalArgumentException("CoAP URI must be coap:// or coaps://: " + gatewayUri);
    }
    this.base = uri.getScheme() + "://" + uri.getHost() + ":" + uri.getPort()
        + "/devices/" + device.id() + "/";
    this.secret = secret.getBytes(StandardCharsets.UTF_8);
    if (secure) {
      Configuration config = clientConfig();
      DtlsConnectorConfig dtls =
          DtlsConnectorConfig.builder(config)
              .setAdvancedPskStore(new AdvancedSinglePskStore(device.id(), this.secret))
              .build();
      endpoint = new CoapEndpoint.Builder()
          .setConfiguration(config).setConnector(new DTLSConnector(dtls)).build();
      ownEndpoint = true;
    } else if (shared != null) {
      endpoint = shared;
      ownEndpoint = false;
    } else {
      endpoint = plainEndpoint();
      ownEndpoint = true;
    }
    client = new CoapClient(base + "telemetry");
    client.setEndpoint(endpoint);
    client.setTimeout(30_000L);
  }

  /** Californium client settings, with no properties file written. */
  public static Configuration clientConfig() {
    Configuration config = Configuration.createStandardWithoutFile();
    config.set(DtlsConfig.DTLS_ROLE, DtlsRole.CLIENT_ONLY);
    return config;
  }

  /** A plain CoAP endpoint on a free port, to share between simulated devices. */
  public static Endpoint plainEndpoint() {
    return new CoapEndpoint.Builder().setConfiguration(clientConfig()).build();
  }

  @Override
  public CompletableFuture<Void> connect() {
    return CompletableFuture.completedFuture(null); // DTLS handshakes on the first request
  }

  @Override
  public CompletableFuture<Void> publish(String channel, byte[] payload, int qos) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    Request request = new Request(Code.POST, qos == 0 ? Type.NON : Type.CON);
    request.setURI(base + channel);
    request.setPayload(payload);
    request.getOptions().setContentFormat(MediaTypeRegistry.APPLICATION_JSON);
    if (!secure) {
      request.getOptions().addOtherOption(new Option(DEVICE_SECRET, secret));
    }
    inFlight.incrementAndGet();
    done.whenComplete((v, e) -> inFlight.decrementAndGet());
    client.advanced(
        new CoapHandler() {
          @Override
          public void onLoad(CoapResponse response) {
            if (response.isSuccess()) {
              done.complete(null);
            } else {
              done.completeExceptionally(
                  new Refused(response.getCode() + " " + response.getResponseText()));
            }
          }

          @Override
          public void onError() {
            // no answer is not a refusal (4.xx/5.xx): it counts as failed, as a lost MQTT link does
            done.completeExceptionally(
                new java.io.IOException("no answer (CoAP exchange timed out or DTLS handshake failed)"));
          }
        },
        request);
    return done;
  }

  @Override
  public void drop() {
    // CoAP has no connection; a DTLS session stays until it expires
  }

  @Override
  public boolean isConnected() {
    return true;
  }

  @Override
  public int inFlight() {
    return inFlight.get();
  }

  @Override
  public void close() {
    client.shutdown();
    if (ownEndpoint) {
      endpoint.destroy();
    }
  }
}
