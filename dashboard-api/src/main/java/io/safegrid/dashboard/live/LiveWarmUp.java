package io.safegrid.dashboard.live;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.dashboard.http.Json;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Warms the live stream's alarm path at start, so that the first real alarm after a gateway start
 * reaches {@code /api/live} as fast as the ones after it; shows nothing to anyone.
 *
 * <p>What it runs, {@code cycles} times, with a synthetic device ({@value #DEVICE}) that is in no
 * site: its annunciation and settle as the alarm writer hands them over ({@link
 * LiveFeed#annunciated}: the {@code event: annunciation} JSON and frames), and the three ledger
 * events of a gas alarm's life as the ledger hands them to the live feed
 * ({@code raised} with the alarm, the escalation's {@code notified}, {@code cleared}; their {@code
 * details} and {@code evidence} read by Jackson from JSON text, as the ledger's are) are given to
 * {@link LiveFeed#alarmEvent} of a <em>throwaway</em> {@link LiveFeed}: the listener's own code
 * ({@code AlarmJson}, Jackson's serialisers for those shapes, the SSE frame's string
 * concatenation, the fan-out, the {@code eventTime} parse and record of the alarm-age timer). Its
 * only subscriber is a throwaway {@link SseClient} on a context of the dashboard's Vert.x: its
 * queue, the hop to the event loop ({@code runOnContext}), the drain that batches frames into one
 * {@link Buffer}, the write-delay timer. The client's response is a stand-in that counts and
 * discards the bytes: no socket is involved, and Vert.x's own chunked write of an SSE response is
 * not run here (every {@code /api/live} connection runs it for its greeting before it can receive
 * an alarm).
 *
 * <p>What it leaves: nothing. The dashboard's {@link LiveFeed} is not touched (its clients get no
 * frame, its {@link LiveFeed#lastAlarmEventId()} does not move); the timers recorded are in a
 * throwaway registry (closed after), not the gateway's {@code /metrics}; no database is read or
 * written.
 *
 * <p>Why: the first alarm after a start loaded and linked these classes and lambdas on the alarm
 * path itself (docs/performance.md "Round 4" and "Round 5: the first alarm after a start": about
 * 30 ms against 5 ms for the next ones, {@code -Xlog:class+load} showed {@code AlarmJson}, the
 * client's drain lambda and Vert.x's context task on the first frame). A few hundred cycles also
 * get the frame code compiled by C1 (the launcher's gateway JVM runs C1 only: a method is compiled
 * after about 200 calls).
 */
public final class LiveWarmUp {

  /** The synthetic device of the warm-up's alarm events (the ledger's warm-up uses the same id). */
  public static final String DEVICE = "safegrid-warmup";

  /** Frames per cycle: raised, notified, cleared. */
  static final int FRAMES_PER_CYCLE = 3;

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private LiveWarmUp() {}

  /**
   * What a run did.
   *
   * @param cycles cycles run
   * @param frames alarm frames written into the throwaway client's response
   * @param bytes their bytes (UTF-8 length of the frames' text)
   * @param nanos how long it took, ns
   */
  public record Result(int cycles, long frames, long bytes, long nanos) {
    /** How long it took, ms. */
    public long millis() {
      return TimeUnit.NANOSECONDS.toMillis(nanos);
    }
  }

  /**
   * Runs the warm-up on the calling thread (the drains run on an event loop of {@code vertx}) and
   * returns when the last frame was written into the throwaway response, or after {@code timeout}.
   *
   * @param vertx the dashboard's Vert.x (whose event loops write the real clients' frames)
   * @param cycles how many alarm lives, >= 1
   * @param timeout the longest to wait for one cycle's frames to be drained
   * @return what was done (fewer frames than {@code cycles * 3} when an event loop was too busy)
   * @throws IllegalArgumentException when cycles < 1
   */
  public static Result run(Vertx vertx, int cycles, Duration timeout) {
    if (cycles < 1) {
      throw new IllegalArgumentException("cycles must be >= 1: " + cycles);
    }
    long t0 = System.nanoTime();
    AtomicLong bytes = new AtomicLong();
    Semaphore written = new Semaphore(0);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Timer writeDelay = Timer.builder("safegrid.live.write.delay").publishPercentiles(0.5, 0.9, 0.99).register(registry);
    SseClient client =
        new SseClient(
            discardingResponse(bytes),
            vertx.getOrCreateContext(),
            Set.of(),
            1024,
            0,
            false,
            (c, reason) -> {},
            nanos -> {
              writeDelay.record(nanos, TimeUnit.NANOSECONDS);
              written.release();
            });
    LiveFeed feed = new LiveFeed(); // throwaway: its only subscriber is the throwaway client
    feed.recordAlarmAge(registry);
    feed.recordAnnunciations(registry);
    feed.subscribe(client);
    Map<String, Object> evidence = map("{\"unit\": \"%LEL\", \"level\": 2, \"value\": 60.0, \"metric\": \"gas_lel\","
        + " \"setpoint\": 50.0, \"direction\": \"above\", \"hysteresis\": 5.0, \"previous_level\": 0,"
        + " \"reading_time_ms\": 1796002207500}");
    Map<String, Object> notified = map("{\"step\": 1, \"level\": \"community\", \"recipients\": [\"" + DEVICE
        + "-a\", \"" + DEVICE + "-b\"], \"nextEscalationAt\": \"2026-11-30T01:30:55.515989Z\"}");
    int done = 0;
    long frames = 0;
    try {
      for (; done < cycles; done++) {
        long id = (long) done * FRAMES_PER_CYCLE;
        Instant now = Instant.now();
        String eventTime = now.toString();
        Map<String, Object> raiseDetails = map("{\"severity\": \"critical\", \"eventTime\": \"" + eventTime + "\"}");
        Map<String, Object> clearDetails = map("{\"eventTime\": \"" + eventTime + "\"}");
        Alarm active = new Alarm(id + 1, DEVICE, "gas-lel-threshold", Severity.CRITICAL, AlarmState.ACTIVE_UNACKED,
            1, "warm-up 60.0 %LEL", evidence, now, now, null, null, null, null, null);
        Alarm cleared = new Alarm(id + 1, DEVICE, "gas-lel-threshold", Severity.CRITICAL,
            AlarmState.CLEARED_UNACKED, 1, "warm-up 60.0 %LEL", evidence, now, now, null, null, now, null, null);
        AlarmEvent[] life = {
          new AlarmEvent(id + 1, id + 1, "raised", null, AlarmState.ACTIVE_UNACKED, "rules",
              "warm-up 60.0 %LEL", now, active, raiseDetails),
          new AlarmEvent(id + 2, id + 1, "notified", AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_UNACKED,
              "escalation", "warm-up", now, active, notified),
          new AlarmEvent(id + 3, id + 1, "cleared", AlarmState.ACTIVE_UNACKED, AlarmState.CLEARED_UNACKED, "rules",
              "warm-up 0.0 %LEL", now, cleared, clearDetails)
        };
        // the annunciation before the ledger, as the alarm writer gives it on the MQTT loop
        UnconfirmedAlarm announced = new UnconfirmedAlarm(id + 1, new AlarmTransition(DEVICE, "gas-lel-threshold",
            AlarmTransition.Kind.RAISE, Severity.CRITICAL, now.toEpochMilli(), "warm-up 60.0 %LEL", evidence),
            now.toEpochMilli(), now.toEpochMilli());
        feed.annunciated(announced);
        for (AlarmEvent e : life) {
          feed.alarmEvent(e); // the listener's own code: frame, fan-out, alarm-age timer
        }
        feed.annunciationSettled(announced, true);
        if (!written.tryAcquire(FRAMES_PER_CYCLE, timeout.toNanos(), TimeUnit.NANOSECONDS)) {
          break; // an event loop this busy at start: stop, nothing depends on the warm-up
        }
        frames += FRAMES_PER_CYCLE;
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      feed.unsubscribe(client);
      client.markClosed();
      registry.close();
    }
    return new Result(done, frames, bytes.get(), System.nanoTime() - t0);
  }

  private static Map<String, Object> map(String json) {
    try {
      return Json.MAPPER.readValue(json, MAP);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * A stand-in for the client's HTTP response: never full, counts and drops what is written, every
   * other call does nothing (a method returning the response returns the stand-in).
   */
  private static HttpServerResponse discardingResponse(AtomicLong bytes) {
    return (HttpServerResponse) Proxy.newProxyInstance(
        LiveWarmUp.class.getClassLoader(),
        new Class<?>[] {HttpServerResponse.class},
        (proxy, method, args) -> {
          switch (method.getName()) {
            case "write":
              if (args != null && args.length > 0 && args[0] instanceof Buffer b) {
                bytes.addAndGet(b.length());
              } else if (args != null && args.length > 0 && args[0] instanceof String s) {
                bytes.addAndGet(s.length());
              }
              return Future.succeededFuture();
            case "end":
              return Future.succeededFuture();
            case "hashCode":
              return System.identityHashCode(proxy);
            case "equals":
              return proxy == args[0];
            case "toString":
              return "LiveWarmUp.discardingResponse";
            default:
              Class<?> r = method.getReturnType();
              if (r.isInstance(proxy)) {
                return proxy;
              }
              if (r == boolean.class) {
                return false; // writeQueueFull(), ended(), closed(), ...
              }
              if (r == int.class || r == long.class) {
                return r == int.class ? (Object) 0 : (Object) 0L;
              }
              if (r == Future.class) {
                return Future.succeededFuture();
              }
              return null;
          }
        });
  }
}
