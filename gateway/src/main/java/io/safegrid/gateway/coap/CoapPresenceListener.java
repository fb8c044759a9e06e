package io.safegrid.gateway.coap;

/**
 * Told of every request from an authenticated device (plain CoAP with the right secret, or CoAPS
 * after a DTLS PSK handshake whose identity is the path's device), before its payload is decoded:
 * CoAP has no connection, so a message is the only sign a device is alive. The wiring turns it
 * into online / offline (inactivity timeout) for the dashboard, as MQTT CONNECT and keepalive do.
 *
 * <p>Called on Californium threads, possibly concurrently for one device: implementations must be
 * thread-safe and must not block. An exception thrown here is logged and does not affect the
 * request.
 */
@FunctionalInterface
public interface CoapPresenceListener {

  /**
   * A request from {@code deviceId} arrived.
   *
   * @param deviceId the authenticated device id
   * @param atMillis when the server saw it, epoch ms
   */
  void onMessage(String deviceId, long atMillis);

  /** A listener that ignores everything. */
  CoapPresenceListener NONE = (deviceId, atMillis) -> {};
}
