package io.safegrid.rules.engine;

import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.rules.config.RuleSet;
import io.safegrid.rules.event.Latches;
import io.safegrid.rules.inactivity.InactivityRule;
import java.util.HashMap;
import java.util.Map;

/**
 * All rule state of one device: newest value per metric with its rule states, latched alarms,
 * and inactivity bookkeeping. Plain and not thread-safe: exactly one engine shard owns it (one
 * writer per device).
 */
public final class DeviceRuleState {

  final String deviceId;
  final DeviceProfile profile; // null for an unknown device
  final RuleSet rules; // null for an unknown device
  final InactivityRule inactivity; // null for an unknown device
  final Map<String, MetricState> metrics = new HashMap<>(8);
  final Latches latches;

  /** Last message received, engine clock ms; Long.MIN_VALUE when none. */
  long lastSeenMillis = Long.MIN_VALUE;
  /** Restart time: no offline before this + timeout. Long.MIN_VALUE when not restored. */
  long graceFromMillis = Long.MIN_VALUE;
  boolean offlineOpen;
  boolean inQueue;
  long queuedDeadline;

  DeviceRuleState(String deviceId, DeviceProfile profile, RuleSet rules) {
    this.deviceId = deviceId;
    this.profile = profile;
    this.rules = rules;
    this.inactivity = rules == null ? null : rules.inactivity(profile.reportIntervalMillis());
    this.latches = new Latches(deviceId);
  }

  /**
   * Keys ({@link #eventKey}) of the last {@link MetricState#SEEN} events judged, for resend
   * detection (QoS 1 after a lost PUBACK, a session resumed later); null until the first event.
   */
  private long[] seenEvents;
  private int seenEventsCount;
  private int seenEventsNext;

  /** An event's identity as the device sent it: its time, name, zone, point and text. */
  static long eventKey(io.safegrid.model.DeviceEvent e) {
    long h = e.timeMillis();
    h = h * 1_000_003L + e.event().hashCode();
    h = h * 1_000_003L + java.util.Objects.hashCode(e.zone());
    h = h * 1_000_003L + java.util.Objects.hashCode(e.point());
    return h * 1_000_003L + java.util.Objects.hashCode(e.text());
  }

  /** Whether an event with this key was judged already (a resend). */
  boolean eventSeen(long key) {
    for (int i = 0; i < seenEventsCount; i++) {
      if (seenEvents[i] == key) {
        return true;
      }
    }
    return false;
  }

  /** Records that an event with this key was judged. */
  void rememberEvent(long key) {
    if (seenEvents == null) {
      seenEvents = new long[MetricState.SEEN];
    }
    seenEvents[seenEventsNext] = key;
    seenEventsNext = (seenEventsNext + 1) % seenEvents.length;
    if (seenEventsCount < seenEvents.length) {
      seenEventsCount++;
    }
  }

  boolean known() {
    return rules != null;
  }

  /** The first millisecond this device counts as offline. */
  long deadline() {
    return inactivity.deadline(Math.max(lastSeenMillis, graceFromMillis));
  }

  /**
   * The state of a metric some rule of the device's type reads, created on first use; null (and
   * nothing kept) for a metric no rule reads (review7 R15: a device's other names, up to ingest's
   * per-device budget, cost no memory here).
   */
  MetricState readMetric(String metric) {
    MetricState m = metrics.get(metric);
    if (m != null || rules.forMetric(metric) == null) {
      return m;
    }
    return metric(metric);
  }

  MetricState metric(String metric) {
    MetricState m = metrics.get(metric);
    if (m == null) {
      m = new MetricState(deviceId, rules.forMetric(metric));
      for (int i = 0; i < m.thresholds.length; i++) {
        // a late run's readings may lie at most the device's offline timeout apart
        m.thresholds[i].lateGap(inactivity.timeoutMillis());
      }
      metrics.put(metric, m);
    }
    return m;
  }

  /** The device id. */
  public String deviceId() {
    return deviceId;
  }

  /** Whether the device-offline alarm is open. */
  public boolean offline() {
    return offlineOpen;
  }
}
