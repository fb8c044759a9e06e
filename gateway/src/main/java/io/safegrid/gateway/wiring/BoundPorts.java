package io.safegrid.gateway.wiring;

/**
 * The ports the running gateway actually listens on (a configured 0 resolved to the chosen free
 * port); -1 for a part that is not running.
 *
 * @param mqtt MQTT (TCP)
 * @param coap CoAP (UDP)
 * @param coaps CoAPS, DTLS PSK (UDP)
 * @param http dashboard and API (TCP)
 */
public record BoundPorts(int mqtt, int coap, int coaps, int http) {

  /** The one line the launcher and scripts look for: {@code SafeGrid listening: mqtt=1883 ...}. */
  public String listeningLine() {
    return "SafeGrid listening: mqtt=" + show(mqtt) + " coap=" + show(coap) + " coaps="
        + show(coaps) + " http=" + show(http);
  }

  private static String show(int port) {
    return port < 0 ? "off" : Integer.toString(port);
  }
}
