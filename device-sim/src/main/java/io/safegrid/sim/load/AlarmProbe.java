package io.safegrid.sim.load;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.sim.link.DeviceLink;
import io.netty.channel.EventLoop;
import io.netty.channel.EventLoopGroup;
import io.safegrid.sim.link.netty.SocketTransport;
import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.HdrHistogram.Recorder;

/**
 * Publish-to-alarm and publish-to-annunciation latency from one or more probe gas alarms. Each probe device, on its own
 * phase of a common interval, publishes 60 %LEL (QoS 1), which crosses the 25 %LEL first-level
 * setpoint (GB/T 50493-2019 5.5.2), and about half an interval later ({@link #clearDelay}) 0 %LEL, which is below the
 * setpoint minus the clear hysteresis (5 %LEL in the shipped site), so the gateway clears the
 * alarm and the next crossing raises it again (the ledger reopens the cleared entry: event
 * {@code reopened}). Meanwhile one listener reads the gateway's {@code /api/live} (server-sent
 * events, bearer token). A sample is the time from a crossing's publish to the first
 * {@code event: alarm} for that device of type raised, reopened, repeated or severity_changed
 * whose evidence {@code reading_time_ms} is the crossing's {@code ts} (or, if the event carries
 * no evidence time, the device's latest crossing still waiting). Samples are recorded in µs.
 *
 * <p>The same crossing is timed a second time, apart, to its {@code event: annunciation}: the
 * gateway's rule engine announces a hazard raise or severity change on {@code /api/live} at its
 * decision, before the ledger's PostgreSQL commit, whose {@code event: alarm} follows
 * (docs/alerting.md "Annunciation before the ledger"). An annunciation sample is the time from the
 * crossing's publish to the first {@code event: annunciation} whose top-level {@code deviceId} is
 * the probe device, {@code kind} {@code raise} or {@code severity}, and {@code
 * evidence.reading_time_ms} the crossing's {@code ts}; an annunciation carrying a {@code status}
 * (a given-up one sent again: {@code "given_up"}) is no sample. The two sets never mix: an
 * annunciation is never an alarm sample, and an alarm event never an annunciation sample. Against
 * a gateway without annunciations the annunciation set stays empty and nothing else changes.
 *
 * <p>The clock starts right before the PUBLISH is handed to the link and stops when the event's
 * bytes were read from the socket ({@link LiveStreamReader}, on a Netty event loop, before the
 * JSON is parsed).
 */
public final class AlarmProbe implements AutoCloseable {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Set<String> RAISING = Set.of("raised", "reopened", "repeated", "severity_changed");
  /** The annunciation kinds a crossing can cause (docs/dashboard.md, {@code event: annunciation}). */
  private static final Set<String> ANNUNCIATING = Set.of("raise", "severity");

  /**
   * One probe device: its link, its crossings still waiting for their alarm and, apart, for their
   * annunciation (ts ms -> publish ns).
   */
  private static final class Probe {
    final String deviceId;
    final DeviceLink link;
    final ConcurrentSkipListMap<Long, Long> waiting = new ConcurrentSkipListMap<>();
    final ConcurrentSkipListMap<Long, Long> waitingAnnunciation = new ConcurrentSkipListMap<>();
    long lastTs;
    long seq;

    Probe(String deviceId, DeviceLink link) {
      this.deviceId = deviceId;
      this.link = link;
    }

    /** A payload with a ts later than every earlier one (distinct readings, in order). */
    synchronized byte[] payload(double lel, long[] tsOut) {
      long ts = Math.max(System.currentTimeMillis(), lastTs + 1);
      lastTs = ts;
      tsOut[0] = ts;
      return ("{\"ts\":" + ts + ",\"seq\":" + (++seq) + ",\"values\":{\"gas_lel\":" + lel + "}}")
          .getBytes(StandardCharsets.UTF_8);
    }
  }

  /**
   * One set of samples (publish-to-alarm, or publish-to-annunciation): its histogram (µs), counts
   * and samples file. Recorded on the reader's event loop only.
   */
  private final class SampleSet {
    final Recorder micros;
    final AtomicLong samples = new AtomicLong();
    final AtomicLong unmatched = new AtomicLong();
    volatile Writer out;

