package io.safegrid.gateway.mqtt;

import java.time.Instant;

/**
 * One online / offline change of a device, see {@link DevicePresenceListener}.
 *
 * @param deviceId the authenticated device id
 * @param online true for online, false for offline
 * @param reason why
 * @param at when the server saw it
 * @param willTopic for an offline event of a connection that had a will (LWT): its topic, else
 *     null
 * @param willPayload the will's payload, else null
 */
public record PresenceEvent(
    String deviceId, boolean online, Reason reason, Instant at, String willTopic, byte[] willPayload) {

  /** Why a device's presence changed. */
  public enum Reason {
    /** A CONNECT was accepted. */
    CONNECTED,
    /** The device published to its status topic. */
    STATUS,
    /** The TCP connection was lost without DISCONNECT (or MQTT 5 DISCONNECT 0x04). */
    CONNECTION_LOST,
    /** Nothing was received for 1.5 x the keepalive (MQTT 3.1.1 3.1.2.10, MQTT 5.0 3.1.2.10). */
    KEEPALIVE_TIMEOUT,
    /** The server closed the connection for a malformed packet or a protocol violation. */
    PROTOCOL_ERROR,
    /** A new CONNECT of the same device replaced this connection. */
    TAKEN_OVER
  }

  /** An event without a will. */
  public static PresenceEvent of(String deviceId, boolean online, Reason reason) {
    return new PresenceEvent(deviceId, online, reason, Instant.now(), null, null);
  }
}
