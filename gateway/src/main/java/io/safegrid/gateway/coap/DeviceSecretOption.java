package io.safegrid.gateway.coap;

import org.eclipse.californium.core.coap.option.OpaqueOptionDefinition;

/**
 * How a device proves who it is on plain CoAP (on CoAPS the DTLS PSK handshake does it).
 *
 * <p>Preferred: the CoAP option {@value #NUMBER} ("Device-Secret"), value the device's secret as
 * UTF-8 bytes. 65003 lies in the experimental range 65000-65535 of RFC 7252 section 12.2; it is
 * odd, so <em>critical</em> (a server that does not know it must refuse the request, never
 * silently ignore it), and bit 1 is set, so <em>unsafe to forward</em> (a proxy that does not know
 * it must not pass it on). With libcoap: {@code coap-client -m post -O 65003,demo-gas-001 -e
 * '{"values":{"gas_lel":1.5}}' coap://HOST:5683/devices/gas-001/telemetry}.
 *
 * <p>Also accepted, for devices whose stack cannot add options: the URI query {@code
 * ?s=SECRET}. Trade-off: a query is part of the URI, so proxies, packet captures and request logs
 * show it; the option is not part of the URI and SafeGrid never logs it. Both travel in clear text
 * on plain CoAP: use CoAPS where the secret matters, and switch plain CoAP off per device type
 * with {@code coap.plain_allowed_types}.
 */
public final class DeviceSecretOption {

  /** The option number, experimental range of RFC 7252 section 12.2: critical, unsafe. */
  public static final int NUMBER = 65003;

  /** Name of the URI query parameter also accepted: {@code ?s=SECRET}. */
  public static final String QUERY_PARAMETER = "s";

  /** Californium's definition of the option: opaque, 1..255 bytes, not repeatable. */
  public static final OpaqueOptionDefinition DEFINITION =
      new OpaqueOptionDefinition(NUMBER, "Device-Secret", true, 1, 255);

  private DeviceSecretOption() {}
}