    SampleSet(Recorder micros) {
      this.micros = micros;
    }

    /** A sample of crossing {@code ts} published at {@code since} and read at {@code now} (ns), unless warm-up. */
    void record(long crossingTs, String deviceId, long since, long now) {
      if (since - recordFrom < 0) {
        return; // a warm-up crossing's event
      }
      long us = Math.max(0, (now - since) / 1000);
      micros.recordValue(us);
      samples.incrementAndGet();
      Writer w = out;
      if (w == null) {
        return;
      }
      try {
        w.write(crossingTs + "," + deviceId + "," + us + "," + since + "," + now + "\n");
      } catch (IOException e) {
        out = null; // no more lines; the error is lastError()
        lastError = "cannot write the samples file: " + e.getMessage();
      }
    }

    /** Closes the samples file (an event still in the reader's loop writes nothing more). */
    void close() {
      Writer w = out;
      out = null;
      if (w != null) {
        try {
          w.close();
        } catch (IOException e) {
          lastError = "cannot write the samples file: " + e.getMessage();
        }
      }
    }
  }

  private final Map<String, Probe> probes = new LinkedHashMap<>();
  private final SampleSet alarms;
  private final SampleSet annunciations;
  private final AtomicLong crossings = new AtomicLong();
  private final List<ScheduledFuture<?>> schedule = new ArrayList<>();
  private final EventLoopGroup ownLoop; // null when the caller gave the loop
  private volatile long recordFrom; // System.nanoTime(): crossings published before it are warm-up
  private final LiveStreamReader reader;
  private volatile String lastError;

  /**
   * Starts listening on {@code /api/live} at once (crossings start with {@link #start}), on an
   * event loop thread of its own ({@code alarm-probe-sse}).
   *
   * @param apiUrl gateway HTTP base, e.g. {@code http://127.0.0.1:8080}
   * @param token bearer token (role viewer is enough)
   * @param links probe device id -> its connected link (gas alarms of the gateway's site)
   * @param latencyMicros where publish-to-alarm samples go, µs
   * @param annunciationMicros where publish-to-annunciation samples go, µs
   */
  public AlarmProbe(String apiUrl, String token, Map<String, DeviceLink> links, Recorder latencyMicros,
      Recorder annunciationMicros) {
    this(apiUrl, token, links, latencyMicros, annunciationMicros, null);
  }

  /**
   * Starts listening on {@code /api/live} at once (crossings start with {@link #start}).
   *
   * @param latencyMicros where publish-to-alarm samples go, µs
   * @param annunciationMicros where publish-to-annunciation samples go, µs
   * @param loop the event loop the stream is read on (and the event's arrival timed), best the
   *     probe links' own loop so that crossings, PUBACKs and alarm events share one thread; null
   *     for a thread of its own (on {@link SocketTransport#fromProperty()})
   * @throws IllegalArgumentException when {@code apiUrl} is not {@code http://host[:port]}
   */
  public AlarmProbe(String apiUrl, String token, Map<String, DeviceLink> links, Recorder latencyMicros,
      Recorder annunciationMicros, EventLoop loop) {
    links.forEach((id, link) -> probes.put(id, new Probe(id, link)));
    this.alarms = new SampleSet(latencyMicros);
    this.annunciations = new SampleSet(annunciationMicros);
    if (loop == null) {
      ownLoop = SocketTransport.fromProperty().newGroup(1, "alarm-probe-sse");
      loop = ownLoop.next();
    } else {
      ownLoop = null;
    }
    this.reader = new LiveStreamReader(loop, apiUrl, token, (event, data, receivedAt) -> {
      if ("alarm".equals(event)) {
        onAlarm(data, receivedAt);
      } else if ("annunciation".equals(event)) {
        onAnnunciation(data, receivedAt);
      }
    });
  }

