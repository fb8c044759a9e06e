package io.safegrid.gateway.mqtt;

import io.netty.util.concurrent.EventExecutor;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The INFO log of ACL-refused PUBLISH packets, limited per device: a device's first refusal is
 * logged in full; the ones that follow are only counted, and one summary line a minute gives
 * their number and the last topic, for as long as the device keeps at it. Any authenticated
 * device can send thousands of PUBLISH packets a second to a topic it may not use, and one line
 * each would flood the log (newcomer5 F6). This limits the log only: {@code
 * safegrid.mqtt.rejects{reason=acl_publish}} and the dead letters stay exact.
 *
 * <p>Per device id, shared by the device's connections and the event loops (thread-safe). A
 * minute without a refusal forgets the device: its next refusal is logged in full again.
 */
final class AclRefusalLog {

  private static final Logger log = LoggerFactory.getLogger(AclRefusalLog.class);

  /** The window: one full line, then at most one summary line per device per this many ms. */
  static final long INTERVAL_MILLIS = 60_000;

  private final long intervalMillis;
  /** Devices with a window open, by id; each window has one end scheduled. */
  private final Map<String, Window> windows = new HashMap<>();

  /** Refusals of one device not logged since its window opened. */
  private static final class Window {
    int unlogged;
    String lastTopic;
  }

  AclRefusalLog() {
    this(INTERVAL_MILLIS);
  }

  /**
   * @param intervalMillis the window, ms ({@link #INTERVAL_MILLIS} in the gateway; shorter in a
   *     test)
   */
  AclRefusalLog(long intervalMillis) {
    this.intervalMillis = intervalMillis;
  }

  /**
   * Logs one refused PUBLISH, or counts it for the device's summary.
   *
   * @param deviceId the authenticated sender
   * @param topic the topic it may not use
   * @param loop where the window's end is scheduled (the connection's event loop)
   */
  void refused(String deviceId, String topic, EventExecutor loop) {
    synchronized (windows) {
      Window w = windows.get(deviceId);
      if (w != null) {
        w.unlogged++;
        w.lastTopic = topic;
        return;
      }
      windows.put(deviceId, new Window());
    }
    log.info("device {}: PUBLISH to {} refused (not its topic); this device's further refusals are logged"
            + " as one count a minute (each is counted in safegrid.mqtt.rejects and kept in dead_letters)",
        deviceId, bounded(topic));
    schedule(deviceId, loop);
  }

  private void schedule(String deviceId, EventExecutor loop) {
    loop.schedule(() -> end(deviceId, loop), intervalMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * A window ends: its unlogged refusals, if any, are logged as one line and a new window opens
   * (the device is still at it); else the device is forgotten.
   */
  private void end(String deviceId, EventExecutor loop) {
    Window w;
    synchronized (windows) {
      w = windows.remove(deviceId);
      if (w == null || w.unlogged == 0) {
        return;
      }
      windows.put(deviceId, new Window());
    }
    log.info("device {}: {} more PUBLISH refused (not its topic) in the last {}, the last to {}",
        deviceId, w.unlogged, intervalMillis >= 1000 ? intervalMillis / 1000 + " s" : intervalMillis + " ms",
        bounded(w.lastTopic));
    schedule(deviceId, loop);
  }

  private static String bounded(String topic) {
    return topic.length() <= 200 ? topic : topic.substring(0, 200) + "...";
  }
}
