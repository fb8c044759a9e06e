package io.safegrid.dashboard.live;

import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.dashboard.api.AlarmJson;
import io.safegrid.dashboard.http.Json;
import io.safegrid.model.Reading;
import io.micrometer.core.instrument.Timer;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The live stream's input: the gateway publishes device online/offline changes and readings into
 * it; the dashboard publishes the ledger's alarm events into it (from {@code
 * AlarmService.addListener}). It fans each event out to the connected SSE clients.
 *
 * <p>Every method is non-blocking and thread-safe, callable from Netty event loops and the
 * ingestion path: an event is serialised once and offered to each client's bounded queue; a client
 * whose queue is full is dropped, it never slows the caller. A reading with no client asking for
 * its device costs one volatile read.
 */
public final class LiveFeed {
  private final List<LiveSubscriber> subscribers = new CopyOnWriteArrayList<>();
  private final Map<String, DeviceState> deviceStates = new ConcurrentHashMap<>();
  private final AtomicInteger readingSubscribers = new AtomicInteger();
  private final AtomicLong lastAlarmEventId = new AtomicLong();
  private volatile Timer alarmAge;

  /**
   * A device went online or offline (MQTT CONNECT / DISCONNECT / LWT / keepalive or inactivity
   * timeout, CoAP first message / inactivity timeout). Publishes {@code event: device} and keeps
   * the state for {@code /api/live/snapshot} and {@code /api/devices}. Repeating the current state
   * is ignored.
   *
   * @param deviceId the device id
   * @param online true when online
   * @param timeMillis when, epoch milliseconds
   * @param reason a short lower-case reason (e.g. {@code connect}, {@code lwt}, {@code
   *     inactivity_timeout}), or null
   */
  public void deviceStatus(String deviceId, boolean online, long timeMillis, String reason) {
    DeviceState next = new DeviceState(deviceId, online, timeMillis, reason);
    DeviceState prev = deviceStates.put(deviceId, next);
    if (prev != null && prev.online() == online) {
      return;
    }
    fanOut(LiveEvent.device(deviceId, Json.write(deviceJson(next))));
  }

  /**
   * A stored reading. Sent as {@code event: reading} only to clients that asked for its device
   * ({@code /api/live?readings=gas-001,...}). Call it after the reading is durable.
   */
  public void reading(Reading reading) {
    if (readingSubscribers.get() == 0) {
      return;
    }
    LiveEvent e = null;
    for (LiveSubscriber s : subscribers) {
      if (s.wantsReadingsOf(reading.deviceId())) {
        if (e == null) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("deviceId", reading.deviceId());
          m.put("metric", reading.metric());
          m.put("time", Instant.ofEpochMilli(reading.timeMillis()).toString());
          m.put("value", reading.value());
          e = LiveEvent.reading(reading.deviceId(), Json.write(m));
        }
        s.offer(e);
      }
    }
  }

  /**
   * A committed ledger event; the dashboard registers this as the {@code AlarmService} listener,
   * the gateway need not call it. Sent as {@code event: alarm} with {@code id:} = the event id.
   */
  public void alarmEvent(AlarmEvent event) {
    lastAlarmEventId.accumulateAndGet(event.id(), Math::max);
    fanOut(LiveEvent.alarm(event.id(), Json.write(AlarmJson.event(event))));
    Timer age = alarmAge;
    if (age != null && event.details().get("eventTime") instanceof String t) {
      try {
        long ms = System.currentTimeMillis() - Instant.parse(t).toEpochMilli();
        if (ms >= 0) {
          age.record(ms, TimeUnit.MILLISECONDS);
        }
      } catch (java.time.format.DateTimeParseException ignored) {
        // not a rule transition's event time: nothing to measure
      }
    }
  }

  /**
   * Records timer {@code safegrid.live.alarm.age} into {@code registry}: for each alarm event of a
   * rule transition, the wall-clock time from the reading's event time (the device's {@code ts},
   * or the gateway's receive time when it sent none) to the event's fan-out to the live clients,
   * seconds. On one host (the simulator's probe) it is publish-to-alarm without the last hop; with
   * real devices it includes their clock error.
   */
  public void recordAlarmAge(io.micrometer.core.instrument.MeterRegistry registry) {
    alarmAge = Timer.builder("safegrid.live.alarm.age")
        .description("reading event time to its alarm event's live fan-out")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
  }

  /** The greatest alarm event id seen by {@link #alarmEvent}, 0 before the first. */
  public long lastAlarmEventId() {
    return lastAlarmEventId.get();
  }

  /** Every device's last reported state, by id. */
  public Map<String, DeviceState> deviceStates() {
    return Map.copyOf(deviceStates);
  }

  /** The number of connected live clients. */
  public int clients() {
    return subscribers.size();
  }

  /** The JSON shape of a device event and of the snapshot's device entries. */
  public static Map<String, Object> deviceJson(DeviceState s) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("deviceId", s.deviceId());
    m.put("online", s.online());
    m.put("since", Instant.ofEpochMilli(s.sinceMillis()).toString());
    m.put("reason", s.reason());
    return m;
  }

  void fanOut(LiveEvent e) {
    for (LiveSubscriber s : subscribers) {
      s.offer(e);
    }
  }

  void subscribe(LiveSubscriber s) {
    subscribers.add(s);
    if (s.wantsReadings()) {
      readingSubscribers.incrementAndGet();
    }
  }

  void unsubscribe(LiveSubscriber s) {
    if (subscribers.remove(s) && s.wantsReadings()) {
      readingSubscribers.decrementAndGet();
    }
  }
}
