package io.safegrid.rules.engine;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import io.safegrid.rules.LateCheck;
import io.safegrid.rules.RuleContext;
import io.safegrid.rules.TransitionSink;
import io.safegrid.rules.combination.CombinationDetector;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.rules.config.RuleSet;
import io.safegrid.rules.event.StateCodeRule;
import io.safegrid.rules.inactivity.InactivityRule;
import io.safegrid.rules.rate.RateOfChangeRule;
import io.safegrid.rules.threshold.ThresholdRule;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.PriorityQueue;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * The rule engine of one shard: single-threaded, not thread-safe, allocation-free on the hot path
 * (a reading that changes no alarm). Use {@link ShardedRuleEngine} to share work between threads;
 * use this class directly in tests and benchmarks.
 *
 * <p><b>Order.</b> Event time decides: per device and metric the newest reading (by the device's
 * clock) is the state and is evaluated on its own time, so in-order streams and backlogs keep
 * their durations. A message with readings at several times is evaluated oldest first, and judged
 * by its newest reading of each metric (below). docs/rules.md "Time and order" tells the whole.
 *
 * <ul>
 *   <li><b>Duplicate</b> ({@link Outcome#DUPLICATE}): a reading with the exact device time and
 *       value of one of the last {@code 32} judged for its metric, or an event identical to one
 *       of the device's last 32 (a QoS 1 resend, however late): nothing changes.
 *   <li><b>Stopped clock</b>: a reading at the device time of the metric's newest reading with
 *       another value (an RTC that stopped, boot-time stamps; a resend carries the same value) is
 *       the newest state, judged on its arrival time ({@code max(arrival, previous rule time)}),
 *       so it raises and clears; each gives a {@link Flag.Kind#CLOCK_FROZEN} flag.
 *   <li><b>Late</b> ({@link Outcome#LATE}): older than the newest, its message within {@link
 *       #CLOCK_BEHIND_TOLERANCE_MILLIS} of the gateway clock or newer than the device's newest (a
 *       backlog sent with a current reading). Checked for raises only ({@link
 *       io.safegrid.rules.LateCheck}): past a setpoint it raises or escalates with its own time
 *       and {@code late: true} in the evidence; it never lowers or clears, and one older than the
 *       reading that last cleared that alarm is history. A threshold with a debounce raises only
 *       once consecutive late readings past its setpoint span the debounce (hysteresis holding
 *       the level between them). Past a setpoint and not covered by an open alarm, it gives a
 *       {@link Flag.Kind#LATE_READING} flag.
 *   <li><b>Far behind</b>: older than the newest, its message more than the tolerance behind the
 *       gateway clock and older than the device's newest: the clock may have gone back. Checked
 *       for raises only, on its arrival time and with no history check (raises are never
 *       delayed); one holding several times of the metric (a cached backlog, or a multi-sample
 *       unit whose clock went back) on its own times with the debounce, and no history check
 *       either (newcomer8 N2, review8 R8-7). The next such message, newer, confirms a <b>clock behind</b> when it is more
 *       than {@link #CLOCK_RESET_MILLIS} behind or its device time advanced with the gateway clock
 *       (within {@link #CLOCK_CONFIRM_SLACK_MILLIS}; a burst of old messages never confirms): from
 *       then on the metric's readings are ordered by the device's clock but judged on a rule clock
 *       advanced by arrival ({@code max(arrival, previous rule time)}), so they raise and clear
 *       and durations are real; each gives a {@link Flag.Kind#CLOCK_BEHIND} flag. The first
 *       in-order reading within the tolerance ends it.
 * </ul>
 *
 * <p><b>Flags.</b> A time below {@link #SECONDS_LIMIT_MILLIS} (epoch seconds sent as
 * milliseconds) gives a {@link Flag} and is not evaluated. A time more than {@link
 * #MAX_FUTURE_SKEW_MILLIS} ahead of the clock gives a {@link Flag.Kind#FUTURE_TIMESTAMP} flag and
 * is judged on its arrival time (the device's clock is ahead: it raises and clears), but never
 * becomes the device's newest time, so later correct readings are not late. Flagged messages
 * still count as "device seen" for inactivity.
 *
 * <p><b>Time.</b> The clock (epoch ms) is injected. Debounce confirmations and inactivity use a
 * deadline queue: call {@link #nextDeadline()} and {@link #advanceTo(long)}.
 */
public final class RuleEngine {

  /** Largest accepted clock skew into the future, ms: 5 minutes. */
  public static final long MAX_FUTURE_SKEW_MILLIS = 5 * 60_000L;
  /**
   * How far a reading older than the newest one may be behind the gateway clock before the
   * device's clock is suspected to have gone back, ms: 5 minutes (the same as the future skew).
   * A clock that went back by less delays clears by at most this long; raises are never delayed
   * (a reading further behind is judged on its arrival, see the class comment).
   */
  public static final long CLOCK_BEHIND_TOLERANCE_MILLIS = 5 * 60_000L;
  /**
   * How much further a device's clock may advance than the gateway's between two messages far
   * behind for them to confirm a clock that went back, ms: 2 s. A clock that went back runs with
   * the gateway's; a burst of old messages (a backlog uploaded in parts, resends) advances the
   * device time by minutes in milliseconds of arrival, and is never taken for one.
   */
  public static final long CLOCK_CONFIRM_SLACK_MILLIS = 2_000L;
  /**
   * How far behind the gateway clock a message must be to be taken for a reset clock without the
   * {@link #CLOCK_CONFIRM_SLACK_MILLIS} check, ms: 30 days. No unit keeps a backlog that old
   * (NB-IoT units cache 200-600 records, days at most); an RTC reset to its default (2000-01-01,
   * or the firmware's date) is years behind.
   */
  public static final long CLOCK_RESET_MILLIS = 30L * 24 * 3_600_000L;
  /** Times below this (1e11 ms, 1973-03-03) are taken for epoch seconds sent as milliseconds. */
  public static final long SECONDS_LIMIT_MILLIS = 100_000_000_000L;

  private static final class Timer {
    final long atMillis;
    final RuleContext.Confirmable target;
    final long token;

    Timer(long atMillis, RuleContext.Confirmable target, long token) {
      this.atMillis = atMillis;
      this.target = target;
      this.token = token;
    }
  }

  private final RuleBook book;
  private final DeviceDirectory directory;
  private final LongSupplier clock;
  private final TransitionSink sink;
  private final FlagSink flags;
  private final CombinationDetector combinations; // may be null
  private final Map<String, DeviceRuleState> devices = new HashMap<>(256);
  private final PriorityQueue<DeviceRuleState> offlineQueue =
      new PriorityQueue<>(Comparator.comparingLong(d -> d.queuedDeadline));
  private final PriorityQueue<Timer> timers =
      new PriorityQueue<>(Comparator.comparingLong(t -> t.atMillis));
  private final RuleContext ctx = new Ctx();
  /** Runs a deferred reading's verdict on this engine's thread (the shard's, in the gateway). */
  private Consumer<Runnable> reentry = Runnable::run;

  private long evaluated;
  private long late;
  private long duplicates;
  private long flagged;
  private long unknown;
  private long transitions;

  /**
   * An engine with its own combination detector over the book's combination rules.
   *
   * @param book the rules
   * @param directory device profiles (type, place, report interval, overrides)
   * @param clock now, epoch ms
   * @param sink where transitions go
   * @param flags where flags go
   */
  public RuleEngine(RuleBook book, DeviceDirectory directory, LongSupplier clock,
      TransitionSink sink, FlagSink flags) {
    this(book, directory, clock, sink, flags,
        new CombinationDetector(book.combinations(), placesOf(directory), sink));
  }

  /**
   * An engine sharing a combination detector (or none, when null) with other shards.
   */
  public RuleEngine(RuleBook book, DeviceDirectory directory, LongSupplier clock,
      TransitionSink sink, FlagSink flags, CombinationDetector combinations) {
    this.book = Objects.requireNonNull(book, "book");
    this.directory = Objects.requireNonNull(directory, "directory");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.sink = Objects.requireNonNull(sink, "sink");
    this.flags = Objects.requireNonNull(flags, "flags");
    this.combinations = combinations;
  }

  /** A device's place through a directory ({@link DevicePlace#NOWHERE} when unknown). */
  public static java.util.function.Function<String, DevicePlace> placesOf(DeviceDirectory dir) {
    return id -> dir.find(id).map(DeviceProfile::place).orElse(DevicePlace.NOWHERE);
  }

  /**
   * Evaluates one reading: marks the device seen (clears its offline alarm), then, unless
   * flagged, late or a duplicate, runs the rules of its metric.
   */
  public Outcome onReading(Reading r) {
    long now = clock.getAsLong();
    DeviceRuleState d = device(r.deviceId(), now, r.metric(), r.timeMillis());
    if (d == null) {
      unknown++;
      return Outcome.UNKNOWN_DEVICE;
    }
    touch(d, now);
    return evaluate(d, r, now, r.timeMillis(), r.timeMillis(), false, false, false);
  }

  /**
   * How a deferred reading's verdict gets back to this engine's thread: {@code Runnable::run}
   * (the default: the verdict's own thread, for a single-threaded caller) or a hand-off to the
   * shard ({@link ShardedRuleEngine}).
   */
  void reenterWith(Consumer<Runnable> reentry) {
    this.reentry = Objects.requireNonNull(reentry, "reentry");
  }

  /**
   * Evaluates one message's readings. A message with readings at several times (a unit that
   * sends several samples per upload, or an NB-IoT unit's cached backlog of 200-600 records) is
   * evaluated oldest first, and is judged as one: by its newest reading of each metric, which
   * decides whether the message is a resend (that time was judged already), a possible clock that
   * went back (far behind both the device's newest and the gateway clock), or a backlog (class
   * comment, "Order").
   */
  public void onReadings(List<Reading> readings) {
    onReadings(readings, null);
  }

  /**
   * As {@link #onReadings(List)}, with storage's verdict on the message for the readings that
   * need it: one more than {@link #CLOCK_BEHIND_TOLERANCE_MILLIS} (and at most {@link
   * #CLOCK_RESET_MILLIS}: further behind no resend comes, an RTC reset raises at once) behind the
   * gateway clock, older than its metric's newest and not among the last 32 judged ({@link
   * Outcome#DEFERRED}) waits for
   * {@code storedBefore} and is then judged, unless it was stored before with the same value (a
   * resend older than the 32: a duplicate). Every other reading is judged at once.
   *
   * @param storedBefore the verdict, or null to judge everything at once
   */
  public void onReadings(List<Reading> readings, StoredBefore storedBefore) {
    int n = readings.size();
    if (n == 0) {
      return;
    }
    boolean mayDefer = storedBefore != null;
    boolean severalTimes = false;
    boolean ascending = true;
    long t0 = readings.get(0).timeMillis();
    for (int i = 1; i < n; i++) {
      long ti = readings.get(i).timeMillis();
      severalTimes |= ti != t0;
      ascending &= ti >= readings.get(i - 1).timeMillis();
    }
    if (!severalTimes) {
      List<Reading> deferred = null;
      for (int i = 0; i < n; i++) { // the hot path: one time per message
        Reading r = readings.get(i);
        long now = clock.getAsLong();
        DeviceRuleState d = device(r.deviceId(), now, r.metric(), r.timeMillis());
        if (d == null) {
          unknown++;
          continue;
        }
        touch(d, now);
        if (evaluate(d, r, now, r.timeMillis(), r.timeMillis(), false, false, mayDefer)
            == Outcome.DEFERRED) {
          deferred = deferred == null ? new ArrayList<>(2) : deferred;
          deferred.add(r);
        }
      }
      if (deferred != null) {
        defer(storedBefore, deferred, null, null, null);
      }
      return;
    }
    List<Reading> in = readings;
    if (!ascending) {
      in = new ArrayList<>(readings);
      in.sort(Comparator.comparingLong(Reading::timeMillis)); // stable
    }
    // per reading: the newest time of its device and metric in this message, and whether that
    // time was judged before this message (then the whole message is a resend)
    long[] newest = new long[n];
    long[] oldest = new long[n];
    boolean[] resent = new boolean[n];
    boolean[] done = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (done[i]) {
        continue;
      }
      Reading r = in.get(i);
      int last = i;
      for (int j = i + 1; j < n; j++) {
        Reading o = in.get(j);
        if (o.metric().equals(r.metric()) && o.deviceId().equals(r.deviceId())) {
          last = j; // ascending: the last of the group is its newest
        }
      }
      long mn = in.get(last).timeMillis();
      boolean wasSeen = seenBefore(r.deviceId(), r.metric(), mn, in.get(last).value());
      for (int j = i; j <= last; j++) {
        Reading o = in.get(j);
        if (!done[j] && o.metric().equals(r.metric()) && o.deviceId().equals(r.deviceId())) {
          newest[j] = mn;
          oldest[j] = r.timeMillis(); // ascending: the first of the group is its oldest
          resent[j] = wasSeen;
          done[j] = true;
        }
      }
    }
    List<Reading> deferred = null;
    long[] deferredNewest = null;
    long[] deferredOldest = null;
    boolean[] deferredResent = null;
    boolean[] waiting = null;
    for (int i = 0; i < n; i++) {
      Reading r = in.get(i);
      long now = clock.getAsLong();
      DeviceRuleState d = device(r.deviceId(), now, r.metric(), r.timeMillis());
      if (d == null) {
        unknown++;
        continue;
      }
      touch(d, now);
      if (evaluate(d, r, now, newest[i], oldest[i], resent[i], false, mayDefer)
          == Outcome.DEFERRED) {
        if (deferred == null) {
          deferred = new ArrayList<>();
          deferredNewest = new long[n];
          deferredOldest = new long[n];
          deferredResent = new boolean[n];
          waiting = new boolean[n];
        }
        deferredNewest[deferred.size()] = newest[i];
        deferredOldest[deferred.size()] = oldest[i];
        deferredResent[deferred.size()] = resent[i];
        deferred.add(r);
        waiting[i] = true;
      }
    }
    // the message's newest times are the last remembered: a resend of the whole message is
    // known by them however long the message was (a reading waiting for its verdict is
    // remembered when it is judged)
    for (int i = 0; i < n; i++) {
      Reading r = in.get(i);
      if (r.timeMillis() == newest[i] && (waiting == null || !waiting[i])) {
        DeviceRuleState d = devices.get(r.deviceId());
        MetricState m = d == null || !d.known() ? null : d.metrics.get(r.metric());
        if (m != null) {
          m.remember(newest[i], r.value());
        }
      }
    }
    if (deferred != null) {
      defer(storedBefore, deferred, deferredNewest, deferredOldest, deferredResent);
    }
  }

  /**
   * Asks for storage's verdict on {@code deferred} (in message order, oldest first) and judges
   * them when it comes, on this engine's thread.
   */
  private void defer(StoredBefore storedBefore, List<Reading> deferred, long[] msgNewest,
      long[] msgOldest, boolean[] msgResent) {
    storedBefore.whenKnown(stored -> reentry.accept(
        () -> judgeDeferred(deferred, msgNewest, msgOldest, msgResent, stored)));
  }

  private void judgeDeferred(List<Reading> deferred, long[] msgNewest, long[] msgOldest,
      boolean[] msgResent, Predicate<Reading> storedBefore) {
    for (int k = 0; k < deferred.size(); k++) {
      Reading r = deferred.get(k);
      DeviceRuleState d = devices.get(r.deviceId());
      if (d == null || !d.known()) {
        continue;
      }
      if (storedBefore.test(r)) {
        // stored before with the same value: a resend older than the last 32 judged
        duplicates++;
        continue;
      }
      evaluate(d, r, clock.getAsLong(), msgNewest == null ? r.timeMillis() : msgNewest[k],
          msgOldest == null ? r.timeMillis() : msgOldest[k], msgResent != null && msgResent[k],
          false, false);
    }
  }

  private boolean seenBefore(String deviceId, String metric, long t, double v) {
    DeviceRuleState d = devices.get(deviceId);
    MetricState m = d == null || !d.known() ? null : d.metrics.get(metric);
    return m != null && ((t == m.latestTime && sameValue(v, m.latestValue)) || m.seen(t, v));
  }

  /** The same number to the bit (a resend carries the very text, so the very double). */
  private static boolean sameValue(double a, double b) {
    return Double.doubleToLongBits(a) == Double.doubleToLongBits(b);
  }

  /**
   * Evaluates one device event (fire, fault, reset, ...): marks the device seen, then applies the
   * event rules of its type unless flagged. A clear older than the latch's last change is history;
   * so is a raise, unless the event is more than {@link #CLOCK_BEHIND_TOLERANCE_MILLIS} behind the
   * gateway clock (the device's clock may have gone back): then it raises at its arrival time
   * (see {@link io.safegrid.rules.event.EventRule#apply(DeviceEvent, long,
   * io.safegrid.rules.event.Latches, RuleContext)}).
   */
  public Outcome onEvent(DeviceEvent e) {
    long now = clock.getAsLong();
    DeviceRuleState d = device(e.deviceId(), now, e.event(), e.timeMillis());
    if (d == null) {
      unknown++;
      return Outcome.UNKNOWN_DEVICE;
    }
    touch(d, now);
    boolean ahead = false;
    if (flagged(d.deviceId, e.event(), e.timeMillis(), now)) {
      if (e.timeMillis() < SECONDS_LIMIT_MILLIS) {
        return Outcome.FLAGGED;
      }
      ahead = true; // device clock ahead: judged on arrival, below
    }
    // a resend (QoS 1 after a lost PUBACK, a session resumed minutes later) carries an event the
    // device sent already: judged once, never again (it would reopen what its reset cleared)
    long key = DeviceRuleState.eventKey(e);
    if (d.eventSeen(key)) {
      duplicates++;
      return Outcome.DUPLICATE;
    }
    d.rememberEvent(key);
    if (ahead) {
      // a panel whose clock is ahead (Beijing time sent as UTC: 8 h) still raises its fire: on
      // arrival, and its device time never becomes a latch's change time (newcomer7 F5)
      if (!d.rules.events().applyAhead(e, now, d.latches, ctx)) {
        return notRead(d, e, now);
      }
      evaluated++;
      return Outcome.EVALUATED;
    }
    // an event never seen, far behind the gateway clock, may come from a clock that went back:
    // its raise is never lost as history (judged at arrival); its clears keep its own time, and
    // also clear what such a late raise opened when they are not older than it
    long lateRaiseAt = now - e.timeMillis() > CLOCK_BEHIND_TOLERANCE_MILLIS ? now : Long.MIN_VALUE;
    if (!d.rules.events().apply(e, lateRaiseAt, now, d.latches, ctx)) {
      return notRead(d, e, now);
    }
    evaluated++;
    return Outcome.EVALUATED;
  }

  /**
   * An event no rule of the device's type reads: flagged {@link Flag.Kind#EVENT_NOT_READ}
   * (counted, and logged once per device by the gateway), never silently dropped (newcomer8 N5).
   */
  private Outcome notRead(DeviceRuleState d, DeviceEvent e, long now) {
    flagged++;
    String type = d.profile.type().wireName();
    flags.accept(new Flag(Flag.Kind.EVENT_NOT_READ, d.deviceId, e.event(), e.timeMillis(), now,
        "event '" + e.event() + "' is read by no rule of device type " + type
            + ": stored, no alarm"
            + ("fire".equalsIgnoreCase(e.event())
                ? " (a fire reported by a device that is no fire panel: a combined gas/smoke unit,"
                    + " or the wrong type in the site file? fire-panel-fire is read from fire_panel"
                    + " devices only)"
                : "")));
    return Outcome.NO_RULE;
  }

  /**
   * The earliest time (epoch ms) at which {@link #advanceTo(long)} may have something to do, or
   * {@link Long#MAX_VALUE} when nothing is scheduled. May be early (a device that reported since
   * is then rescheduled), never late.
   */
  public long nextDeadline() {
    long a = offlineQueue.isEmpty() ? Long.MAX_VALUE : offlineQueue.peek().queuedDeadline;
    long b = timers.isEmpty() ? Long.MAX_VALUE : timers.peek().atMillis;
    return Math.min(a, b);
  }

  /**
   * Runs everything due at or before {@code nowMillis}: debounce confirmations, and the offline
   * alarm of every device silent for more than its timeout (one alarm per silence, however many
   * intervals were missed). Cost is proportional to what is due, not to the number of devices.
   *
   * @return the number of transitions emitted
   */
  public int advanceTo(long nowMillis) {
    long before = transitions;
    while (!timers.isEmpty() && timers.peek().atMillis <= nowMillis) {
      Timer t = timers.poll();
      t.target.confirm(t.token, nowMillis, ctx);
    }
    while (!offlineQueue.isEmpty() && offlineQueue.peek().queuedDeadline <= nowMillis) {
      DeviceRuleState d = offlineQueue.poll();
      d.inQueue = false;
      long real = d.deadline();
      if (real > nowMillis) {
        enqueue(d, real);
      } else if (!d.offlineOpen) {
        d.offlineOpen = true;
        ctx.emit(d.inactivity.raise(d.deviceId, d.lastSeenMillis, real)); // time: when it went offline
      }
    }
    return (int) (transitions - before);
  }

  /**
   * Rebuilds state after a restart, without re-raising what is open:
   *
   * <ol>
   *   <li>open alarms set the rule states (threshold level from the severity, rate active,
   *       latches open, device offline, combinations);
   *   <li>last-seen times set the inactivity deadline to {@code max(lastSeen, now) + timeout}:
   *       every device gets one full timeout after the restart to report (no burst of false
   *       alarms for the time the gateway was down), and a device still silent then gets exactly
   *       one offline alarm; a device whose offline alarm is open gets none until it reports;
   *   <li>recent readings are replayed in event-time order through the normal rules. Only where
   *       they disagree with the open alarms does a transition come out (e.g. a level that fell
   *       while the gateway was down clears).
   * </ol>
   *
   * @return the number of transitions the replay emitted
   */
  public int restore(RestoreSnapshot snapshot) {
    long now = clock.getAsLong();
    long before = transitions;
    List<DeviceRuleState> touched = new ArrayList<>();
    for (OpenAlarm a : snapshot.openAlarms()) {
      if (combinations != null) {
        combinations.restoreOpen(a.deviceId(), a.ruleId(), a.sinceMillis());
      }
      DeviceRuleState d = device(a.deviceId(), now, a.ruleId(), now);
      if (d == null) {
        continue;
      }
      touched.add(d);
      restoreAlarm(d, a);
    }
    snapshot.lastSeen().forEach((id, seen) -> {
      DeviceRuleState d = device(id, now, "last-seen", now);
      if (d != null && seen != null) {
        d.lastSeenMillis = Math.max(d.lastSeenMillis, seen);
        touched.add(d);
      }
    });
    for (DeviceRuleState d : touched) {
      d.graceFromMillis = now;
      if (!d.offlineOpen && !d.inQueue) {
        enqueue(d, d.deadline());
      }
    }
    List<Reading> replay = new ArrayList<>(snapshot.recentReadings());
    replay.sort(Comparator.comparingLong(Reading::timeMillis));
    for (Reading r : replay) {
      DeviceRuleState d = device(r.deviceId(), now, r.metric(), r.timeMillis());
      if (d != null) {
        evaluate(d, r, now, r.timeMillis(), r.timeMillis(), false, true, false);
      }
    }
    return (int) (transitions - before);
  }

  private void restoreAlarm(DeviceRuleState d, OpenAlarm a) {
    String id = a.ruleId();
    if (InactivityRule.RULE_ID.equals(id)) {
      d.offlineOpen = true;
      return;
    }
    for (ThresholdRule t : d.rules.thresholds()) {
      if (t.ruleId().equals(id)) {
        MetricState m = d.metric(t.metric());
        for (int i = 0; i < m.thresholds.length; i++) {
          if (m.thresholds[i].rule() == t) {
            m.thresholds[i].restoreLevel(t.levelFor(a.severity()));
          }
        }
        return;
      }
    }
    for (RateOfChangeRule r : d.rules.rates()) {
      if (r.ruleId().equals(id)) {
        MetricState m = d.metric(r.metric());
        for (int i = 0; i < m.rates.length; i++) {
          m.rates[i].restoreActive(true);
        }
        return;
      }
    }
    if (d.rules.latchedRuleIds().contains(id)) {
      d.latches.get(id).restoreOpen(a.severity(), a.zones());
    }
  }

  /** Counters since start. */
  public EngineStats stats() {
    return new EngineStats(evaluated, late, duplicates, flagged, unknown, transitions,
        devices.size(), 0);
  }

  /**
   * The newest accepted value of a device's metric, or empty (for tests and the page).
   */
  public Optional<double[]> latest(String deviceId, String metric) {
    DeviceRuleState d = devices.get(deviceId);
    MetricState m = d == null ? null : d.metrics.get(metric);
    if (m == null || m.latestTime == Long.MIN_VALUE) {
      return Optional.empty();
    }
    return Optional.of(new double[] {m.latestTime, m.latestValue});
  }

  /** Whether the device's offline alarm is open. */
  public boolean isOffline(String deviceId) {
    DeviceRuleState d = devices.get(deviceId);
    return d != null && d.offlineOpen;
  }

  /**
   * @param msgNewest the newest time of this device and metric in the reading's message
   * @param msgOldest the oldest time of this device and metric in the reading's message
   * @param msgResent whether {@code msgNewest} was judged before the message (a resend)
   * @param replay a restart's replay: never taken for a clock that went back
   * @param mayDefer a storage verdict will come: a never-judged reading older than the newest and
   *     more than the tolerance (but at most {@link #CLOCK_RESET_MILLIS}) behind the gateway clock
   *     waits for it ({@link Outcome#DEFERRED})
   */
  private Outcome evaluate(DeviceRuleState d, Reading r, long now, long msgNewest,
      long msgOldest, boolean msgResent, boolean replay, boolean mayDefer) {
    long t = r.timeMillis();
    if (flagged(d.deviceId, r.metric(), t, now)) {
      return t < SECONDS_LIMIT_MILLIS ? Outcome.FLAGGED : ahead(d, r, now);
    }
    MetricState m = d.readMetric(r.metric());
    if (m == null) {
      return Outcome.NO_RULE; // no rule reads it: no state kept (review7 R15)
    }
    long ruleTime;
    boolean onArrival;
    boolean frozen = false;
    if (t > m.latestTime && (t > m.maxSeen || !m.seen(t, r.value()))) {
      // newer by the device's clock (in its current clock epoch): the hot path
      m.suspectTime = Long.MIN_VALUE;
      if (m.clockBehind && now - t > CLOCK_BEHIND_TOLERANCE_MILLIS) {
        onArrival = true;
        ruleTime = Math.max(now, m.ruleTime);
      } else {
        m.clockBehind = false;
        onArrival = false;
        ruleTime = Math.max(t, m.ruleTime);
      }
    } else if (t == m.latestTime) {
      if (sameValue(r.value(), m.latestValue)) {
        // the newest reading again: a resend (QoS 1 after a lost PUBACK), or a stopped clock
        // with an unchanged value; either way judging it again changes nothing
        duplicates++;
        return Outcome.DUPLICATE;
      }
      // the newest reading's time with another value: no resend (a resend carries its value),
      // the device's clock is stopped (frozen RTC, boot-time stamps). Judged on arrival, as a
      // clock that went back: the first hazardous value raises, a normal one clears
      frozen = true;
      onArrival = true;
      ruleTime = Math.max(now, m.ruleTime);
      if (now - t > CLOCK_BEHIND_TOLERANCE_MILLIS) {
        m.clockBehind = true; // when it runs again from there, it is a clock behind
      }
      m.suspectTime = Long.MIN_VALUE;
    } else if (m.seen(t, r.value())) {
      // a time judged already: a resend (QoS 1 after a lost PUBACK, however much later)
      duplicates++;
      return Outcome.DUPLICATE;
    } else if (mayDefer && m.rules != null && now - t > CLOCK_BEHIND_TOLERANCE_MILLIS
        && now - t <= CLOCK_RESET_MILLIS) {
      // older than the newest, far behind, and not among the last 32 judged: a resend of a
      // reading stored long ago, or never seen? Storage knows; judged once it has told. Not a
      // reading more than CLOCK_RESET_MILLIS behind (an RTC reset to 2000): no resend comes that
      // late, so it cannot be one, and is judged below at once, raises never delayed (review7
      // R4); nor would the store's answer mean anything there (a clock reset twice sends the same
      // times again, with the same values)
      return Outcome.DEFERRED;
    } else if (!replay && !msgResent && msgNewest < m.latestTime
        && now - msgNewest > CLOCK_BEHIND_TOLERANCE_MILLIS) {
      // never seen, and the message (by its newest) is far behind the device's newest and the
      // gateway clock: the device's clock may have gone back
      if (m.suspectTime != Long.MIN_VALUE && msgNewest > m.suspectTime
          && (now - msgNewest > CLOCK_RESET_MILLIS
              || msgNewest - m.suspectTime <= now - m.suspectArrival + CLOCK_CONFIRM_SLACK_MILLIS)) {
        // a second such message, newer than the first, and either so far behind that it is no
        // backlog (a reset clock) or whose device time advanced with the gateway clock (not a
        // burst of old messages): the device's clock went back
        m.clockBehind = true;
        m.suspectTime = Long.MIN_VALUE;
        for (int i = 0; i < m.thresholds.length; i++) {
          m.thresholds[i].newClockEpoch();
        }
        onArrival = true;
        ruleTime = Math.max(now, m.ruleTime);
      } else {
        if (m.suspectTime != msgNewest) {
          m.suspectTime = msgNewest; // the next such message tells
          m.suspectArrival = now;
        }
        m.remember(t, r.value());
        if (msgOldest < msgNewest && now - msgNewest <= CLOCK_RESET_MILLIS) {
          // several times of this metric in one message, less than 30 days behind: a cached
          // backlog, or the first message of a multi-sample unit whose clock went back. Its own
          // times carry its durations, so the debounce runs on them, with its own time
          // (newcomer8 N2: one 70 %LEL sample in a 2-hour-old backlog raised CRITICAL on arrival
          // on a debounced device). No history check: a clock that went back puts its present
          // before the last clear's device time, and a real leak would be dropped as history
          // until the next message (review8 R8-7); a backlog's resends are known by storage
          // (DEFERRED) and by the last 32 judged. The next far-behind message still tells a clock
          // that went back
          return late(d, m, r, now, t, false, true);
        }
        // raises are never delayed: judged on arrival, and not history (its time cannot be
        // compared with the last clear's when the clock went back)
        return late(d, m, r, now, now, false, false);
      }
    } else {
      m.remember(t, r.value());
      return late(d, m, r, now, t, true, true);
    }
    if (frozen) {
      flagged++;
      flags.accept(new Flag(Flag.Kind.CLOCK_FROZEN, d.deviceId, r.metric(), t, now,
          "device clock stopped: the time of its newest reading again, with another value ("
              + r.value() + ", was " + m.latestValue + "): judged on arrival time (storage keeps one "
              + "value per device, metric and time)"));
    } else if (onArrival) {
      flagged++;
      flags.accept(new Flag(Flag.Kind.CLOCK_BEHIND, d.deviceId, r.metric(), t, now,
          "device clock is " + (now - t) / 1000 + " s behind the gateway clock and went back "
              + "(older than the newest reading): judged on arrival time"));
    }
    double v = r.value();
    m.latestTime = t;
    m.latestValue = v;
    m.ruleTime = ruleTime;
    m.remember(t, r.value());
    RuleSet.MetricRules rules = m.rules;
    if (rules == null) {
      return Outcome.NO_RULE;
    }
    evaluated++;
    for (int i = 0; i < m.thresholds.length; i++) {
      m.thresholds[i].evaluate(ruleTime, t, onArrival, v, ctx);
    }
    for (int i = 0; i < m.rates.length; i++) {
      m.rates[i].evaluate(ruleTime, v, ctx);
    }
    StateCodeRule[] codes = rules.stateCodes();
    for (int i = 0; i < codes.length; i++) {
      codes[i].evaluate(ruleTime, v, d.latches, ctx);
    }
    return Outcome.EVALUATED;
  }

  /**
   * A late reading: raises only (see the class comment); flagged when past a setpoint and new.
   *
   * @param atMillis the raise's time: the reading's own, or its arrival ({@code now})
   * @param checkHistory whether one older than the last lowering is history (not when the device's
   *     clock may have gone back: its times cannot be compared with the last clear's)
   * @param debounce whether the debounce applies on the late readings' own times (not when the
   *     reading is judged on arrival: it may be the present, and raises are never delayed)
   */
  private Outcome late(DeviceRuleState d, MetricState m, Reading r, long now, long atMillis,
      boolean checkHistory, boolean debounce) {
    late++;
    RuleSet.MetricRules rules = m.rules;
    if (rules == null) {
      return Outcome.LATE;
    }
    long t = r.timeMillis();
    double v = r.value();
    int raised = 0;
    int history = 0;
    int pending = 0;
    for (int i = 0; i < m.thresholds.length; i++) {
      LateCheck c = m.thresholds[i].lateRaise(t, atMillis, v, now, checkHistory, debounce, ctx);
      raised += c == LateCheck.RAISED ? 1 : 0;
      history += c == LateCheck.HISTORY ? 1 : 0;
      pending += c == LateCheck.PENDING ? 1 : 0;
    }
    StateCodeRule[] codes = rules.stateCodes();
    for (int i = 0; i < codes.length; i++) {
      LateCheck c = codes[i].lateRaise(t, atMillis, v, now, checkHistory, d.latches, ctx);
      raised += c == LateCheck.RAISED ? 1 : 0;
      history += c == LateCheck.HISTORY ? 1 : 0;
    }
    if (raised + history + pending > 0) {
      flagged++;
      flags.accept(new Flag(Flag.Kind.LATE_READING, d.deviceId, r.metric(), t, now,
          "reading " + (now - t) / 1000 + " s old, older than the newest one ("
              + (m.latestTime - t) / 1000 + " s): "
              + (raised > 0
                  ? (!debounce ? "far behind the gateway clock (clock went back?): raised on arrival"
                      : "raised with its own time")
                  : history > 0 ? "history: older than the last clear"
                  : "past a setpoint for less than the debounce so far: not raised")));
    }
    return Outcome.LATE;
  }

  /**
   * A reading more than {@link #MAX_FUTURE_SKEW_MILLIS} ahead of the gateway clock (flagged
   * {@code future_timestamp} already): the device's clock is ahead, e.g. a unit keeping Beijing
   * time (UTC+8) but writing {@code Z}, 8 h ahead. Judged as a clock that went back is: on its
   * arrival time ({@code max(arrival, previous rule time)}), so it raises and clears and debounce
   * runs on real time, with {@code device_clock: ahead} in the evidence. Its device time never
   * becomes the metric's newest ({@link MetricState#latestTime}): once the clock is put right,
   * its correct readings are in order, not late. Among themselves such readings go by device
   * time: a resend (time and value of one of the last 32 judged) is a duplicate, one older than
   * the newest judged ahead is checked for raises only, on arrival; one at the same time with
   * another value (a clock stopped ahead) is judged as the newest (newcomer7 F5).
   */
  private Outcome ahead(DeviceRuleState d, Reading r, long now) {
    MetricState m = d.readMetric(r.metric());
    if (m == null) {
      return Outcome.NO_RULE;
    }
    long t = r.timeMillis();
    double v = r.value();
    if (m.seen(t, v)) {
      duplicates++;
      return Outcome.DUPLICATE;
    }
    m.remember(t, v);
    RuleSet.MetricRules rules = m.rules;
    if (rules == null) {
      return Outcome.NO_RULE;
    }
    StateCodeRule[] codes = rules.stateCodes();
    if (t < m.aheadTime) {
      late++;
      for (int i = 0; i < m.thresholds.length; i++) {
        m.thresholds[i].lateRaise(t, now, v, now, false, ctx);
      }
      for (int i = 0; i < codes.length; i++) {
        codes[i].lateRaise(t, now, v, now, false, d.latches, ctx);
      }
      return Outcome.LATE;
    }
    m.aheadTime = t;
    long ruleTime = Math.max(now, m.ruleTime);
    m.ruleTime = ruleTime;
    evaluated++;
    for (int i = 0; i < m.thresholds.length; i++) {
      m.thresholds[i].evaluate(ruleTime, t, true, v, ctx);
    }
    for (int i = 0; i < m.rates.length; i++) {
      m.rates[i].evaluate(ruleTime, v, ctx);
    }
    for (int i = 0; i < codes.length; i++) {
      codes[i].evaluate(ruleTime, v, d.latches, ctx);
    }
    return Outcome.EVALUATED;
  }

  private boolean flagged(String deviceId, String subject, long t, long now) {
    if (t < SECONDS_LIMIT_MILLIS) {
      flagged++;
      flags.accept(new Flag(Flag.Kind.SECONDS_AS_MILLIS, deviceId, subject, t, now,
          "time " + t + " ms is before 1973: epoch seconds sent as milliseconds?"));
      return true;
    }
    if (t > now + MAX_FUTURE_SKEW_MILLIS) {
      flagged++;
      flags.accept(new Flag(Flag.Kind.FUTURE_TIMESTAMP, deviceId, subject, t, now,
          "time is " + (t - now) / 1000 + " s ahead of the gateway clock (limit "
              + MAX_FUTURE_SKEW_MILLIS / 1000 + " s): device clock ahead, judged on arrival time"));
      return true;
    }
    return false;
  }

  private void touch(DeviceRuleState d, long now) {
    if (now > d.lastSeenMillis) {
      d.lastSeenMillis = now;
    }
    if (d.offlineOpen) {
      d.offlineOpen = false;
      ctx.emit(d.inactivity.clear(d.deviceId, now));
    }
    if (!d.inQueue) {
      enqueue(d, d.deadline());
    }
  }

  private void enqueue(DeviceRuleState d, long deadline) {
    d.queuedDeadline = deadline;
    d.inQueue = true;
    offlineQueue.add(d);
  }

  /** The device's state, created on first sight; null (flagged once) when unknown or invalid. */
  private DeviceRuleState device(String id, long now, String subject, long t) {
    DeviceRuleState d = devices.get(id);
    if (d != null) {
      return d.known() ? d : null;
    }
    Optional<DeviceProfile> p = directory.find(id);
    if (p.isEmpty()) {
      d = new DeviceRuleState(id, null, null);
      devices.put(id, d);
      flagged++;
      flags.accept(new Flag(Flag.Kind.UNKNOWN_DEVICE, id, subject, t, now,
          "device is not in the site"));
      return null;
    }
    RuleSet set;
    try {
      set = book.ruleSetFor(p.get());
    } catch (IllegalArgumentException ex) {
      d = new DeviceRuleState(id, null, null);
      devices.put(id, d);
      flagged++;
      flags.accept(new Flag(Flag.Kind.BAD_RULE_PARAMETERS, id, subject, t, now, ex.getMessage()));
      return null;
    }
    d = new DeviceRuleState(id, p.get(), set);
    devices.put(id, d);
    return d;
  }

  private final class Ctx implements RuleContext {
    @Override
    public void emit(AlarmTransition t) {
      transitions++;
      sink.accept(t);
      if (combinations != null && combinations.interestedIn(t.ruleId())) {
        combinations.onTransition(t);
      }
    }

    @Override
    public void callBackAt(long atMillis, Confirmable target, long token) {
      timers.add(new Timer(atMillis, target, token));
    }

    @Override
    public void held(String deviceId, String ruleId, long atMillis) {
      if (combinations != null && combinations.interestedIn(ruleId)) {
        combinations.onHeld(deviceId, ruleId, atMillis);
      }
    }
  }
}
