package io.safegrid.dashboard.live;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.util.concurrent.TimeUnit;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.dashboard.api.AlarmJson;
import io.safegrid.dashboard.api.Params;
import io.safegrid.dashboard.http.ApiException;
import io.safegrid.dashboard.http.Json;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code GET /api/live} (server-sent events) and {@code GET /api/live/snapshot}.
 *
 * <h2>Stream</h2>
 *
 * <ul>
 *   <li>{@code event: alarm}, {@code id:} = the {@code alarm_events} id, data = the alarm event
 *       (with the alarm after the change) as JSON.
 *   <li>{@code event: device}, no id: {@code {"deviceId","online","since","reason"}}.
 *   <li>{@code event: reading}, no id, only for devices listed in {@code ?readings=a,b} (at most
 *       {@value #MAX_READING_DEVICES}): {@code {"deviceId","metric","time","value"}}.
 *   <li>{@code event: reset}, data {@code {"reason","detail"}}: reload the snapshot. Reasons:
 *       {@code replay_limit} (the client missed more than {@value #REPLAY_LIMIT} alarm events) and
 *       {@code unknown_event_id} (its Last-Event-ID is above this ledger's newest alarm event id:
 *       the database was recreated or restored; the stream then goes on live from the ledger's
 *       newest id).
 *   <li>{@code event: dropped}, data {@code {"reason": "slow_client"}}: the server closes the
 *       stream (the client's queue overflowed, or {@code replay_failed}); reconnect with {@code
 *       Last-Event-ID}.
 *   <li>{@code event: unconfirmed}, no id: a hazard the alarm ledger has not committed in time (its
 *       database unreachable; docs/alerting.md "Database outage"): {@code {"unconfirmedId",
 *       "status" (waiting | committed | given_up), "deviceId", "ruleId", "kind", "severity",
 *       "message", "evidence", "eventTime", "decidedAt", "heldFor"}}. A client is sent the waiting
 *       ones when it connects; {@code committed} means the ledger's {@code event: alarm} frames
 *       carry it from now on.
 *   <li>{@code event: annunciation}, no id: a hazard raise or severity change at the rule engine's
 *       decision, before the ledger records it (docs/alerting.md "Annunciation before the
 *       ledger"): {@code {"annunciationId", "deviceId", "ruleId", "kind" (raise | severity),
 *       "severity", "message", "evidence", "eventTime", "decidedAt"}}; when it settles, {@code
 *       {"annunciationId", "status" (committed | given_up), "deviceId", "ruleId"}}. A client is sent
 *       the ones not settled when it connects. The ledger's {@code event: alarm} of it follows.
 *   <li>a comment {@code : keepalive} every 15 s.
 * </ul>
 *
 * <h2>Resume</h2>
 *
 * Resume is defined for alarm events: a client that sends {@code Last-Event-ID: N} (header, as
 * EventSource does on reconnect, or the query parameter {@code lastEventId=N} for the first
 * connect after a snapshot) receives every alarm event with id &gt; N exactly once, in id order:
 * the client is subscribed to the live fan-out first (into its buffer), then the ledger's {@code
 * eventsAfter(N)} is replayed, then the buffer drains skipping ids &lt;= the last replayed. Device
 * and reading events carry no id (so they never move the browser's Last-Event-ID); after a
 * reconnect the device states come from the snapshot.
 */
public final class LiveStream {
  /** At most this many alarm events are replayed on resume (else {@code event: reset}). */
  public static final int REPLAY_LIMIT = 10_000;

  /** At most this many devices in {@code ?readings=}. */
  public static final int MAX_READING_DEVICES = 100;

  private static final Logger log = LoggerFactory.getLogger(LiveStream.class);
  private final Vertx vertx;
  private final AlarmService alarms;
  private final LiveFeed feed;
  private final LongSupplier lastEventIdProbe;
  private final MeterRegistry registry;
  private final int clientQueueCapacity;
  private final long keepaliveTimer;
  private final Timer alarmWriteDelay;

  /**
   * @param lastEventIdProbe blocking: the greatest committed {@code alarm_events} id (0 if none)
   * @param clientQueueCapacity unwritten events a client may lag behind before it is dropped
   */
  public LiveStream(
      Vertx vertx,
      AlarmService alarms,
      LiveFeed feed,
      LongSupplier lastEventIdProbe,
      MeterRegistry registry,
      int clientQueueCapacity) {
    this.vertx = vertx;
    this.alarms = alarms;
    this.feed = feed;
    this.lastEventIdProbe = lastEventIdProbe;
    this.registry = registry;
    this.clientQueueCapacity = clientQueueCapacity;
    feed.recordAlarmAge(registry);
    feed.recordAnnunciations(registry);
    this.alarmWriteDelay = Timer.builder("safegrid.live.write.delay")
        .description("alarm event fanned out to the live feed to its frame written to a client's connection")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
    Gauge.builder("safegrid.live.clients", feed, LiveFeed::clients)
        .description("connected /api/live clients")
        .register(registry);
    this.keepaliveTimer =
        vertx.setPeriodic(15_000, id -> feed.fanOut(LiveEvent.comment("keepalive")));
  }

  /** Stops the keepalive timer. */
  public void close() {
    vertx.cancelTimer(keepaliveTimer);
  }

  /** {@code GET /api/live}. */
  public void stream(RoutingContext ctx) {
    Long lastEventId = lastEventId(ctx);
    Set<String> readingDevices = readingDevices(ctx.request().getParam("readings"));
    HttpServerResponse resp = ctx.response();
    resp.setStatusCode(200)
        .setChunked(true)
        .putHeader("Content-Type", "text/event-stream; charset=utf-8")
        .putHeader("Cache-Control", "no-store")
        .putHeader("X-Accel-Buffering", "no");
    Context context = vertx.getOrCreateContext();
    SseClient client =
        new SseClient(
            resp,
            context,
            readingDevices,
            clientQueueCapacity,
            lastEventId == null ? 0 : lastEventId,
            lastEventId != null,
            this::dropped,
            nanos -> alarmWriteDelay.record(nanos, TimeUnit.NANOSECONDS));
    resp.closeHandler(
        v -> {
          client.markClosed();
          feed.unsubscribe(client);
        });
    client.writeNow(LiveEvent.comment("safegrid live stream"));
    resp.write("retry: 3000\n\n");
    // subscribe first, into the client's buffer; then replay; then drain without the seam's duplicates
    feed.subscribe(client);
    if (lastEventId == null) {
      client.finishReplay(List.of());
      return;
    }
    long after = lastEventId;
    vertx
        .executeBlocking(() -> Replay.read(alarms, lastEventIdProbe, after), false)
        .onComplete(
            ar -> {
              if (client.closed()) {
                return;
              }
              if (ar.failed()) {
                log.warn("live replay after event {} failed", after, ar.cause());
                // the ledger is unreachable: what it has not committed still reaches this client
                // (annunciations and unconfirmed alarms not settled)
                for (LiveEvent e : feed.pendingFrames()) {
                  client.writeNow(e);
                }
                client.drop("replay_failed");
                return;
              }
              Replay r = ar.result();
              List<LiveEvent> replay = new ArrayList<>(r.events().size());
              if (r.events().size() > REPLAY_LIMIT) {
                reset(
                    client,
                    "replay_limit",
                    "more than " + REPLAY_LIMIT + " alarm events missed; reload /api/live/snapshot");
              } else if (r.newestId() < after) {
                // an id this ledger never gave out: the database was recreated or restored since
                // the client's last event; its board is of another ledger
                reset(
                    client,
                    "unknown_event_id",
                    "Last-Event-ID "
                        + after
                        + " is above this ledger's newest alarm event id "
                        + r.newestId()
                        + " (the database was recreated or restored); reload /api/live/snapshot");
                client.resumeAfter(r.newestId());
              } else {
                for (AlarmEvent e : r.events()) {
                  replay.add(LiveFeed.alarmFrame(e));
                }
              }
              client.finishReplay(replay);
            });
  }

  /**
   * What a resume after {@code Last-Event-ID: after} reads from the ledger: the events after it
   * (at most {@value #REPLAY_LIMIT} + 1), and, when there are none, the ledger's newest committed
   * event id (to tell "nothing new" from "an id this ledger never gave out"); {@code newestId} is
   * {@code after} when there are events.
   */
  private record Replay(List<AlarmEvent> events, long newestId) {
    static Replay read(AlarmService alarms, LongSupplier newestProbe, long after) {
      List<AlarmEvent> events = alarms.eventsAfter(after, REPLAY_LIMIT + 1);
      // the newest committed id only grows, and a client's id came from a committed event (or a
      // snapshot's newest id), so this is below `after` only for another ledger's id
      return new Replay(events, events.isEmpty() ? newestProbe.getAsLong() : after);
    }
  }

  /** Tells {@code client} to reload the snapshot ({@code event: reset}) and counts it by reason. */
  private void reset(SseClient client, String reason, String detail) {
    Counter.builder("safegrid.live.resets")
        .description("resumes answered with event: reset (reload the snapshot), by reason")
        .tag("reason", reason)
        .register(registry)
        .increment();
    log.info("live resume answered with reset: {}", detail);
    client.writeNow(LiveEvent.control("reset", Json.write(Map.of("reason", reason, "detail", detail))));
  }

  /** {@code GET /api/live/snapshot}: open alarms, device states, and the last event id. */
  public void snapshot(RoutingContext ctx) {
    vertx
        .executeBlocking(
            () -> {
              // the id first: events after it are replayed by the stream, at worst applied twice
              long last = Math.max(lastEventIdProbe.getAsLong(), feed.lastAlarmEventId());
              Set<AlarmState> open = EnumSet.complementOf(EnumSet.of(AlarmState.CLOSED));
              List<Map<String, Object>> list = new ArrayList<>();
              alarms.list(open, 1000, 0).forEach(a -> list.add(AlarmJson.alarm(a)));
              List<Map<String, Object>> devices = new ArrayList<>();
              feed.deviceStates().values().stream()
                  .sorted(java.util.Comparator.comparing(DeviceState::deviceId))
                  .forEach(s -> devices.add(LiveFeed.deviceJson(s)));
              Map<String, Object> body = new LinkedHashMap<>();
              body.put("lastEventId", last);
              body.put("serverTime", Instant.now().toString());
              body.put("alarms", list);
              body.put("devices", devices);
              return body;
            },
            false)
        .onSuccess(body -> Json.respond(ctx, 200, body))
        .onFailure(ctx::fail);
  }

  private void dropped(SseClient client, String reason) {
    feed.unsubscribe(client);
    Counter.builder("safegrid.live.dropped")
        .description("live clients dropped by the server")
        .tag("reason", reason)
        .register(registry)
        .increment();
    log.info("live client dropped: {}", reason);
  }

  private static Long lastEventId(RoutingContext ctx) {
    String raw = ctx.request().getHeader("Last-Event-ID");
    String source = "Last-Event-ID header";
    if (raw == null || raw.isBlank()) {
      raw = ctx.request().getParam("lastEventId");
      source = "lastEventId";
    }
    if (raw == null || raw.isBlank()) {
      return null;
    }
    try {
      long v = Long.parseLong(raw.trim());
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw ApiException.badRequest(
          "bad_event_id", source + " must be a non-negative alarm event id, got '" + raw + "'");
    }
  }

  private static Set<String> readingDevices(String raw) {
    if (raw == null || raw.isBlank()) {
      return Set.of();
    }
    Set<String> ids = new LinkedHashSet<>();
    for (String s : raw.split(",")) {
      String id = s.trim();
      if (id.isEmpty()) {
        continue;
      }
      Params.checkDeviceId(id, "readings");
      ids.add(id);
    }
    if (ids.size() > MAX_READING_DEVICES) {
      throw ApiException.badRequest(
          "too_many_devices",
          "readings may name at most " + MAX_READING_DEVICES + " devices, got " + ids.size());
    }
    return ids;
  }
}
