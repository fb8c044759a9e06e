package io.safegrid.gateway.wiring;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.trace.AlarmPathTrace;
import io.safegrid.alerting.ledger.TransitionOutcome;
import io.safegrid.alerting.routing.AlarmClass;
import io.safegrid.alerting.unconfirmed.AnnunciationListener;
import io.safegrid.alerting.unconfirmed.UnconfirmedAlarm;
import io.safegrid.alerting.unconfirmed.UnconfirmedListener;
import io.safegrid.model.AlarmTransition;
import io.safegrid.rules.TransitionSink;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Comparator;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.PriorityBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Hands the rule engine's transitions to the alarm ledger on one thread of its own ({@code
 * safegrid-alarm-writer}): the engine's shard threads never wait for a database round trip.
 *
 * <p><b>Group commit.</b> The writer takes everything queued (up to {@value #MAX_HAZARD_GROUP}
 * hazard or {@value #MAX_MAINTENANCE_GROUP} maintenance transitions) and applies it with {@link
 * AlarmService#applyAll}: one ledger transaction and one commit for the group instead of one each.
 * At a site's usual rate a group is one transition, so nothing waits for company; in a storm the
 * cost of a commit is shared. A transition the ledger refuses does not sink the others (the ledger
 * redoes the group with a savepoint per transition).
 *
 * <p><b>Two lanes.</b> Hazard alarms (gas, fire, water, combinations) go before maintenance alarms
 * ({@link #MAINTENANCE_RULES}: device offline, low battery), and a group holds one lane only: a
 * burst of thousands of offline alarms, as after a mobile network outage, must not hold a gas leak
 * back (seen in bench/run: 6,240 offline alarms at once delayed every gas alarm behind them). A gas
 * raise waits at most for the maintenance group being written, which is kept small for that.
 * Within a lane transitions keep the order the engine decided them, and a (device, rule) always
 * takes the same lane, so its raise, severity change and clear reach the ledger in order.
 *
 * <p><b>Failures.</b> A failed transition is retried with back-off (0.5 s, 1 s, 2 s, 4 s, then
 * every 10 s). While the database cannot be reached ({@link #transientFailure}: connection
 * errors, PostgreSQL shutting down or out of resources, a pool timeout) it is retried for as long
 * as that lasts, never given up: threshold rules fire on a change, so a dropped raise would not
 * come back while the gas stays high (review F7). A transition the ledger refuses for itself
 * (a constraint, a trigger, bad data) is given up after {@value #ATTEMPTS} attempts, logged and
 * counted in {@code safegrid.alarms.writer.failed}. While one waits, later transitions of the same
 * (device, rule) wait behind it (order per key is kept); transitions of other keys go on.
 *
 * <p><b>Unconfirmed hazards</b> (newcomer7 F4 b, docs/alerting.md "Database outage"). With an
 * {@link UnconfirmedListener}, a hazard raise or severity change ({@link AlarmClass#HAZARD}) that
 * has waited longer than the hold time ({@link #UNCONFIRMED_HOLD}, 2 s) while the ledger is
 * stalled (its last attempt failed with a {@link #transientFailure}, or the ledger transaction in
 * progress has run longer than the hold time: a refused, cut or silent database) is handed to the
 * listener as an {@link UnconfirmedAlarm}, once, by a watcher thread of its own ({@code
 * safegrid-alarm-unconfirmed}, every {@value #WATCH_MS} ms: the writer thread itself may be
 * blocked in the ledger). When the ledger later commits it, or the writer gives it up, the
 * listener hears {@link UnconfirmedListener#settled}. The transition itself stays queued and is
 * retried as before.
 *
 * <p><b>Annunciation before the ledger</b> (docs/alerting.md "Annunciation before the ledger"). With
 * an {@link AnnunciationListener}, the same hazard raises and severity changes are handed to it in
 * {@link #accept} itself, on the rule engine's shard thread, before they are queued for the ledger:
 * no thread hop, no database on the way to the duty page. Each such transition is {@link Held} (as
 * for the unconfirmed hand-off, and with the same id, its sequence number) until the ledger
 * commits it or the writer gives it up; then the listener hears {@link
 * AnnunciationListener#annunciationSettled}. Clears and maintenance alarms cost nothing more; with
 * neither listener nothing is held.
 *
 * <p>Metrics: gauge {@code safegrid.alarms.writer.queued} (transitions waiting, retries included),
 * counters {@code safegrid.alarms.writer.applied}, {@code .failed}, {@code .retried}; timer {@code
 * safegrid.alarms.writer.wait} (seconds from the engine's decision to the start of the ledger
 * transaction that carries it); timer {@code safegrid.alarms.decided.age} (hazard lane: the
 * evidence's event time, i.e. the device's {@code ts}, to the engine's decision, millisecond
 * resolution: on one host, publish to decision).
 */
final class AlarmWriter implements TransitionSink, AutoCloseable {

  /** How long a hazard transition waits for a stalled ledger before it is handed over as unconfirmed. */
  static final Duration UNCONFIRMED_HOLD = Duration.ofSeconds(2);
  /** How often the watcher looks for hazard transitions to hand over, ms. */
  static final long WATCH_MS = 250;

  /** Rule ids of the maintenance lane (rules module: inactivity and battery rules). */
  static final Set<String> MAINTENANCE_RULES = Set.of("device-offline", "low-battery");

  /** Most hazard transitions in one ledger transaction. */
  static final int MAX_HAZARD_GROUP = 256;
  /**
   * Most maintenance transitions in one ledger transaction: small, so a gas raise arriving while
   * one is written waits little (each offline raise writes an alarm, outbox rows and two events).
   */
  static final int MAX_MAINTENANCE_GROUP = 32;

  private static final Logger log = LoggerFactory.getLogger(AlarmWriter.class);
  static final int ATTEMPTS = 5;
  private static final long FIRST_BACKOFF_MS = 500;
  /** Wait before the first retry of a failed transition (doubles per attempt). */
  static final Duration FIRST_BACKOFF = Duration.ofMillis(FIRST_BACKOFF_MS);
  private final long firstBackoffMs;
  private static final long MAX_BACKOFF_MS = 10_000;

  /** Older evidence than this (ms) is a backlog or a clock error, not alarm-path latency. */
  private static final long MAX_DECIDED_AGE_MS = 60_000;

  private static final int HAZARD = 0;
  private static final int MAINTENANCE = 1;

  /** A queued transition; {@code attempts}: failed attempts so far. */
  private record Queued(int lane, long seq, long decidedAtNanos, AlarmTransition transition, int attempts) {
    String key() {
      return transition.deviceId() + "\u0000" + transition.ruleId();
    }

    Queued withAttempts(int n) {
      return new Queued(lane, seq, decidedAtNanos, transition, n);
    }
  }

  /** Transitions of one (device, rule) waiting behind a failed one, oldest first. */
  private static final class Blocked {
    final ArrayDeque<Queued> items = new ArrayDeque<>();
    long dueAtNanos;
  }

  /** A hazard raise or severity change not yet settled, watched for the unconfirmed hand-off. */
  private static final class Held {
    final long seq;
    final AlarmTransition transition;
    final long decidedAtNanos;
    final long decidedAtMillis;
    /** Guarded by this: set once by the watcher. */
    UnconfirmedAlarm handed;
    /** Guarded by this: set once by the writer thread. */
    boolean settled;
    /** What the annunciation listener was given at the decision, or null (no listener). */
    UnconfirmedAlarm annunciated;

    Held(long seq, AlarmTransition transition, long decidedAtNanos, long decidedAtMillis) {
      this.seq = seq;
      this.transition = transition;
      this.decidedAtNanos = decidedAtNanos;
      this.decidedAtMillis = decidedAtMillis;
    }
  }

  private static final Queued STOP = new Queued(Integer.MAX_VALUE, Long.MAX_VALUE, 0, null, 0);

  private final AlarmService ledger;
  private final PriorityBlockingQueue<Queued> queue =
      new PriorityBlockingQueue<>(
          1024, Comparator.comparingInt(Queued::lane).thenComparingLong(Queued::seq));
  /** Only touched by the writer thread. */
  private final Map<String, Blocked> blocked = new LinkedHashMap<>();
  private final AtomicInteger blockedCount = new AtomicInteger();
  private final AtomicLong sequence = new AtomicLong();
  /**
   * Every transition with a sequence number up to this one is applied or given up (none of them
   * waits for a retry): see {@link #awaitSettled}. Written by the writer thread only.
   */
  private volatile long settledThrough;
  /** Bit i: the transition of sequence {@code settledBase + i} is settled. Writer thread only. */
  private BitSet settledAbove = new BitSet();
  /** The sequence of bit 0 of {@link #settledAbove}; at most {@link #settledThrough} + 1. */
  private long settledBase = 1;
  private final Thread thread;
  private final Counter failed;
  private final Counter written;
  private final Counter retried;
  private final Timer waitTimer;
  private final Timer decidedAge;
  private volatile boolean stopping;
  private boolean stopSeen;
  /** Null: no unconfirmed hand-off (no watcher). */
  private final UnconfirmedListener unconfirmed;
  /** Null: no annunciation at the decision. */
  private final AnnunciationListener annunciation;
  private final long holdNanos;
  private final Map<Long, Held> held = new ConcurrentHashMap<>();
  /** {@link System#nanoTime()} when the ledger call in progress started; 0 when none is. */
  private volatile long applyingSinceNanos;
  /** The ledger's last answer was a {@link #transientFailure}; cleared by the next applied transition. */
  private volatile boolean unreachable;
  private final ScheduledExecutorService watcher;

  AlarmWriter(AlarmService ledger, MeterRegistry registry) {
    this(ledger, registry, Duration.ofMillis(FIRST_BACKOFF_MS));
  }

  /** @param firstBackoff wait before the first retry of a failed transition; doubles per attempt */
  AlarmWriter(AlarmService ledger, MeterRegistry registry, Duration firstBackoff) {
    this(ledger, registry, firstBackoff, null, UNCONFIRMED_HOLD);
  }

  /**
   * @param firstBackoff wait before the first retry of a failed transition; doubles per attempt
   * @param unconfirmed told about hazard transitions the ledger has not committed within {@code
   *     hold} while it is stalled (see the class comment), or null for none
   * @param hold how long a hazard transition may wait for a stalled ledger before it is handed over
   */
  AlarmWriter(AlarmService ledger, MeterRegistry registry, Duration firstBackoff,
      UnconfirmedListener unconfirmed, Duration hold) {
    this(ledger, registry, firstBackoff, unconfirmed, hold, null);
  }

  /**
   * @param firstBackoff wait before the first retry of a failed transition; doubles per attempt
   * @param unconfirmed told about hazard transitions the ledger has not committed within {@code
   *     hold} while it is stalled (see the class comment), or null for none
   * @param hold how long a hazard transition may wait for a stalled ledger before it is handed over
   * @param annunciation told about each hazard raise or severity change at once, in {@link
   *     #accept} on the caller's thread, before the ledger (see the class comment), and when it
   *     settles; or null for none
   */
  AlarmWriter(AlarmService ledger, MeterRegistry registry, Duration firstBackoff,
      UnconfirmedListener unconfirmed, Duration hold, AnnunciationListener annunciation) {
    this.ledger = ledger;
    this.unconfirmed = unconfirmed;
    this.annunciation = annunciation;
    this.holdNanos = hold.toNanos();
    this.firstBackoffMs = firstBackoff.toMillis();
    this.failed =
        Counter.builder("safegrid.alarms.writer.failed")
            .description("rule transitions the ledger refused after retries")
            .register(registry);
    this.written =
        Counter.builder("safegrid.alarms.writer.applied")
            .description("rule transitions applied to the ledger")
            .register(registry);
    this.retried =
        Counter.builder("safegrid.alarms.writer.retried")
            .description("failed rule transitions queued for another attempt")
            .register(registry);
    this.waitTimer =
        Timer.builder("safegrid.alarms.writer.wait")
            .description("rule transition decided to the start of the ledger transaction carrying it")
            .publishPercentiles(0.5, 0.9, 0.99)
            .register(registry);
    this.decidedAge =
        Timer.builder("safegrid.alarms.decided.age")
            .description("hazard transitions: the reading's event time (device ts) to the rule engine's decision")
            .publishPercentiles(0.5, 0.9, 0.99)
            .register(registry);
    Gauge.builder("safegrid.alarms.writer.queued", this, w -> w.queue.size() + w.blockedCount.get())
        .description("rule transitions waiting for the ledger")
        .register(registry);
    this.thread = new Thread(this::run, "safegrid-alarm-writer");
    thread.setDaemon(true);
    // the alarm path's own thread: first to a core when it wakes. Linux honours Java priorities
    // only with -XX:ThreadPriorityPolicy=1 as root (MAX_PRIORITY = nice -5); else a no-op
    thread.setPriority(Thread.MAX_PRIORITY);
    thread.start();
    if (unconfirmed == null) {
      watcher = null;
    } else {
      watcher = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "safegrid-alarm-unconfirmed");
        t.setDaemon(true);
        return t;
      });
      watcher.scheduleWithFixedDelay(this::handOverUnconfirmed, WATCH_MS, WATCH_MS, TimeUnit.MILLISECONDS);
    }
  }

  /**
   * Queues a transition for the writer thread; never waits (a lock held for a queue insert only),
   * as it is called on whichever thread runs the rule engine's shard, a Netty event loop included.
   * A hazard raise or severity change is first handed to the annunciation listener, if any, on
   * this thread (the listener does not block: {@link AnnunciationListener}).
   */
  @Override
  public void accept(AlarmTransition t) {
    int lane = MAINTENANCE_RULES.contains(t.ruleId()) ? MAINTENANCE : HAZARD;
    long decidedAt = System.nanoTime();
    if (AlarmPathTrace.ON && lane == HAZARD) {
      AlarmPathTrace.decided(t, decidedAt); // before the queue: the writer may take it at once
    }
    long seq = sequence.incrementAndGet();
    if ((unconfirmed != null || annunciation != null) && lane == HAZARD && t.kind() != AlarmTransition.Kind.CLEAR
        && AlarmClass.ofRule(t.ruleId()) == AlarmClass.HAZARD) { // before the queue: the writer may settle it at once
      long decidedAtMillis = System.currentTimeMillis();
      Held h = new Held(seq, t, decidedAt, decidedAtMillis);
      if (annunciation != null) {
        h.annunciated = new UnconfirmedAlarm(seq, t, decidedAtMillis, decidedAtMillis);
      }
      held.put(seq, h);
      if (h.annunciated != null) {
        annunciate(h.annunciated); // before the queue: the page hears it before the ledger can
      }
    }
    queue.add(new Queued(lane, seq, decidedAt, t, 0));
    if (lane == HAZARD) {
      long ageMs = System.currentTimeMillis() - t.timeMillis();
      if (ageMs >= 0 && ageMs < MAX_DECIDED_AGE_MS) { // a replayed backlog is not the alarm path
        decidedAge.record(ageMs, TimeUnit.MILLISECONDS);
      }
    }
  }

  private void run() {
    try {
      while (true) {
        List<Queued> group = nextGroup();
        if (group == null) {
          return;
        }
        if (!group.isEmpty()) {
          write(group);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /**
   * Waits for work; returns the next group (due retries first, then one lane of the queue), empty
   * when a wait ended with nothing to do, null when stopped.
   */
  private List<Queued> nextGroup() throws InterruptedException {
    long now = System.nanoTime();
    List<Queued> group = new ArrayList<>();
    // due retries, each key's waiting transitions in order
    for (Iterator<Blocked> it = blocked.values().iterator(); it.hasNext(); ) {
      Blocked b = it.next();
      if (b.dueAtNanos - now <= 0 && group.size() < MAX_HAZARD_GROUP) {
        group.addAll(b.items);
        blockedCount.addAndGet(-b.items.size());
        it.remove();
        retried.increment();
      }
    }
    if (!group.isEmpty()) {
      return group;
    }
    if (stopSeen && blocked.isEmpty()) {
      return null;
    }
    Queued head;
    if (blocked.isEmpty() && !stopSeen) {
      head = queue.take();
    } else {
      long next = Long.MAX_VALUE;
      for (Blocked b : blocked.values()) {
        next = Math.min(next, b.dueAtNanos - now);
      }
      head = queue.poll(Math.max(0, next), TimeUnit.NANOSECONDS);
      if (head == null) {
        return group; // a retry is due
      }
    }
    if (head == STOP) {
      stopSeen = true;
      return stopping || blocked.isEmpty() ? null : group;
    }
    int max = head.lane() == HAZARD ? MAX_HAZARD_GROUP : MAX_MAINTENANCE_GROUP;
    add(group, head);
    while (group.size() < max) {
      Queued next = queue.peek();
      if (next == null || next.lane() != head.lane()) {
        break;
      }
      next = queue.poll();
      if (next == STOP) {
        stopSeen = true;
        break;
      }
      add(group, next);
    }
    return group;
  }

  /** Adds to the group, or behind a failed transition of the same (device, rule). */
  private void add(List<Queued> group, Queued q) {
    Blocked b = blocked.get(q.key());
    if (b != null) {
      b.items.add(q);
      blockedCount.incrementAndGet();
    } else {
      group.add(q);
    }
  }

  private void write(List<Queued> group) throws InterruptedException {
    List<AlarmTransition> ts = new ArrayList<>(group.size());
    long oldest = group.get(0).decidedAtNanos();
    long start = System.nanoTime();
    for (Queued q : group) {
      ts.add(q.transition());
      oldest = q.decidedAtNanos() - oldest < 0 ? q.decidedAtNanos() : oldest;
      waitTimer.record(start - q.decidedAtNanos(), TimeUnit.NANOSECONDS);
    }
    List<TransitionOutcome> outcomes;
    if (AlarmPathTrace.ON) {
      AlarmPathTrace.dequeued(ts, start);
    }
    applyingSinceNanos = start == 0 ? 1 : start;
    try {
      outcomes = ledger.applyAll(ts, oldest);
    } catch (RuntimeException e) { // a ledger that throws for the whole group
      outcomes = new ArrayList<>(ts.size());
      for (AlarmTransition t : ts) {
        outcomes.add(TransitionOutcome.failed(t, e));
      }
    } finally {
      applyingSinceNanos = 0;
      if (AlarmPathTrace.ON) {
        AlarmPathTrace.endGroup();
      }
    }
    long now = System.nanoTime();
    for (int i = 0; i < group.size(); i++) {
      Queued q = group.get(i);
      TransitionOutcome o = outcomes.get(i);
      switch (o.status()) {
        case APPLIED -> {
          written.increment();
          markSettled(q.seq());
          unreachable = false;
          settleHeld(q, true);
        }
        case FAILED -> failed(q, o, now);
        case NOT_TRIED -> {
          Blocked b = blocked.get(q.key());
          if (b == null) { // the failed one before it was given up: this one goes next
            b = new Blocked();
            b.dueAtNanos = now;
            blocked.put(q.key(), b);
          }
          b.items.add(q);
          blockedCount.incrementAndGet();
        }
      }
    }
  }

  /** A failed transition: hold it (and its key) for a retry, or give up after the last attempt. */
  private void failed(Queued q, TransitionOutcome o, long now) {
    AlarmTransition t = q.transition();
    int attempt = q.attempts() + 1;
    if (stopping || (attempt >= ATTEMPTS && !transientFailure(o.error()))) {
      failed.increment();
      markSettled(q.seq());
      settleHeld(q, false);
      log.error("alarm ledger refused {} {} of {} after {} attempts: {}",
          t.kind(), t.ruleId(), t.deviceId(), attempt, String.valueOf(o.error()));
      return;
    }
    if (transientFailure(o.error())) {
      unreachable = true;
    }
    log.warn("alarm ledger refused {} of {} (attempt {}), retrying: {}",
        t.ruleId(), t.deviceId(), attempt, String.valueOf(o.error()));
    Blocked b = blocked.get(q.key());
    if (b == null) { // (when the whole group failed, several of one key fail: they queue up in order)
      b = new Blocked();
      long backoff = Math.min(firstBackoffMs << Math.min(attempt - 1, 10), MAX_BACKOFF_MS);
      b.dueAtNanos = now + TimeUnit.MILLISECONDS.toNanos(backoff);
      blocked.put(q.key(), b);
    }
    b.items.add(q.withAttempts(attempt));
    blockedCount.incrementAndGet();
  }

  /** On the shard thread: tells the annunciation listener; a failure of it never reaches the rules. */
  private void annunciate(UnconfirmedAlarm a) {
    try {
      annunciation.annunciated(a);
    } catch (RuntimeException e) {
      log.error("alarm writer: annunciation of {} of {} failed", a.transition().ruleId(),
          a.transition().deviceId(), e);
    }
  }

  /**
   * The transition is applied or given up: tells the unconfirmed listener when it had been handed
   * over, and the annunciation listener when it was annunciated.
   */
  private void settleHeld(Queued q, boolean committed) {
    if (held.isEmpty()) {
      return;
    }
    Held h = held.remove(q.seq());
    if (h != null) {
      if (unconfirmed != null) {
        synchronized (h) { // after a hand-off in progress: the listener hears unconfirmed, then settled
          h.settled = true;
          if (h.handed != null) {
            unconfirmed.settled(h.handed, committed);
          }
        }
      }
      if (h.annunciated != null) {
        try {
          annunciation.annunciationSettled(h.annunciated, committed);
        } catch (RuntimeException e) {
          log.error("alarm writer: annunciation settle failed", e);
        }
      }
    }
  }

  /**
   * On the watcher thread: hands over each held hazard transition older than the hold time while
   * the ledger is stalled (its last answer a transient failure, or the call in progress older than
   * the hold time).
   */
  private void handOverUnconfirmed() {
    try {
      if (held.isEmpty() || unconfirmed == null) {
        return;
      }
      long now = System.nanoTime();
      long applying = applyingSinceNanos;
      if (!unreachable && (applying == 0 || now - applying < holdNanos)) {
        return;
      }
      for (Held h : held.values()) {
        if (now - h.decidedAtNanos < holdNanos) {
          continue;
        }
        synchronized (h) { // the listener does not block (docs of UnconfirmedListener)
          if (!h.settled && h.handed == null) {
            h.handed = new UnconfirmedAlarm(h.seq, h.transition, h.decidedAtMillis, System.currentTimeMillis());
            unconfirmed.unconfirmed(h.handed);
          }
        }
      }
    } catch (RuntimeException e) {
      log.error("alarm writer: unconfirmed hand-off failed", e);
    }
  }

  /**
   * Whether the failure says the database could not be reached, not that it refused the
   * transition: a {@link java.sql.SQLTransientException} or {@link java.sql.SQLRecoverableException}
   * (e.g. HikariCP's connection timeout), an I/O error, or an SQLSTATE of class 08 (connection
   * exception), 40 (transaction rollback), 53 (insufficient resources), 57 (operator intervention:
   * shutdown, crash recovery) or 58 (system error), anywhere in the cause chain (PostgreSQL
   * Appendix A, "PostgreSQL Error Codes").
   */
  static boolean transientFailure(Throwable e) {
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.sql.SQLTransientException || c instanceof java.sql.SQLRecoverableException
          || c instanceof java.io.IOException) {
        return true;
      }
      if (c instanceof java.sql.SQLException sql && sql.getSQLState() != null && sql.getSQLState().length() >= 2
          && Set.of("08", "40", "53", "57", "58").contains(sql.getSQLState().substring(0, 2))) {
        return true;
      }
    }
    return false;
  }

  /**
   * Notes that the transition of sequence {@code seq} is applied or given up, and moves {@link
   * #settledThrough} over every settled sequence that now follows it without a gap (review7 R11:
   * transitions settle out of order: lanes, retries, keys blocked behind a failed one). Writer
   * thread only; a bit set op and a scan of a few words per transition.
   */
  private void markSettled(long seq) {
    settledAbove.set((int) (seq - settledBase));
    int firstOpen = settledAbove.nextClearBit((int) (settledThrough + 1 - settledBase));
    settledThrough = settledBase + firstOpen - 1;
    if (firstOpen >= 1 << 16) { // drop the settled prefix now and then: memory bounded by the gap
      settledAbove = settledAbove.get(firstOpen, Math.max(firstOpen, settledAbove.length()));
      settledBase += firstOpen;
    }
  }

  /**
   * Waits until every transition accepted before this call has been applied to the ledger (or
   * refused by it for good), at most {@code wait}: all sequence numbers up to the last one
   * accepted, not merely as many transitions (one applied later, e.g. a rule clock's offline
   * raise, does not stand in for an earlier one still waiting for a retry). Meant for the
   * gateway's start: it then means "everything accepted so far is in the ledger".
   *
   * @return true when they were, false when {@code wait} ran out first (they stay queued and are
   *     retried as usual)
   * @throws InterruptedException when interrupted while waiting
   */
  boolean awaitSettled(Duration wait) throws InterruptedException {
    long target = sequence.get();
    long deadline = System.nanoTime() + wait.toNanos();
    while (settledThrough < target) {
      if (System.nanoTime() - deadline >= 0) {
        return false;
      }
      Thread.sleep(10);
    }
    return true;
  }

  /**
   * Whether every transition accepted so far has been applied to the ledger or given up (none
   * waits in the queue or for a retry). Two volatile reads; any thread.
   */
  boolean caughtUp() {
    return settledThrough >= sequence.get();
  }

  /** Applies what is queued (waits up to {@code wait}), then stops the thread. */
  void drain(Duration wait) {
    if (watcher != null) {
      watcher.shutdownNow();
    }
    queue.add(STOP); // sorts after everything queued
    try {
      thread.join(wait.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (thread.isAlive()) {
      stopping = true;
      log.warn("alarm writer: {} transitions still queued at shutdown were dropped",
          queue.size() + blockedCount.get());
      thread.interrupt();
    }
  }

  @Override
  public void close() {
    drain(Duration.ofSeconds(10));
  }
}
