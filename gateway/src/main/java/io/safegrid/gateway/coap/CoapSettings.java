package io.safegrid.gateway.coap;

import io.safegrid.model.DeviceType;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.Set;

/**
 * What the CoAP ingest server listens on and how much it takes.
 *
 * @param host address to bind, e.g. {@code 0.0.0.0} or {@code 127.0.0.1}
 * @param coapPort UDP port of plain CoAP ({@code SAFEGRID_COAP_PORT}, default 5683); 0 picks a
 *     free port (see {@link CoapIngestServer#coapPort()}); -1 switches plain CoAP off
 * @param coapsPort UDP port of CoAPS, DTLS 1.2 with PSK ({@code SAFEGRID_COAPS_PORT}, default
 *     5684); 0 picks a free port; -1 switches CoAPS off
 * @param maxBodyBytes largest request body in bytes, whole or reassembled from block1 (RFC 7959);
 *     larger ones are answered 4.13 Request Entity Too Large as soon as the bound is passed. This
 *     is Californium's {@code CoapConfig.MAX_RESOURCE_BODY_SIZE}
 * @param plainAllowedTypes device types that may use plain CoAP (config {@code
 *     coap.plain_allowed_types}); others must use CoAPS and get 4.03 on plain CoAP
 * @param overloadMaxAgeSeconds Max-Age (seconds) sent with 5.03 Service Unavailable when storage
 *     pushes back: how long the device should wait before retrying
 * @param lastGoodSourcesFile where plain CoAP devices' last known good sources are kept across
 *     restarts ({@link LastGoodSources}; the gateway: next to its spool directory); null keeps
 *     them in memory only (after a start no device has one until it posts its right secret)
 */
public record CoapSettings(
    String host,
    int coapPort,
    int coapsPort,
    int maxBodyBytes,
    Set<DeviceType> plainAllowedTypes,
    int overloadMaxAgeSeconds,
    Path lastGoodSourcesFile) {

  /** Default body bound: 64 KiB, a generous backlog array from a constrained device. */
  public static final int DEFAULT_MAX_BODY_BYTES = 64 * 1024;

  /** Default Max-Age on 5.03: 30 s. */
  public static final int DEFAULT_OVERLOAD_MAX_AGE_SECONDS = 30;

  /** As the canonical constructor, last known good sources in memory only. */
  public CoapSettings(String host, int coapPort, int coapsPort, int maxBodyBytes,
      Set<DeviceType> plainAllowedTypes, int overloadMaxAgeSeconds) {
    this(host, coapPort, coapsPort, maxBodyBytes, plainAllowedTypes, overloadMaxAgeSeconds, null);
  }

  public CoapSettings {
    if (host == null || host.isBlank()) {
      throw new IllegalArgumentException("host must be given");
    }
    checkPort("coapPort", coapPort);
    checkPort("coapsPort", coapsPort);
    if (maxBodyBytes < 16) {
      throw new IllegalArgumentException("maxBodyBytes must be at least 16, was " + maxBodyBytes);
    }
    if (overloadMaxAgeSeconds < 0) {
      throw new IllegalArgumentException("overloadMaxAgeSeconds must be >= 0");
    }
    plainAllowedTypes =
        plainAllowedTypes.isEmpty()
            ? Set.of()
            : Set.copyOf(EnumSet.copyOf(plainAllowedTypes));
  }

  /**
   * Defaults of the contract: ports 5683 and 5684 on all interfaces, 64 KiB bodies, every device
   * type allowed on plain CoAP, Max-Age 30 s.
   */
  public static CoapSettings defaults() {
    return new CoapSettings(
        "0.0.0.0",
        5683,
        5684,
        DEFAULT_MAX_BODY_BYTES,
        EnumSet.allOf(DeviceType.class),
        DEFAULT_OVERLOAD_MAX_AGE_SECONDS);
  }

  /** A copy listening on loopback with free ports: for tests and side-by-side runs. */
  public CoapSettings onLoopbackFreePorts() {
    return new CoapSettings(
        "127.0.0.1", 0, 0, maxBodyBytes, plainAllowedTypes, overloadMaxAgeSeconds, lastGoodSourcesFile);
  }

  /** A copy with another body bound. */
  public CoapSettings withMaxBodyBytes(int bytes) {
    return new CoapSettings(host, coapPort, coapsPort, bytes, plainAllowedTypes, overloadMaxAgeSeconds,
        lastGoodSourcesFile);
  }

  /** A copy with other types allowed on plain CoAP. */
  public CoapSettings withPlainAllowedTypes(Set<DeviceType> types) {
    return new CoapSettings(host, coapPort, coapsPort, maxBodyBytes, types, overloadMaxAgeSeconds,
        lastGoodSourcesFile);
  }

  /** A copy keeping plain CoAP's last known good sources in {@code file} across restarts (null: memory only). */
  public CoapSettings withLastGoodSourcesFile(Path file) {
    return new CoapSettings(host, coapPort, coapsPort, maxBodyBytes, plainAllowedTypes, overloadMaxAgeSeconds, file);
  }

  private static void checkPort(String name, int port) {
    if (port < -1 || port > 65535) {
      throw new IllegalArgumentException(name + " must be -1 (off), 0 (free) or 1..65535, was " + port);
    }
  }
}
