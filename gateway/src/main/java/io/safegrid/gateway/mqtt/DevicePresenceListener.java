package io.safegrid.gateway.mqtt;

/**
 * Told when a device goes online or offline over MQTT; the wiring connects it to the rule engine
 * (device-offline alarms) and the dashboard.
 *
 * <p>Called on Netty event-loop threads, serialised per device (never two calls for one device at
 * once, and in order). Implementations must not block: hand off to their own threads.
 *
 * <p>What gives which event:
 *
 * <ul>
 *   <li>an accepted CONNECT: ONLINE, reason {@link PresenceEvent.Reason#CONNECTED};
 *   <li>a PUBLISH to {@code devices/{id}/status} with payload {@code online} / {@code offline}
 *       (or JSON {@code {"status":"online"}}): ONLINE / OFFLINE, reason {@code STATUS};
 *   <li>a connection that ends without a clean DISCONNECT (socket lost, keepalive timeout,
 *       protocol error, taken over by a new CONNECT of the same device): OFFLINE exactly once,
 *       carrying the connection's will (LWT) if it had one;
 *   <li>a clean DISCONNECT (reason 0x00): no event: the device chose to go (battery devices do
 *       this between reports); the rule engine's inactivity timeout covers one that never returns.
 *       An MQTT 5 DISCONNECT 0x04 (with will message) counts as unclean.
 *   <li>the server shutting down: no event (not the device's doing).
 * </ul>
 */
@FunctionalInterface
public interface DevicePresenceListener {

  /** Receives one presence change. */
  void onPresence(PresenceEvent event);

  /** A listener that ignores everything. */
  DevicePresenceListener NONE = event -> {};
}
