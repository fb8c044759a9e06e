package io.safegrid.gateway.mqtt;

import io.netty.handler.codec.mqtt.MqttReasonCodes;
import io.safegrid.gateway.ingest.IngestSink;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The connected devices, one session per device, and their presence events.
 *
 * <p>Sessions are keyed by device id (the authenticated username), not by client id: a second
 * CONNECT of the same device takes over the first whatever its client id (MQTT 3.1.1 3.1.4-2,
 * applied to the device identity), and one device cannot knock another off by reusing its client
 * id. The taken-over session's offline event (with its will) is fired exactly once, before the new
 * session's online event. Presence events of one device are serialised under a per-device lock.
 */
final class SessionRegistry {

  private static final Logger log = LoggerFactory.getLogger(SessionRegistry.class);

  private final Map<String, Session> byDevice = new ConcurrentHashMap<>();
  private final Map<String, Object> locks = new ConcurrentHashMap<>();
  private final DevicePresenceListener listener;
  private final IngestSink sink;
  private volatile boolean shuttingDown;

  SessionRegistry(DevicePresenceListener listener, IngestSink sink) {
    this.listener = listener;
    this.sink = sink;
  }

  private Object lock(String deviceId) {
    return locks.computeIfAbsent(deviceId, id -> new Object());
  }

  /** Registers an accepted session; ends a previous one of the same device (TAKEN_OVER). */
  void register(Session session) {
    synchronized (lock(session.deviceId)) {
      Session previous = byDevice.put(session.deviceId, session);
      if (previous != null && previous != session) {
        log.info("device {} connected again: closing its previous connection", session.deviceId);
        previous.channel.eventLoop().execute(
            () -> previous.disconnect(PresenceEvent.Reason.TAKEN_OVER, MqttReasonCodes.Disconnect.SESSION_TAKEN_OVER));
        endLocked(previous, PresenceEvent.Reason.TAKEN_OVER, false);
      }
      fire(PresenceEvent.of(session.deviceId, true, PresenceEvent.Reason.CONNECTED));
    }
  }

  /**
   * The connection of {@code session} has closed.
   *
   * @param reason why (for an unclean end)
   * @param clean true after a clean DISCONNECT: no offline event
   */
  void end(Session session, PresenceEvent.Reason reason, boolean clean) {
    synchronized (lock(session.deviceId)) {
      byDevice.remove(session.deviceId, session);
      endLocked(session, reason, clean);
    }
  }

  private void endLocked(Session session, PresenceEvent.Reason reason, boolean clean) {
    if (!session.ended.compareAndSet(false, true) || clean || shuttingDown) {
      return;
    }
    fire(
        new PresenceEvent(
            session.deviceId, false, reason, Instant.now(), session.willTopic, session.willPayload));
    publishWill(session);
  }

  /** A status PUBLISH ({@code devices/{id}/status}). */
  void status(Session session, boolean online) {
    synchronized (lock(session.deviceId)) {
      fire(PresenceEvent.of(session.deviceId, online, PresenceEvent.Reason.STATUS));
    }
  }

  /** True while the device has an accepted connection. */
  boolean isConnected(String deviceId) {
    return byDevice.containsKey(deviceId);
  }

  /** From now on closing connections fire no offline events (server shutdown). */
  void shutdown() {
    shuttingDown = true;
  }

  /** A will to the telemetry or events topic is also stored, like a PUBLISH would be. */
  private void publishWill(Session session) {
    if (session.willTopic == null) {
      return;
    }
    TopicAcl.Kind kind = TopicAcl.publishKind(session.deviceId, session.willTopic);
    byte[] payload = session.willPayload == null ? new byte[0] : session.willPayload;
    String source = "mqtt-will:" + session.willTopic;
    try {
      if (kind == TopicAcl.Kind.TELEMETRY) {
        sink.telemetry(session.deviceId, payload, System.currentTimeMillis(), source);
      } else if (kind == TopicAcl.Kind.EVENTS) {
        sink.events(session.deviceId, payload, System.currentTimeMillis(), source);
      }
    } catch (RuntimeException e) {
      log.error("storing the will of device {} failed", session.deviceId, e);
    }
  }

  private void fire(PresenceEvent event) {
    try {
      listener.onPresence(event);
    } catch (RuntimeException e) {
      log.error("presence listener failed on {}", event, e);
    }
  }
}
