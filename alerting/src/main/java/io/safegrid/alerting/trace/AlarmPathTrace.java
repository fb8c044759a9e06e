package io.safegrid.alerting.trace;

import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Reading;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Per-alarm trace of the publish-to-alarm path: for each hazard rule transition, one CSV line with
 * the {@link System#nanoTime()} (Linux: {@code CLOCK_MONOTONIC}, the same clock in every process
 * of the host, so a simulator's probe can be lined up with it) at each hop, so that a slow
 * publish-to-alarm sample can be attributed to the hop that took the time. The Micrometer timers
 * ({@code safegrid.alarms.writer.wait}, {@code .ledger.apply}, ...) give each hop's percentiles over
 * its own samples; this says, for one sample, where its milliseconds went.
 *
 * <p><b>Off by default, free when off.</b> On only when the JVM is started with {@code
 * -Dsafegrid.trace.alarmPath=FILE} ({@link #PROPERTY}); read once into {@link #ON}, a static final
 * that the JIT folds, so every call site ({@code if (AlarmPathTrace.ON) ...}) is dead code when
 * off. When on, the hops cost a map look-up and a few stores each on the path's threads; lines
 * are written by a thread of its own ({@code safegrid-alarm-trace}, every 0.5 s) and at JVM exit.
 *
 * <p><b>Columns</b> ({@link #HEADER}; every time {@code System.nanoTime()}, ns, 0 when that hop
 * was not seen): {@code device} and {@code rule} of the transition, {@code kind} (RAISE,
 * SEVERITY_CHANGE, CLEAR), {@code reading_ts_ms} (the evidence's event time, the device's {@code
 * ts}, epoch ms), then in path order:
 *
 * <ol>
 *   <li>{@code decoded_ns}: the message's readings were decoded on the transport's event loop and
 *       are handed to the rule engine ({@link #decoded});
 *   <li>{@code decided_ns}: the rule engine decided the transition and queued it for the alarm
 *       writer (the writer's own decision time stamp);
 *   <li>{@code dequeued_ns}: the alarm writer thread took it (start of its ledger transaction);
 *   <li>{@code connected_ns}: the ledger has its pooled connection ({@code getConnection}, with
 *       HikariCP's validation round trip when the connection was idle);
 *   <li>{@code sent_ns}: the ledger sends the transaction's last round trip (its writes, events and
 *       COMMIT); between {@code connected_ns} and it: Java on the writer and, when the alarm was
 *       not remembered, the lock-and-select round trip;
 *   <li>{@code committed_ns}: that round trip came back (committed);
 *   <li>{@code told_ns}: the ledger's dispatcher starts telling the listeners (the live feed) of the
 *       transition's first event;
 *   <li>{@code fanout_ns}: the live feed made its SSE frame (JSON) and offered it to the clients;
 *   <li>{@code written_ns}: the frame is being written to the first client's HTTP response on the
 *       Vert.x event loop (taken right before the write: the socket write wakes the client's
 *       reader, which on a busy machine may preempt the loop before a later stamp);
 * </ol>
 *
 * then {@code event_id} (the first {@code alarm_events} id of the transition) and {@code group}
 * (transitions in its ledger transaction). A line is written when its frame is written, or, for a
 * transition no live client was sent, 30 s after its decision or at exit. The first line of the file
 * is a comment ({@code #}) pairing one {@code System.nanoTime()} with the wall clock, epoch µs.
 *
 * <p>Threads: {@link #decoded} and {@link #decided} on the rule engine's threads; {@link #dequeued},
 * the ledger stages and {@link #endGroup} on the alarm writer thread; {@link #telling} on the
 * dispatcher's telling thread; {@link #frameWritten} on the Vert.x loop.
 */
public final class AlarmPathTrace {

  /** The system property naming the trace file (created or truncated at start). */
  public static final String PROPERTY = "safegrid.trace.alarmPath";

  /** The CSV header line. */
  public static final String HEADER = "device,rule,kind,reading_ts_ms,decoded_ns,decided_ns,dequeued_ns,"
      + "connected_ns,sent_ns,committed_ns,told_ns,fanout_ns,written_ns,event_id,group";

  /** True when the JVM was started with {@link #PROPERTY} set (read once). */
  public static final boolean ON;

  private static final AlarmPathTrace INSTANCE;

  static {
    String file = System.getProperty(PROPERTY);
    ON = file != null && !file.isBlank();
    INSTANCE = ON ? startGlobal(Path.of(file)) : null;
  }

  /** Transitions decided longer ago than this without a written frame are written as they are. */
  static final long INCOMPLETE_AFTER_NANOS = TimeUnit.SECONDS.toNanos(30);

  /** The ledger's hops, stamped on the alarm writer thread's current group. */
  public enum LedgerHop {
    /** The pooled connection was obtained. */
    CONNECTED,
    /** The last round trip (writes, events, COMMIT) is being sent. */
    SENT,
    /** That round trip came back: committed. */
    COMMITTED
  }

  /** One transition's hops; fields are written by one thread after another (hand-offs order them). */
  static final class Span {
    final String deviceId;
    final String ruleId;
    final String kind;
    final long readingTs;
    volatile long decoded;
    volatile long decided;
    volatile long dequeued;
    volatile long connected;
    volatile long sent;
    volatile long committed;
    volatile long told;
    volatile long fanOut;
    volatile long written;
    volatile long eventId;
    volatile int group;

    Span(String deviceId, String ruleId, String kind, long readingTs) {
      this.deviceId = deviceId;
      this.ruleId = ruleId;
      this.kind = kind;
      this.readingTs = readingTs;
    }

    String line() {
      return deviceId + ',' + ruleId + ',' + kind + ',' + readingTs + ',' + decoded + ',' + decided + ','
          + dequeued + ',' + connected + ',' + sent + ',' + committed + ',' + told + ',' + fanOut + ','
          + written + ',' + eventId + ',' + group;
    }
  }

  /** A transition's identity: the device, the rule and the evidence's reading time. */
  private record Key(String deviceId, String ruleId, long readingTs) {}

  /** The last message decoded per device: its readings' time range and when. */
  private record Decoded(long minTs, long maxTs, long atNanos) {}

  private final BufferedWriter out;
  private final Map<String, Decoded> lastDecoded = new ConcurrentHashMap<>();
  private final Map<Key, Span> byReading = new ConcurrentHashMap<>();
  private final Map<Long, Span> byEvent = new ConcurrentHashMap<>();
  private final ConcurrentLinkedQueue<Span> done = new ConcurrentLinkedQueue<>();
  private final ThreadLocal<List<Span>> group = new ThreadLocal<>();
  private boolean closed;

  /**
   * A trace writing to {@code file} (created or truncated); {@link #close} writes what is left.
   * The global one ({@link #ON}) is made from {@link #PROPERTY}; tests make their own.
   *
   * @throws UncheckedIOException when the file cannot be created
   */
  AlarmPathTrace(Path file) {
    try {
      out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
      long nanos = System.nanoTime();
      Instant wall = Instant.now();
      out.write("# System.nanoTime() " + nanos + " ns = epoch " + (wall.getEpochSecond() * 1_000_000L
          + wall.getNano() / 1_000) + " us\n");
      out.write(HEADER);
      out.write('\n');
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the alarm path trace " + file, e);
    }
  }

  private static AlarmPathTrace startGlobal(Path file) {
    AlarmPathTrace t = new AlarmPathTrace(file);
    Thread flusher = new Thread(() -> {
      while (true) {
        try {
          Thread.sleep(500);
        } catch (InterruptedException e) {
          return;
        }
        t.flush(System.nanoTime(), false);
      }
    }, "safegrid-alarm-trace");
    flusher.setDaemon(true);
    flusher.setPriority(Thread.MIN_PRIORITY);
    flusher.start();
    Runtime.getRuntime().addShutdownHook(new Thread(t::close, "safegrid-alarm-trace-exit"));
    return t;
  }

  // ------------------------------------------------------------------ the hops (global trace)

  /**
   * Hop 1: one message's readings (one device) were decoded and go to the rule engine now.
   * Call only when {@link #ON}.
   */
  public static void decoded(List<Reading> readings) {
    INSTANCE.onDecoded(readings, System.nanoTime());
  }

  /**
   * Hop 2: the rule engine decided {@code t} (a hazard transition) at {@code decidedNanos}. Call
   * only when {@link #ON}.
   */
  public static void decided(AlarmTransition t, long decidedNanos) {
    INSTANCE.onDecided(t, decidedNanos);
  }

  /**
   * Hop 3: the alarm writer took {@code transitions} as one ledger transaction at {@code nanos};
   * they are the calling thread's current group until {@link #endGroup}. Call only when {@link #ON}.
   */
  public static void dequeued(List<AlarmTransition> transitions, long nanos) {
    INSTANCE.onDequeued(transitions, nanos);
  }

  /** Hops 4-6: a ledger hop of the calling thread's current group, if any. Call only when {@link #ON}. */
  public static void ledger(LedgerHop hop, long nanos) {
    INSTANCE.onLedger(hop, nanos);
  }

  /** The alarm writer is done with its current group. Call only when {@link #ON}. */
  public static void endGroup() {
    INSTANCE.group.remove();
  }

  /** Hop 7: the dispatcher starts telling the listeners of {@code e}. Call only when {@link #ON}. */
  public static void telling(AlarmEvent e, long nanos) {
    INSTANCE.onTelling(e, nanos);
  }

  /**
   * Hops 8-9: the live frame of alarm event {@code eventId}, made at {@code fanOutNanos}, went to
   * a client's response at {@code writtenNanos}. Call only when {@link #ON}.
   */
  public static void frameWritten(long eventId, long fanOutNanos, long writtenNanos) {
    INSTANCE.onFrameWritten(eventId, fanOutNanos, writtenNanos);
  }

  // ------------------------------------------------------------------ the instance

  void onDecoded(List<Reading> readings, long nanos) {
    if (readings.isEmpty()) {
      return;
    }
    long min = Long.MAX_VALUE;
    long max = Long.MIN_VALUE;
    for (int i = 0; i < readings.size(); i++) {
      long ts = readings.get(i).timeMillis();
      min = Math.min(min, ts);
      max = Math.max(max, ts);
    }
    lastDecoded.put(readings.get(0).deviceId(), new Decoded(min, max, nanos));
  }

  void onDecided(AlarmTransition t, long nanos) {
    Span s = new Span(t.deviceId(), t.ruleId(), t.kind().name(), t.timeMillis());
    s.decided = nanos;
    Decoded d = lastDecoded.get(t.deviceId());
    if (d != null && t.timeMillis() >= d.minTs() && t.timeMillis() <= d.maxTs() && nanos - d.atNanos() >= 0) {
      s.decoded = d.atNanos();
    }
    byReading.put(new Key(t.deviceId(), t.ruleId(), t.timeMillis()), s);
  }

  void onDequeued(List<AlarmTransition> transitions, long nanos) {
    List<Span> spans = new ArrayList<>(transitions.size());
    for (AlarmTransition t : transitions) {
      Span s = byReading.get(new Key(t.deviceId(), t.ruleId(), t.timeMillis()));
      if (s != null) {
        if (s.dequeued == 0) {
          s.dequeued = nanos;
        }
        s.group = transitions.size();
        spans.add(s);
      }
    }
    group.set(spans);
  }

  void onLedger(LedgerHop hop, long nanos) {
    List<Span> spans = group.get();
    if (spans == null) {
      return;
    }
    for (Span s : spans) {
      switch (hop) { // a redone transaction (savepoints, a stale memory) keeps its last attempt's hops
        case CONNECTED -> s.connected = nanos;
        case SENT -> s.sent = nanos;
        case COMMITTED -> s.committed = nanos;
      }
    }
  }

  void onTelling(AlarmEvent e, long nanos) {
    if (e.alarm() == null || !(e.alarm().evidence().get("reading_time_ms") instanceof Number ts)) {
      return;
    }
    Span s = byReading.get(new Key(e.alarm().deviceId(), e.alarm().ruleId(), ts.longValue()));
    if (s != null && s.told == 0) {
      s.told = nanos;
      s.eventId = e.id();
      byEvent.put(e.id(), s);
    }
  }

  void onFrameWritten(long eventId, long fanOutNanos, long writtenNanos) {
    Span s = byEvent.remove(eventId);
    if (s == null) {
      return; // not a traced transition's first event, or another client got it first
    }
    s.fanOut = fanOutNanos;
    s.written = writtenNanos;
    byReading.remove(new Key(s.deviceId, s.ruleId, s.readingTs), s);
    done.add(s);
  }

  /**
   * Writes the finished lines, and those of transitions decided more than {@link
   * #INCOMPLETE_AFTER_NANOS} before {@code nowNanos} (or all of them when {@code all}), then flushes.
   */
  synchronized void flush(long nowNanos, boolean all) {
    if (closed) {
      return;
    }
    try {
      for (Span s; (s = done.poll()) != null; ) {
        out.write(s.line());
        out.write('\n');
      }
      for (Iterator<Span> it = byReading.values().iterator(); it.hasNext(); ) {
        Span s = it.next();
        if (all || nowNanos - s.decided > INCOMPLETE_AFTER_NANOS) {
          it.remove();
          if (s.eventId != 0) {
            byEvent.remove(s.eventId, s);
          }
          out.write(s.line());
          out.write('\n');
        }
      }
      out.flush();
    } catch (IOException e) {
      closed = true; // a diagnostic: never fail the path for it
    }
  }

  /** Writes everything left, finished or not, and closes the file. */
  synchronized void close() {
    flush(System.nanoTime(), true);
    closed = true;
    try {
      out.close();
    } catch (IOException e) {
      // nothing more to do at exit
    }
  }

  /** Writes every line so far (finished or not) to the global trace's file now; no-op when off. */
  public static void flushNow() {
    if (ON) {
      INSTANCE.flush(System.nanoTime(), true);
    }
  }
}