  /**
   * Schedules the crossings: probe {@code i} of {@code n} crosses at {@code initialDelayMs + i *
   * intervalMs / n} and then every {@code intervalMs}, and clears {@link #clearDelay} after each
   * crossing: about half an interval, half-way between two crossings. (Clearing exactly half an
   * interval later put, with an even number of probes, every clear on another probe's crossing in
   * the same millisecond, so half the crossings queued behind a clear's ledger transaction: the
   * probe timed its own traffic, not the gateway's.) A crossing's clock starts on the scheduler's
   * thread just before the publish: pass the probe links' Netty event loop (it is a {@link
   * ScheduledExecutorService}) so the PUBLISH is written on that thread at once, with no hop
   * between the clock's start and the socket.
   *
   * <p>Crossings published in the first {@code warmUpMs} after this call are warm-up: their alarms
   * are matched and dropped, neither samples nor counted crossings (as the load's PUBACKs of its
   * warm-up seconds are sent but not timed). They carry the path's first uses in this gateway
   * (class loading, first compilations, each probe device's first alarm).
   *
   * @param intervalMs one probe's cycle, ms (>= 2: crossing and clear must be distinct readings)
   * @param warmUpMs ms from now in which crossings are not timed, >= 0
   */
  public void start(ScheduledExecutorService scheduler, long initialDelayMs, long intervalMs, long warmUpMs) {
    recordFrom = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(warmUpMs);
    if (intervalMs < 2) {
      throw new IllegalArgumentException("probe interval must be >= 2 ms, was " + intervalMs);
    }
    int n = probes.size();
    int i = 0;
    for (Probe p : probes.values()) {
      long offset = initialDelayMs + i++ * intervalMs / n;
      schedule.add(scheduler.scheduleAtFixedRate(() -> cross(p), offset, intervalMs, TimeUnit.MILLISECONDS));
      schedule.add(scheduler.scheduleAtFixedRate(() -> clear(p), offset + clearDelay(n, intervalMs), intervalMs,
          TimeUnit.MILLISECONDS));
    }
  }

  /**
   * How long after its crossing a probe clears: about half an interval, and half-way between two
   * crossings of the {@code n} probes (at {@code k * intervalMs / n}), so that no clear is
   * published in the same millisecond as a crossing: {@code (2 floor(n/2) + 1) * intervalMs / 2n},
   * i.e. {@code intervalMs / 2 + intervalMs / 2n} for an even {@code n} and {@code intervalMs / 2}
   * for an odd one (with one probe, half-way to its own next crossing).
   *
   * @param n probe devices, >= 1
   * @param intervalMs one probe's cycle, ms
   * @return ms after the crossing
   */
  static long clearDelay(int n, long intervalMs) {
    return (2L * (n / 2) + 1) * intervalMs / (2L * n);
  }

  /** Stops publishing crossings (samples still arrive until {@link #close}). */
  public void stop() {
    schedule.forEach(f -> f.cancel(false));
  }

  /** True once the SSE stream answered 200. */
  public boolean streaming() {
    return reader.streaming();
  }

  /** Crossings published so far. */
  public long crossings() {
    return crossings.get();
  }

  /** Publish-to-alarm samples taken so far. */
  public long samples() {
    return alarms.samples.get();
  }

  /** Raising alarm events of a probe device that matched no crossing (e.g. a late duplicate). */
  public long unmatched() {
    return alarms.unmatched.get();
  }

  /** Publish-to-annunciation samples taken so far (0 against a gateway without annunciations). */
  public long annunciationSamples() {
    return annunciations.samples.get();
  }

  /**
   * Annunciations (kind raise or severity, no {@code status}) of a probe device that matched no
   * crossing still waiting for one: no or another {@code evidence.reading_time_ms}, or the same
   * annunciation again (e.g. sent again on a reconnect of the stream).
   */
  public long annunciationUnmatched() {
    return annunciations.unmatched.get();
  }

  /** The last stream error (or unreadable event), or null. */
  public String lastError() {
    String e = lastError;
    return e != null ? e : reader.lastError();
  }

  /** The probe device ids. */
  public List<String> deviceIds() {
    return List.copyOf(probes.keySet());
  }

