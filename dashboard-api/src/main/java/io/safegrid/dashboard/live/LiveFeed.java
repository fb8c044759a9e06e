package io.safegrid.dashboard.live;

import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.json.JsonText;
import io.safegrid.alerting.unconfirmed.AnnunciationListener;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.alerting.unconfirmed.UnconfirmedListener;
import io.safegrid.model.AlarmTransition;
import io.safegrid.dashboard.api.AlarmJson;
import io.safegrid.dashboard.http.Json;
import io.safegrid.model.Reading;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.safegrid.model.Severity;
import java.util.Iterator;
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
 *
 * <p>It is also the live page's {@link UnconfirmedListener} (newcomer7 F4 b, docs/alerting.md
 * "Database outage"): a hazard the ledger has not committed in time goes out as {@code event:
 * unconfirmed} (no {@code id:}, so {@code Last-Event-ID} and resume are unchanged), and is kept
 * until it settles so that a client connecting meanwhile gets it too.
 *
 * <p>And it is the gateway's {@link AnnunciationListener} (docs/alerting.md "Annunciation before
 * the ledger"): a hazard raise or severity change goes out as {@code event: annunciation} (no
 * {@code id:}) the moment the rule engine decides it, on the rule shard's thread (the MQTT/CoAP
 * loop), before the ledger's {@code event: alarm} of it; kept until it settles, like the
 * unconfirmed ones.
 *
 * <p>Both kinds of kept frames are bounded (review8 R8-9): one per (device, rule), the newest wins;
 * at most {@value #PENDING_CAP} of each kind, the oldest dropped beyond that (counted in {@code
 * safegrid.live.pending.dropped}, tag {@code kind}). A connecting client is so offered at most
 * 2 x {@value #PENDING_CAP} frames, well below a client's queue ({@code DashboardServer}'s 1,024): it
 * is never dropped as a slow client for what it is sent on connect.
 */
public final class LiveFeed implements UnconfirmedListener, AnnunciationListener {
  /** Most kept frames of each kind ({@code annunciation}, {@code unconfirmed}): one per (device, rule). */
  public static final int PENDING_CAP = 256;

  private final List<LiveSubscriber> subscribers = new CopyOnWriteArrayList<>();
  private final Map<String, DeviceState> deviceStates = new ConcurrentHashMap<>();
  private final AtomicInteger readingSubscribers = new AtomicInteger();
  private final AtomicLong lastAlarmEventId = new AtomicLong();
  private volatile Timer alarmAge;
  /**
   * Guards {@link #annunciations}, {@link #unconfirmed} and the subscribe that offers their frames
   * to a new client. Held for a map update (or that one client's offers), never across a fan-out
   * to all clients: a client subscribing between
   * a frame's keeping and its fan-out may get it twice (the page keys its cards by device, rule and
   * id: a second copy changes nothing); a settle's fan-out comes after the removal, so a client
   * that was sent the frame also gets the settle.
   */
  private final Object pendingLock = new Object();
  /** {@code event: annunciation} frames not settled yet, by (device, rule), oldest first. */
  private final Pending annunciations = new Pending();
  /** {@code event: unconfirmed} frames not settled yet, by (device, rule), oldest first. */
  private final Pending unconfirmed = new Pending();
  private volatile Counter[] annunciated;
  private volatile Timer annunciationAge;
  private volatile Counter annunciationsDropped;
  private volatile Counter unconfirmedDropped;

  /** One kept frame and the id it is of. */
  private record Kept(long id, LiveEvent frame) {}

  /**
   * Kept frames by (device, rule), the newest of a key replacing its older one, at most {@value
   * #PENDING_CAP}; guarded by {@link #pendingLock}.
   */
  private static final class Pending {
    private final LinkedHashMap<String, Kept> byKey = new LinkedHashMap<>();

    /** Keeps the frame as its key's newest; returns true when the oldest key was dropped for room. */
    boolean put(String key, long id, LiveEvent frame) {
      byKey.remove(key); // re-inserted last: the order is of the newest frame of each key
      byKey.put(key, new Kept(id, frame));
      if (byKey.size() > PENDING_CAP) {
        Iterator<Kept> it = byKey.values().iterator();
        it.next();
        it.remove();
        return true;
      }
      return false;
    }

    /** Forgets the key's frame when it is of {@code id} (a newer one of the key stays). */
    void remove(String key, long id) {
      Kept k = byKey.get(key);
      if (k != null && k.id() == id) {
        byKey.remove(key);
      }
    }

    void addFramesTo(List<LiveEvent> out) {
      for (Kept k : byKey.values()) {
        out.add(k.frame());
      }
    }

    int size() {
      return byKey.size();
    }
  }

  private static String key(AlarmTransition t) {
    return t.deviceId() + '|' + t.ruleId();
  }

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
    fanOut(alarmFrame(event));
    Timer age = alarmAge;
    if (age != null && event.details().get("eventTime") instanceof String t) {
      long at = epochMillis(t);
      if (at != Long.MIN_VALUE) {
        long ms = System.currentTimeMillis() - at;
        if (ms >= 0) {
          age.record(ms, TimeUnit.MILLISECONDS);
        }
      } // else not a rule transition's event time: nothing to measure
    }
  }

  /**
   * The {@code event: alarm} frame of a ledger event (also what {@link LiveWarmUp} serialises and
   * the replay sends): {@code data:} is {@link AlarmJson#event}'s map as compact JSON, written by
   * Jackson's generator ({@link JsonText}: the mapper's text without its per-value serializer
   * look-ups, on the alarm writer thread, the publish-to-alarm path; {@code AlarmFrameJsonTest}).
   */
  static LiveEvent alarmFrame(AlarmEvent event) {
    // The dashboard's mapper (FAIL_ON_EMPTY_BEANS off), not the ledger's default JsonText.write uses.
    String json = JsonText.write(Json.MAPPER, AlarmJson.event(event), FRAME_CAPACITY);
    return LiveEvent.alarm(event.id(), json);
  }

  /** {@link #alarmFrame}'s first capacity, chars: a rule transition's frame is 0.7-1 k. */
  private static final int FRAME_CAPACITY = 1536;

  /**
   * Epoch milliseconds of an ISO-8601 instant, or {@link Long#MIN_VALUE} when it is not one. The
   * form {@link Instant#toString} writes for years 0000-9999 ({@code 2026-11-29T08:00:00Z}, {@code
   * ...00.1Z} to {@code ...00.123456789Z}; the ledger's {@code eventTime}) is read digit by digit:
   * {@link Instant#parse} (a {@code DateTimeFormatter}) cost the alarm writer thread more than the
   * frame's JSON, once per event. Any other text goes to {@link Instant#parse}.
   */
  static long epochMillis(String s) {
    int n = s.length();
    if (n >= 20 && n <= 30 && s.charAt(4) == '-' && s.charAt(7) == '-' && s.charAt(10) == 'T'
        && s.charAt(13) == ':' && s.charAt(16) == ':' && s.charAt(n - 1) == 'Z' && (n == 20 || s.charAt(19) == '.')) {
      int year = digits(s, 0, 4);
      int month = digits(s, 5, 7);
      int day = digits(s, 8, 10);
      int hour = digits(s, 11, 13);
      int minute = digits(s, 14, 16);
      int second = digits(s, 17, 19);
      int fraction = n == 20 ? 0 : digits(s, 20, n - 1);
      if (year >= 0 && month >= 1 && month <= 12 && day >= 1 && hour >= 0 && hour <= 23 && minute >= 0
          && minute <= 59 && second >= 0 && second <= 59 && fraction >= 0 && (n == 20 || n > 21)
          && day <= java.time.YearMonth.of(year, month).lengthOfMonth()) {
        long millisOfFraction = fraction;
        for (int d = n - 21; d < 3; d++) {
          millisOfFraction *= 10; // .1 -> 100 ms
        }
        for (int d = n - 21; d > 3; d--) {
          millisOfFraction /= 10; // .123456 -> 123 ms
        }
        long days = java.time.LocalDate.of(year, month, day).toEpochDay();
        return ((days * 24 + hour) * 60 + minute) * 60_000L + second * 1_000L + millisOfFraction;
      }
    }
    try {
      return Instant.parse(s).toEpochMilli();
    } catch (java.time.format.DateTimeParseException | ArithmeticException e) {
      return Long.MIN_VALUE;
    }
  }

  /** The decimal number in {@code s[from, to)}, or -1 when a char there is not a digit. */
  private static int digits(String s, int from, int to) {
    int v = 0;
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (c < '0' || c > '9') {
        return -1;
      }
      v = v * 10 + (c - '0');
    }
    return v;
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

  /**
   * Records the annunciation meters into {@code registry}: counter {@code
   * safegrid.alarms.annunciated} (tag {@code severity}: hazard raises and severity changes sent as
   * {@code event: annunciation}), timer {@code safegrid.alarms.annunciation.age} (the transition's
   * event time, i.e. the device's {@code ts} or the gateway's receive time, to its annunciation's
   * fan-out, ms resolution: on one host publish-to-annunciation without the last hop, as {@code
   * safegrid.live.alarm.age} is for the ledger's event), and counter {@code
   * safegrid.live.pending.dropped} (tag {@code kind}: {@code annunciation}, {@code unconfirmed}:
   * kept frames dropped beyond {@value #PENDING_CAP}). Without it nothing is counted.
   */
  public void recordAnnunciations(MeterRegistry registry) {
    Counter[] bySeverity = new Counter[Severity.values().length];
    for (Severity s : Severity.values()) {
      bySeverity[s.ordinal()] = Counter.builder("safegrid.alarms.annunciated")
          .description("hazard raises and severity changes annunciated on the live feed before the ledger")
          .tag("severity", s.wireName())
          .register(registry);
    }
    annunciationAge = Timer.builder("safegrid.alarms.annunciation.age")
        .description("reading event time to its annunciation's live fan-out")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
    annunciationsDropped = dropped(registry, "annunciation");
    unconfirmedDropped = dropped(registry, "unconfirmed");
    annunciated = bySeverity;
  }

  private static Counter dropped(MeterRegistry registry, String kind) {
    return Counter.builder("safegrid.live.pending.dropped")
        .description("annunciation / unconfirmed frames no longer kept for connecting clients: more than "
            + PENDING_CAP + " pending")
        .tag("kind", kind)
        .register(registry);
  }

  /**
   * A hazard raise or severity change the rule engine just decided: {@code event: annunciation}
   * (no {@code id:}) to every client, kept for clients that connect until it settles. Called on the
   * rule shard's thread (the MQTT/CoAP loop): one JSON serialisation, a map update under a short
   * lock, the non-blocking fan-out outside it.
   */
  @Override
  public void annunciated(UnconfirmedAlarm alarm) {
    LiveEvent e = LiveEvent.control("annunciation", annunciationJson(alarm));
    String key = key(alarm.transition());
    boolean droppedOne;
    synchronized (pendingLock) {
      droppedOne = annunciations.put(key, alarm.id(), e);
    }
    fanOut(e);
    Counter[] counters = annunciated;
    if (counters != null) {
      counters[alarm.transition().severity().ordinal()].increment();
      long ms = System.currentTimeMillis() - alarm.transition().timeMillis();
      if (ms >= 0) {
        annunciationAge.record(ms, TimeUnit.MILLISECONDS);
      }
      if (droppedOne) {
        annunciationsDropped.increment();
      }
    }
  }

  /**
   * An annunciated transition settled: no longer sent to connecting clients, and {@code event:
   * annunciation} with {@code {"annunciationId", "status" (committed | given_up), "deviceId",
   * "ruleId"}} to every client. After {@code committed} the ledger's {@code event: alarm} frames
   * (already sent, when the change made any) carry it; after {@code given_up} the page removes the
   * card (the ledger refused it for good).
   */
  @Override
  public void annunciationSettled(UnconfirmedAlarm alarm, boolean committed) {
    synchronized (pendingLock) {
      annunciations.remove(key(alarm.transition()), alarm.id());
    }
    fanOut(LiveEvent.control("annunciation", settledJson(alarm, committed)));
  }

  /**
   * A hazard transition the ledger has not committed in time: {@code event: unconfirmed} with
   * {@code "status": "waiting"} to every client, and to each client that connects until it settles.
   */
  @Override
  public void unconfirmed(UnconfirmedAlarm alarm) {
    LiveEvent e = LiveEvent.control("unconfirmed", unconfirmedJson(alarm, "waiting"));
    boolean droppedOne;
    synchronized (pendingLock) {
      droppedOne = unconfirmed.put(key(alarm.transition()), alarm.id(), e);
    }
    fanOut(e);
    Counter dropped = unconfirmedDropped;
    if (droppedOne && dropped != null) {
      dropped.increment();
    }
  }

  /**
   * An unconfirmed transition settled: {@code event: unconfirmed} with {@code "status":
   * "committed"} (the ledger's {@code event: alarm} frames carry it from now on) or {@code
   * "given_up"} (the ledger refused it for good); the page removes its card.
   */
  @Override
  public void settled(UnconfirmedAlarm alarm, boolean committed) {
    LiveEvent e = LiveEvent.control("unconfirmed", unconfirmedJson(alarm, committed ? "committed" : "given_up"));
    synchronized (pendingLock) {
      unconfirmed.remove(key(alarm.transition()), alarm.id());
    }
    fanOut(e);
  }

  /**
   * The kept frames a connecting client is sent: the annunciations, then the unconfirmed alarms,
   * not settled yet, each oldest first.
   */
  List<LiveEvent> pendingFrames() {
    List<LiveEvent> out = new java.util.ArrayList<>();
    synchronized (pendingLock) {
      annunciations.addFramesTo(out);
      unconfirmed.addFramesTo(out);
    }
    return out;
  }

  /** The number of unconfirmed alarms a connecting client is sent (at most {@value #PENDING_CAP}). */
  public int unconfirmedCount() {
    synchronized (pendingLock) {
      return unconfirmed.size();
    }
  }

  /** The number of annunciations not settled yet a connecting client is sent (at most {@value #PENDING_CAP}). */
  public int annunciationCount() {
    synchronized (pendingLock) {
      return annunciations.size();
    }
  }

  /**
   * The data of {@code event: annunciation} (docs/dashboard.md; the simulator's probe reads {@code
   * deviceId}, {@code kind} and {@code evidence.reading_time_ms}): {@code {"annunciationId" (the
   * alarm writer's sequence number: the id a later {@code event: unconfirmed} of it carries),
   * "deviceId", "ruleId", "kind" (raise | severity), "severity", "message", "evidence" (the
   * transition's, as is), "eventTime" (the transition's time, ISO-8601 UTC: the ledger's raisedAt
   * or the event's eventTime once committed), "decidedAt" (ISO-8601 UTC, gateway clock)}}, compact,
   * written by Jackson's generator ({@link JsonText}) on the rule shard's thread.
   */
  static String annunciationJson(UnconfirmedAlarm a) {
    AlarmTransition t = a.transition();
    Map<String, Object> m = new LinkedHashMap<>(16);
    m.put("annunciationId", a.id());
    m.put("deviceId", t.deviceId());
    m.put("ruleId", t.ruleId());
    m.put("kind", t.kind() == AlarmTransition.Kind.SEVERITY_CHANGE ? "severity" : "raise");
    m.put("severity", t.severity().wireName());
    m.put("message", t.message());
    m.put("evidence", t.evidence());
    m.put("eventTime", Instant.ofEpochMilli(t.timeMillis() > 0 ? t.timeMillis() : a.decidedAtMillis()).toString());
    m.put("decidedAt", Instant.ofEpochMilli(a.decidedAtMillis()).toString());
    return JsonText.write(Json.MAPPER, m, ANNUNCIATION_CAPACITY);
  }

  /** {@link #annunciationJson}'s first capacity, chars: a gas raise's is about 0.5 k. */
  private static final int ANNUNCIATION_CAPACITY = 768;

  /** The data of a settled annunciation's {@code event: annunciation}: no kind, no evidence. */
  static String settledJson(UnconfirmedAlarm a, boolean committed) {
    Map<String, Object> m = new LinkedHashMap<>(8);
    m.put("annunciationId", a.id());
    m.put("status", committed ? "committed" : "given_up");
    m.put("deviceId", a.transition().deviceId());
    m.put("ruleId", a.transition().ruleId());
    return JsonText.write(Json.MAPPER, m, 128);
  }

  /**
   * The data of {@code event: unconfirmed} (docs/dashboard.md): {@code {"unconfirmedId", "status",
   * "deviceId", "ruleId", "kind" (raise | severity_change), "severity", "message", "evidence",
   * "eventTime" (the transition's time, ISO-8601 UTC: the ledger's raisedAt once committed),
   * "decidedAt", "heldFor" (ms it had waited when handed over)}}.
   */
  static String unconfirmedJson(UnconfirmedAlarm a, String status) {
    AlarmTransition t = a.transition();
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("unconfirmedId", a.id());
    m.put("status", status);
    m.put("deviceId", t.deviceId());
    m.put("ruleId", t.ruleId());
    m.put("kind", t.kind().name().toLowerCase(java.util.Locale.ROOT));
    m.put("severity", t.severity().wireName());
    m.put("message", t.message());
    m.put("evidence", t.evidence());
    m.put("eventTime", Instant.ofEpochMilli(t.timeMillis() > 0 ? t.timeMillis() : a.decidedAtMillis()).toString());
    m.put("decidedAt", Instant.ofEpochMilli(a.decidedAtMillis()).toString());
    m.put("heldFor", a.waitedMillis());
    return Json.write(m);
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

  /**
   * Adds a client; it is sent the annunciations and unconfirmed alarms not settled yet (queued:
   * after a replay), at most 2 x {@value #PENDING_CAP} frames.
   */
  void subscribe(LiveSubscriber s) {
    List<LiveEvent> kept = new java.util.ArrayList<>();
    synchronized (pendingLock) { // offered under it: no settle's frame can come before its kept frame
      subscribers.add(s);
      annunciations.addFramesTo(kept);
      unconfirmed.addFramesTo(kept);
      for (LiveEvent e : kept) {
        s.offer(e);
      }
    }
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