  private void cross(Probe p) {
    long[] ts = new long[1];
    byte[] payload = p.payload(60.0, ts);
    long publishedAt = System.nanoTime();
    p.waiting.put(ts[0], publishedAt);
    p.waitingAnnunciation.put(ts[0], publishedAt);
    if (publishedAt - recordFrom >= 0) {
      crossings.incrementAndGet();
    }
    p.link.publish("telemetry", payload, 1);
    // a crossing unanswered for a minute will not be: forget it (it shows as crossings - samples)
    p.waiting.headMap(ts[0] - 60_000).clear();
    p.waitingAnnunciation.headMap(ts[0] - 60_000).clear();
  }

  private void clear(Probe p) {
    p.link.publish("telemetry", p.payload(0.0, new long[1]), 1);
  }

  /** On the reader's event loop; {@code now}: when the event's bytes were read. */
  private void onAlarm(String data, long now) {
    try {
      JsonNode event = JSON.readTree(data);
      JsonNode alarm = event.path("alarm");
      Probe p = probes.get(alarm.path("deviceId").asText());
      if (p == null || !RAISING.contains(event.path("type").asText())) {
        return;
      }
      JsonNode readingTime = alarm.path("evidence").path("reading_time_ms");
      Long since;
      long crossingTs;
      if (readingTime.canConvertToLong()) {
        crossingTs = readingTime.asLong();
        since = p.waiting.remove(crossingTs);
      } else {
        Map.Entry<Long, Long> latest = p.waiting.pollLastEntry();
        since = latest == null ? null : latest.getValue();
        crossingTs = latest == null ? 0 : latest.getKey();
        if (latest != null) {
          p.waiting.headMap(latest.getKey()).clear();
        }
      }
      if (since == null) {
        alarms.unmatched.incrementAndGet();
        return;
      }
      alarms.record(crossingTs, p.deviceId, since, now);
    } catch (Exception e) {
      lastError = "unreadable alarm event: " + e.getMessage();
    }
  }

  /**
   * On the reader's event loop; {@code now}: when the event's bytes were read. Data (compact JSON,
   * docs/dashboard.md): {@code {"annunciationId", "deviceId", "ruleId", "kind", "severity",
   * "message", "evidence": {..., "reading_time_ms"}, "eventTime", "decidedAt"}}, and {@code
   * "status"} on a settled one sent again (no sample).
   */
  private void onAnnunciation(String data, long now) {
    try {
      JsonNode a = JSON.readTree(data);
      Probe p = probes.get(a.path("deviceId").asText());
      if (p == null || !ANNUNCIATING.contains(a.path("kind").asText()) || a.hasNonNull("status")) {
        return;
      }
      JsonNode readingTime = a.path("evidence").path("reading_time_ms");
      Long since = readingTime.canConvertToLong() ? p.waitingAnnunciation.remove(readingTime.asLong()) : null;
      if (since == null) {
        annunciations.unmatched.incrementAndGet();
        return;
      }
      annunciations.record(readingTime.asLong(), p.deviceId, since, now);
    } catch (Exception e) {
      lastError = "unreadable annunciation event: " + e.getMessage();
    }
  }

  /**
   * Also writes every sample to {@code file} (created or truncated), one line each: the crossing's
   * {@code ts} (device clock, ms since the epoch), the device id, the publish-to-alarm latency
   * in µs, and the {@link System#nanoTime()} of the publish and of the event's read (ns; on Linux
   * {@code CLOCK_MONOTONIC}, the clock of the gateway's alarm path trace on the same host),
   * comma-separated; for lining slow samples up with what happened then. Call before
   * {@link #start}; the file is complete after {@link #close}.
   *
   * @throws IOException when the file cannot be created
   */
  public void samplesTo(Path file) throws IOException {
    alarms.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  /**
   * Also writes every publish-to-annunciation sample to {@code file} (created or truncated), in
   * the columns of {@link #samplesTo}: crossing {@code ts} ms, device id, latency µs, publish and
   * read {@link System#nanoTime()} ns. Empty against a gateway without annunciations. Call before
   * {@link #start}; the file is complete after {@link #close}.
   *
   * @throws IOException when the file cannot be created
   */
  public void annunciationSamplesTo(Path file) throws IOException {
    annunciations.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
  }

  @Override
  public void close() {
    stop();
    reader.close();
    alarms.close();
    annunciations.close();
    if (ownLoop != null) {
      ownLoop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    }
  }
}
