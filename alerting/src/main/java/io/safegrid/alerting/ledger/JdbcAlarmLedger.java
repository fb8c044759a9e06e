package io.safegrid.alerting.ledger;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.safegrid.alerting.trace.AlarmPathTrace;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The alarm ledger on PostgreSQL/TimescaleDB (tables {@code alarms}, {@code alarm_events} of
 * migration V2).
 *
 * <p>Every change runs in one transaction: a per-(device, rule) advisory lock and a row lock
 * serialise concurrent raises (the partial unique index {@code alarms_one_open_per_device_rule}
 * enforces one open alarm per device and rule as well), the {@code alarms} row is written, the
 * {@link LedgerHook hooks} add their rows (escalation deadlines, outbox), and the {@code
 * alarm_events} rows are appended last. Listeners are told after commit, in event id order, on the
 * service's own thread (see {@link #addListener}).
 *
 * <p>Round trips: a rule transition takes two (the per-key lock with the select, then every write,
 * the events and the COMMIT; docs/alerting.md "Group commit"), or one when this ledger wrote the
 * alarm last and nobody changed it since ({@link KnownAlarms}: the lock and a check of its content go with
 * the writes; docs/alerting.md "One round trip"), and commits with {@code
 * synchronous_commit} off (docs/alerting.md "Durability of rule transitions"). New alarms take
 * their ids with the lock-and-select round trip.
 *
 * <p>Metrics: {@code safegrid.alarms.transitions} (counter, tag {@code type}), {@code
 * safegrid.alarms.open} (gauge, tag {@code severity}: alarms not closed), {@code
 * safegrid.alarms.ledger.memory.used} (rule transitions committed from memory) and {@code
 * .memory.stale} (groups redone because a remembered alarm had changed).
 *
 * <p>Lifecycle: construct, {@link #start()} (starts listener dispatch), {@link #close()}. Calls
 * made before {@code start} work; their events reach listeners once started.
 */
public final class JdbcAlarmLedger implements AlarmService, AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(JdbcAlarmLedger.class);
  /** Actor of rule-engine transitions. */
  public static final String RULES_ACTOR = "rules";

  /**
   * Evidence key of a fire spreading: the rules repeat an open fire alarm when the panel reports
   * a fire in a zone it had not reported, with this key giving that zone (and {@code zones} all of
   * them; docs/rules.md, newcomer7 F25).
   */
  public static final String SPREAD_EVIDENCE = "new_zone";

  /**
   * Whether a repeat with evidence {@code after} reports a spread the alarm's evidence {@code
   * before} did not: {@link #SPREAD_EVIDENCE} present and naming another zone than before's (a
   * later repeat that only carries the same evidence on is no new spread).
   *
   * @param before the open alarm's evidence (may be empty)
   * @param after the repeat's evidence (may be empty)
   */
  public static boolean spread(Map<String, Object> before, Map<String, Object> after) {
    Object zone = after == null ? null : after.get(SPREAD_EVIDENCE);
    if (zone == null) {
      return false;
    }
    Object was = before == null ? null : before.get(SPREAD_EVIDENCE);
    return was == null || !String.valueOf(was).equals(String.valueOf(zone));
  }

  private final DataSource dataSource;
  private final InstantSource clock;
  private final LedgerConfig config;
  private final MeterRegistry registry;
  private final List<LedgerHook> hooks = new CopyOnWriteArrayList<>();
  private final EventDispatcher dispatcher;
  private final Map<String, Counter> transitions = new ConcurrentHashMap<>();
  private final Map<Severity, AtomicLong> openBySeverity = new EnumMap<>(Severity.class);
  private final Timer applyTimer;
  private final Timer commitTimer;
  private volatile Thread warmUp;
  /** Rule-transition groups being applied now: the warm-up steps aside for them. */
  private final java.util.concurrent.atomic.AtomicInteger applying = new java.util.concurrent.atomic.AtomicInteger();
  private final DistributionSummary groupSize;
  /**
   * The highest alarm id and event id this ledger has committed and told: after a PostgreSQL crash
   * an asynchronous commit's sequence advance can be lost with its rows, and the sequence would
   * hand those ids out again to different alarms and events (review F1/F4). Every transaction
   * raises the sequences to at least these before it takes an id (same round trip, under the
   * locks), so an id a listener has seen is never reused by this process.
   */
  private final AtomicLong alarmIdFloor = new AtomicLong();
  private final AtomicLong eventIdFloor = new AtomicLong();
  private final Counter groupRetries;
  /** The alarms this ledger wrote last, for one-round-trip transitions (docs/alerting.md "One round trip"). */
  private final KnownAlarms known = new KnownAlarms();
  private final Counter memoryUsed;
  private final Counter memoryStale;
  /** {@code memoryUsed::increment}, made once (see the commit path in {@code inTransaction}). */
  private final Runnable countMemoryUse;
  /** The random half of the rule transitions' {@link LedgerTx#token tokens}; the other half counts. */
  private final long tokenPrefix = new java.security.SecureRandom().nextLong();
  private final AtomicLong tokenCount = new AtomicLong();
  /**
   * Rule-transition transactions whose connection broke during the COMMIT's round trip and whose
   * outcome could not be found out yet (docs/alerting.md "When the connection breaks during the
   * commit"): the transitions of their keys fail until it is.
   */
  private final List<InDoubt> doubts = new CopyOnWriteArrayList<>();
  /**
   * Transitions an {@link InDoubt} transaction turned out to have committed after they had been
   * reported failed: when the alarm writer hands them in again they are reported applied and not
   * written twice. Entries are dropped when used or after {@link #COMMITTED_IN_DOUBT_KEPT_NANOS}.
   */
  private final Map<AlarmTransition, CommittedInDoubt> committedInDoubt = new LinkedHashMap<>();
  private static final long COMMITTED_IN_DOUBT_KEPT_NANOS = java.util.concurrent.TimeUnit.MINUTES.toNanos(30);
  private final Counter outcomeUnknown;
  private final Counter deadConnections;
  /**
   * Officer actions (acknowledge, close) whose connection broke during their COMMIT's round trip
   * and whose outcome could not be found out then, by alarm id: the next action on the alarm
   * finds it out first, and a retry of the same action that had committed is answered with what
   * it committed (idempotent) instead of a refusal. Entries are dropped when resolved or after
   * {@link #COMMITTED_IN_DOUBT_KEPT_NANOS}.
   */
  private final Map<Long, OfficerDoubt> officerDoubts = new ConcurrentHashMap<>();
  /**
   * {@code backend_start} of the PostgreSQL backend behind each physical connection this ledger
   * committed on (weak keys: a connection the pool closed drops out), so that ending a broken
   * transaction's backend ({@link #TERMINATE_BROKEN}) can never end another backend that was
   * handed the same pid later (review6 item 7).
   */
  private final Map<Object, java.time.OffsetDateTime> backendStarts =
      java.util.Collections.synchronizedMap(new java.util.WeakHashMap<>());
  /**
   * How many times one transaction is redone on another connection when the pooled connection it
   * got turns out dead before its COMMIT was sent: more than a pool's worth of connections (every
   * pooled connection dies with a server restart; each one that fails is evicted).
   */
  static final int DEAD_CONNECTIONS_RETRIED = 16;

  /**
   * @param dataSource the database holding migration V2 (connections with auto-commit on)
   * @param clock the service clock: every timestamp the ledger writes comes from it
   * @param config ledger settings
   * @param registry where the metrics go
   */
  public JdbcAlarmLedger(
      DataSource dataSource, InstantSource clock, LedgerConfig config, MeterRegistry registry) {
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.config = Objects.requireNonNull(config, "config");
    this.registry = Objects.requireNonNull(registry, "registry");
    for (Severity s : Severity.values()) {
      AtomicLong v = new AtomicLong();
      openBySeverity.put(s, v);
      Gauge.builder("safegrid.alarms.open", v, AtomicLong::get)
          .description("alarms not yet closed (written off)")
          .tag("severity", s.wireName())
          .register(registry);
    }
    this.applyTimer = Timer.builder("safegrid.alarms.ledger.apply")
        .description("one ledger transaction of rule transitions (a group commit): connection to commit")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
    this.commitTimer = Timer.builder("safegrid.alarms.ledger.commit")
        .description("the last round trip of a ledger transaction: its deferred writes, events and COMMIT (with its WAL flush, except rule transitions')")
        .publishPercentiles(0.5, 0.9, 0.99)
        .register(registry);
    this.groupSize = DistributionSummary.builder("safegrid.alarms.writer.batch")
        .description("rule transitions per ledger transaction (group commit)")
        .publishPercentiles(0.5, 0.99)
        .register(registry);
    this.groupRetries = Counter.builder("safegrid.alarms.ledger.group.retries")
        .description("group commits redone transition by transition (savepoints) after one failed")
        .register(registry);
    this.memoryUsed = Counter.builder("safegrid.alarms.ledger.memory.used")
        .description("rule transitions committed from the alarm as this ledger last wrote it (one round trip)")
        .register(registry);
    this.memoryStale = Counter.builder("safegrid.alarms.ledger.memory.stale")
        .description("rule transition groups redone with the select because a remembered alarm had changed")
        .register(registry);
    this.countMemoryUse = memoryUsed::increment;
    this.outcomeUnknown = Counter.builder("safegrid.alarms.ledger.outcome.unknown")
        .description("rule transition transactions whose connection broke during their COMMIT's round trip")
        .register(registry);
    this.deadConnections = Counter.builder("safegrid.alarms.ledger.dead.connections")
        .description("ledger transactions redone on another connection because the pooled one was dead before the COMMIT was sent")
        .register(registry);
    this.dispatcher = new EventDispatcher(id -> eventsAfter(id, 500), this::refreshOpenGauge, 1_000, registry);
  }

  /** Adds a hook run inside every change's transaction (escalation registers one). */
  public void addHook(LedgerHook hook) {
    hooks.add(Objects.requireNonNull(hook));
  }

  /** Starts telling listeners; events committed from now on (and not before) are dispatched. */
  public void start() {
    dispatcher.start(maxEventId());
    refreshOpenGauge();
  }

  /** The service clock. */
  public InstantSource clock() {
    return clock;
  }

  // ---------------------------------------------------------------- changes

  @Override
  public Optional<Alarm> apply(AlarmTransition t) {
    Objects.requireNonNull(t, "transition");
    TransitionOutcome o = applyAll(List.of(t), 0L).get(0);
    if (o.status() == TransitionOutcome.Status.FAILED) {
      throw o.error();
    }
    return o.alarm();
  }

  /**
   * Group commit: applies the transitions in order in <em>one</em> transaction (one commit, one
   * event-order lock), then hands their events to the listeners. If one of them fails, the
   * transaction is rolled back and run again with a savepoint around each transition, so the
   * failing one is rolled back alone and the others commit; later transitions of the failing
   * (device, rule) are not tried (their order would be broken). If the database itself fails
   * (unreachable, commit refused), every transition fails with that error.
   *
   * <p>Timer {@code safegrid.alarms.ledger.apply} (seconds, connection to commit, per group),
   * summary {@code safegrid.alarms.writer.batch} (transitions per group), counter {@code
   * safegrid.alarms.ledger.group.retries} (groups redone with savepoints).
   *
   * @param transitions up to a few hundred, in the rule engine's order
   * @param decidedAtNanos {@link System#nanoTime()} when the oldest was decided, or 0
   * @return one outcome per transition, same order
   */
  @Override
  public List<TransitionOutcome> applyAll(List<AlarmTransition> transitions, long decidedAtNanos) {
    Objects.requireNonNull(transitions, "transitions");
    if (transitions.isEmpty()) {
      return List.of();
    }
    for (AlarmTransition t : transitions) { // no lambda: see ApplyEach
      Objects.requireNonNull(t, "transition");
    }
    long t0 = System.nanoTime();
    applying.incrementAndGet();
    try {
      if (doubts.isEmpty() && committedInDoubtIsEmpty()) {
        return applyGroup(transitions, decidedAtNanos);
      }
      return applyAroundDoubts(transitions, decidedAtNanos);
    } finally {
      applying.decrementAndGet();
      applyTimer.record(System.nanoTime() - t0, java.util.concurrent.TimeUnit.NANOSECONDS);
      groupSize.record(transitions.size());
    }
  }

  /**
   * The group commit proper: one transaction; if it fails, the redo with the select (a remembered
   * alarm had changed) or with savepoints; if its connection broke during the COMMIT's round trip,
   * first finds out whether it committed ({@link #resolve}).
   */
  private List<TransitionOutcome> applyGroup(List<AlarmTransition> transitions, long decidedAtNanos) {
    try {
      return attempt(transitions, false, decidedAtNanos);
    } catch (OutcomeUnknownException unknown) {
      return failedAll(transitions, unknown);
    } catch (RuntimeException firstTry) {
      RuntimeException first = firstTry;
      transitions.forEach(t -> known.forget(t.deviceId(), t.ruleId())); // whatever failed, read the rows again
      if (rowChanged(first) || first instanceof RolledBackAfterBreak) {
        // an officer, an escalation step or another gateway changed an alarm since this ledger
        // wrote it: the redo selects it (its entry is forgotten), as a ledger without memory would;
        // or the connection broke during the COMMIT and the transaction is known not to have
        // committed: redo it at once (the database answered the check)
        if (rowChanged(first)) {
          memoryStale.increment();
        }
        try {
          // without memory: another writer may have committed (and this ledger remembered) the
          // key again since it was forgotten above, and the redo would fail the same way
          return attempt(transitions, false, false, decidedAtNanos);
        } catch (OutcomeUnknownException unknown) {
          return failedAll(transitions, unknown);
        } catch (RuntimeException again) {
          first = again;
        }
      }
      if (transitions.size() == 1) {
        return List.of(TransitionOutcome.failed(transitions.get(0), first));
      }
      groupRetries.increment();
      log.debug("group of {} transitions failed ({}); redoing with savepoints", transitions.size(), first.toString());
      try {
        return attempt(transitions, true, decidedAtNanos);
      } catch (RuntimeException whole) {
        return failedAll(transitions, whole);
      }
    }
  }

  private static List<TransitionOutcome> failedAll(List<AlarmTransition> transitions, RuntimeException e) {
    List<TransitionOutcome> out = new ArrayList<>(transitions.size());
    transitions.forEach(t -> out.add(TransitionOutcome.failed(t, e)));
    return out;
  }

  /**
   * One transaction of the group. When its connection breaks during the COMMIT's round trip, finds
   * out whether it committed: if so, returns its outcomes (they are committed; nothing is written
   * again); if not, throws {@link RolledBackAfterBreak} (safe to redo); if that cannot be found
   * out now, keeps it {@link #doubts in doubt} and throws {@link OutcomeUnknownException} (not to
   * be redone: the transitions fail and the alarm writer hands them in again later).
   */
  @SuppressWarnings("unchecked")
  private List<TransitionOutcome> attempt(List<AlarmTransition> transitions, boolean savepoints, long decidedAtNanos) {
    return attempt(transitions, savepoints, !savepoints, decidedAtNanos);
  }

  /** @param memory whether transitions may be written from {@link KnownAlarms} (one round trip) */
  @SuppressWarnings("unchecked")
  private List<TransitionOutcome> attempt(List<AlarmTransition> transitions, boolean savepoints, boolean memory,
      long decidedAtNanos) {
    try {
      return inTransaction(new ApplyEach(transitions, savepoints, memory), decidedAtNanos, true, true);
    } catch (OutcomeUnknownException unknown) {
      transitions.forEach(t -> known.forget(t.deviceId(), t.ruleId()));
      InDoubt d = unknown.doubt;
      switch (resolve(d)) {
        case COMMITTED:
          return (List<TransitionOutcome>) d.result();
        case ROLLED_BACK:
          throw new RolledBackAfterBreak(unknown);
        default:
          doubts.add(d);
          throw unknown;
      }
    }
  }

  /**
   * With transactions in doubt (or committed in doubt): resolves them first; a transition that a
   * resolved transaction committed is reported applied, not written again; the transitions of a
   * (device, rule) still in doubt fail (the first; later ones of the key are not tried); the rest
   * go through {@link #applyGroup}.
   */
  private List<TransitionOutcome> applyAroundDoubts(List<AlarmTransition> transitions, long decidedAtNanos) {
    Set<String> blocked = resolveDoubts();
    TransitionOutcome[] out = new TransitionOutcome[transitions.size()];
    Set<String> failedKeys = new java.util.HashSet<>();
    List<AlarmTransition> rest = new ArrayList<>();
    List<Integer> restAt = new ArrayList<>();
    for (int i = 0; i < transitions.size(); i++) {
      AlarmTransition t = transitions.get(i);
      String key = KnownAlarms.key(t.deviceId(), t.ruleId());
      if (failedKeys.contains(key)) {
        out[i] = TransitionOutcome.notTried(t);
      } else if (blocked.contains(key)) {
        failedKeys.add(key);
        String why = "an earlier transaction of " + t.deviceId() + "/" + t.ruleId()
            + " lost its connection during its commit and whether it committed is not known yet";
        // SQLSTATE 08006 (connection failure): the alarm writer retries it for as long as it lasts
        out[i] = TransitionOutcome.failed(t, new AlarmStoreException(why,
            new java.sql.SQLTransientConnectionException(why, "08006")));
      } else {
        CommittedInDoubt done = takeCommittedInDoubt(t);
        if (done != null) {
          out[i] = done.outcome();
        } else {
          rest.add(t);
          restAt.add(i);
        }
      }
    }
    if (!rest.isEmpty()) {
      List<TransitionOutcome> applied = applyGroup(rest, decidedAtNanos);
      for (int j = 0; j < applied.size(); j++) {
        out[restAt.get(j)] = applied.get(j);
      }
    }
    return List.of(out);
  }

  /** Resolves what is in doubt; returns the keys of what still is. */
  private Set<String> resolveDoubts() {
    Set<String> blocked = new java.util.HashSet<>();
    for (InDoubt d : doubts) {
      switch (resolve(d)) {
        case COMMITTED -> {
          doubts.remove(d);
          @SuppressWarnings("unchecked")
          List<TransitionOutcome> outcomes = (List<TransitionOutcome>) d.result();
          synchronized (committedInDoubt) {
            for (TransitionOutcome o : outcomes) {
              if (o.applied()) {
                committedInDoubt.put(o.transition(), new CommittedInDoubt(o, System.nanoTime()));
              }
            }
          }
        }
        case ROLLED_BACK -> doubts.remove(d);
        default -> blocked.addAll(d.keys());
      }
    }
    synchronized (committedInDoubt) {
      long now = System.nanoTime();
      committedInDoubt.values().removeIf(c -> now - c.atNanos() > COMMITTED_IN_DOUBT_KEPT_NANOS);
    }
    return blocked;
  }

  private boolean committedInDoubtIsEmpty() {
    synchronized (committedInDoubt) {
      return committedInDoubt.isEmpty();
    }
  }

  private CommittedInDoubt takeCommittedInDoubt(AlarmTransition t) {
    synchronized (committedInDoubt) {
      return committedInDoubt.remove(t);
    }
  }

  /** What became of a transaction in doubt, as far as the database can tell now. */
  private enum Resolution { COMMITTED, ROLLED_BACK, UNKNOWN }

  /**
   * Ends the broken transaction's backend if it is still there ({@code pg_terminate_backend},
   * waiting up to 5 s for it to exit: from then on it can never commit), then looks for its token
   * in {@code alarm_events} ({@code ledger_tx}, migration V4): found = committed. A transaction
   * that wrote no event is taken as rolled back (redoing it writes nothing anyone can see twice).
   * When committed, the id floors and the transition counters are brought up to date; its events
   * reach the listeners by the dispatcher's read of the table (signalled when the break happened).
   *
   * @return {@link Resolution#UNKNOWN} when the database cannot be asked or the backend does not exit
   */
  private Resolution resolve(InDoubt d) {
    for (int broken = 0; ; broken++) {
      try (Connection c = dataSource.getConnection()) {
        return resolveOn(c, d);
      } catch (SQLException e) {
        if (connectionBroke(e) && broken < DEAD_CONNECTIONS_RETRIED) {
          deadConnections.increment(); // another dead pooled connection (a server restart kills them all)
          continue;
        }
        log.warn("ledger transaction {} in doubt (its connection broke during its commit), not resolved yet: {}",
            d.token(), e.toString());
        return Resolution.UNKNOWN;
      } catch (RuntimeException e) {
        log.warn("ledger transaction {} in doubt (its connection broke during its commit), not resolved yet: {}",
            d.token(), e.toString());
        return Resolution.UNKNOWN;
      }
    }
  }

  /** {@link #resolve} on one connection. */
  private Resolution resolveOn(Connection c, InDoubt d) throws SQLException {
    {
      if (!endBrokenBackend(c, d.backendPid(), d.backendStart())) {
        log.warn("ledger transaction in doubt: its backend {} did not exit within 5 s", d.backendPid());
        return Resolution.UNKNOWN;
      }
      if (d.alarmIds().length == 0) {
        return Resolution.ROLLED_BACK;
      }
      List<AlarmEvent> found;
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT * FROM alarm_events WHERE alarm_id = ANY(?) AND ledger_tx = ? ORDER BY id")) {
        ps.setArray(1, c.createArrayOf("bigint", d.alarmIds()));
        ps.setObject(2, d.token());
        found = events(ps);
      }
      log.warn("ledger transaction {} lost its connection during its commit: it {}", d.token(),
          found.isEmpty() ? "did not commit (redone)" : "committed (" + found.size() + " events; not redone)");
      if (found.isEmpty()) {
        return Resolution.ROLLED_BACK;
      }
      for (AlarmEvent e : found) {
        eventIdFloor.accumulateAndGet(e.id(), MAX);
        alarmIdFloor.accumulateAndGet(e.alarmId(), MAX);
        transitionCounter(e.type()).increment();
      }
      dispatcher.signal();
      return Resolution.COMMITTED;
    }
  }

  /**
   * Ends a backend of this database user (the broken connection's) and waits up to 5 s for it to
   * exit; no row when it is gone already. {@code pg_terminate_backend(pid, timeout)}: PostgreSQL
   * 14+. A pid alone could name a backend started later that was handed the same pid (after a
   * wrap of {@code pid_max}, or a server host restart while the doubt lasted), so the backend must
   * also have the {@code backend_start} recorded for the connection ({@link #noteBackendStart};
   * unknown when this ledger never read from or warmed that connection: then the pid alone
   * decides, as before). Not filtered on {@code state}: a one-round-trip transaction's whole text,
   * COMMIT included, can sit unread in an {@code idle} backend's socket.
   */
  private static final String TERMINATE_BROKEN = "SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity"
      + " WHERE pid = ? AND usename = current_user AND backend_type = 'client backend'"
      + " AND (CAST(? AS timestamptz) IS NULL OR backend_start = ?)";

  /**
   * Ends the broken transaction's backend if it is still there ({@link #TERMINATE_BROKEN}),
   * waiting up to 5 s for it to exit.
   *
   * @param c another connection of the same database user
   * @param pid the backend's process id
   * @param backendStart its {@code backend_start}, or null when not known (then the pid decides)
   * @return false when a backend was found and did not exit within 5 s; true when it exited or
   *     none matched
   * @throws SQLException when the database cannot be asked
   */
  static boolean endBrokenBackend(Connection c, int pid, java.time.OffsetDateTime backendStart) throws SQLException {
    try (PreparedStatement ps = c.prepareStatement(TERMINATE_BROKEN)) {
      ps.setInt(1, pid);
      ps.setObject(2, backendStart, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
      ps.setObject(3, backendStart, java.sql.Types.TIMESTAMP_WITH_TIMEZONE);
      try (ResultSet rs = ps.executeQuery()) {
        return !rs.next() || rs.getBoolean(1);
      }
    }
  }

  /** What a connection's backend reports of itself: its start, for {@link #TERMINATE_BROKEN}. */
  private static final String BACKEND_START = "SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()";

  /** The physical (pgjdbc) connection behind a pooled one: the key of {@link #backendStarts}. */
  private static Object physical(Connection c) throws SQLException {
    return c.unwrap(org.postgresql.PGConnection.class);
  }

  /**
   * Records the {@code backend_start} of {@code c}'s backend when not yet known: one round trip
   * per physical connection, in the warm-up (every pooled connection) or before a read (listener
   * dispatch, the dashboard); never on the alarm writer's transactions, whose round trips are
   * counted (LedgerRoundTripTest).
   */
  private void noteBackendStart(Connection c) {
    try {
      Object key = physical(c);
      if (backendStarts.containsKey(key)) {
        return;
      }
      c.setAutoCommit(true); // the transaction is over (pgjdbc sends nothing): no ROLLBACK on return to the pool
      try (PreparedStatement ps = c.prepareStatement(BACKEND_START); ResultSet rs = ps.executeQuery()) {
        if (rs.next()) {
          backendStarts.put(key, rs.getObject(1, java.time.OffsetDateTime.class));
        }
      }
    } catch (SQLException | RuntimeException e) {
      log.debug("backend_start of a ledger connection not read: {}", e.toString());
    }
  }

  /**
   * A rule-transition transaction whose connection broke during the round trip carrying its COMMIT.
   *
   * @param token what it wrote into {@code alarm_events.ledger_tx}
   * @param backendPid its PostgreSQL backend's process id
   * @param backendStart that backend's {@code backend_start}, or null when not known
   * @param alarmIds the alarm ids of the events it wrote
   * @param keys the (device, rule) keys of its transitions ({@link KnownAlarms#key})
   * @param result what it would return had the commit been confirmed
   */
  private record InDoubt(java.util.UUID token, int backendPid, java.time.OffsetDateTime backendStart, Long[] alarmIds,
      Set<String> keys, Object result) {}

  private record CommittedInDoubt(TransitionOutcome outcome, long atNanos) {}

  /** The connection broke during the round trip carrying the COMMIT: committed or not is not known. */
  static final class OutcomeUnknownException extends AlarmStoreException {
    private static final long serialVersionUID = 1L;
    private final transient InDoubt doubt;

    OutcomeUnknownException(InDoubt doubt, Throwable cause) {
      super("the connection to the database broke during the commit; whether it committed is not known yet: "
          + cause.getMessage(), cause);
      this.doubt = doubt;
    }
  }

  /** The connection broke during the COMMIT's round trip, and the transaction is known not to have committed. */
  private static final class RolledBackAfterBreak extends AlarmStoreException {
    private static final long serialVersionUID = 1L;

    RolledBackAfterBreak(OutcomeUnknownException cause) {
      super("the connection to the database broke during the commit; it did not commit: "
          + cause.getCause().getMessage(), cause.getCause());
    }
  }

  /** Whether a ledger error is {@code safegrid_lock_unchanged_alarm}'s: a known alarm changed. */
  private static boolean rowChanged(Throwable e) {
    SQLException sql = sqlCause(e);
    return sql != null && KnownAlarms.CHANGED_SQLSTATE.equals(sql.getSQLState());
  }

  /**
   * The transitions of a group, in order. Without savepoints (the normal case), a transition whose
   * (device, rule) this ledger wrote last and which is the first of its key in the group is
   * written from that memory ({@link KnownAlarms}: one round trip for the whole transition), the
   * others after the lock-and-select; after commit every alarm written is remembered with its row
   * fingerprint. With savepoints (the redo after a failure) nothing is taken from or kept in memory.
   */
  private List<TransitionOutcome> applyEach(LedgerTx tx, List<AlarmTransition> transitions, boolean savepoints,
      boolean memory) {
    List<TransitionOutcome> out = new ArrayList<>(transitions.size());
    Set<String> failedKeys = savepoints ? new java.util.HashSet<>() : Set.of();
    Set<String> touched = new java.util.HashSet<>();
    if (savepoints) {
      try {
        tx.sendDeferred(); // the transaction's settings, outside every savepoint (a rollback to one would undo them)
      } catch (SQLException e) {
        throw new AlarmStoreException("ledger write failed: " + e.getMessage(), e);
      }
    }
    for (AlarmTransition t : transitions) {
      if (!savepoints) {
        boolean firstOfKey = touched.add(KnownAlarms.key(t.deviceId(), t.ruleId()));
        Optional<KnownAlarms.Known> remembered =
            firstOfKey && memory ? known.get(t.deviceId(), t.ruleId()) : Optional.empty();
        Optional<Alarm> a = applyOne(tx, t, remembered);
        if (remembered.isPresent()) {
          tx.afterCommit(countMemoryUse);
        }
        a.ifPresent(written -> {
          tx.readFingerprintAtCommit(written.id());
          tx.afterCommit(() -> remember(tx, written));
        });
        out.add(TransitionOutcome.applied(t, a));
        continue;
      }
      String key = KnownAlarms.key(t.deviceId(), t.ruleId());
      if (failedKeys.contains(key)) {
        out.add(TransitionOutcome.notTried(t));
        continue;
      }
      Connection c = tx.connection();
      Savepoint sp;
      try {
        sp = c.setSavepoint();
      } catch (SQLException e) {
        throw new AlarmStoreException("cannot set a savepoint: " + e.getMessage(), e);
      }
      int mark = tx.mark();
      try {
        Optional<Alarm> a = applyOne(tx, t, Optional.empty());
        tx.sendDeferred(); // its writes' errors are its own
        c.releaseSavepoint(sp);
        out.add(TransitionOutcome.applied(t, a));
      } catch (RuntimeException | SQLException e) {
        try {
          c.rollback(sp);
        } catch (SQLException re) {
          throw new AlarmStoreException("cannot roll back to a savepoint: " + re.getMessage(), re);
        }
        tx.resetTo(mark);
        failedKeys.add(key);
        out.add(TransitionOutcome.failed(t, e instanceof RuntimeException r ? r
            : new AlarmStoreException("transition failed: " + e.getMessage(), e)));
      }
    }
    return out;
  }

  /**
   * {@link #applyEach} of a group as a transaction's work: a class, not a lambda, so that the
   * rolled-back warm-up runs the very same code. A lambda here and one in {@code applyAll} were
   * linked by the first real transaction after a start (the warm-up never calls {@code applyAll}),
   * on the alarm writer's thread: {@code -Xlog:class+load} showed both, 2026-11-30.
   */
  private final class ApplyEach implements Function<LedgerTx, List<TransitionOutcome>> {
    private final List<AlarmTransition> transitions;
    private final boolean savepoints;

    private final boolean memory;

    ApplyEach(List<AlarmTransition> transitions, boolean savepoints) {
      this(transitions, savepoints, !savepoints);
    }

    ApplyEach(List<AlarmTransition> transitions, boolean savepoints, boolean memory) {
      this.transitions = transitions;
      this.savepoints = savepoints;
      this.memory = memory;
    }

    @Override
    public List<TransitionOutcome> apply(LedgerTx tx) {
      return applyEach(tx, transitions, savepoints, memory);
    }
  }

  /** After commit: keeps the alarm as written, with its row fingerprint and escalation columns. */
  private void remember(LedgerTx tx, Alarm written) {
    Optional<KnownAlarms.Known> k = knownAsLeftBy(tx, written);
    if (k.isPresent()) {
      known.remember(k.get());
    } else {
      known.forget(written.deviceId(), written.ruleId());
    }
  }

  /** The alarm as {@code tx} leaves it, when the flush read its fingerprint and its escalation is known. */
  private static Optional<KnownAlarms.Known> knownAsLeftBy(LedgerTx tx, Alarm written) {
    Optional<String> fingerprint = tx.fingerprint(written.id());
    Optional<LedgerTx.EscalationState> escalation = tx.escalation(written.id());
    if (fingerprint.isEmpty() || escalation.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(new KnownAlarms.Known(written, escalation.get(), fingerprint.get()));
  }

  /** Device id of the JIT warm-up's synthetic transitions (never committed). */
  public static final String WARM_UP_DEVICE = "safegrid-warmup";

  /**
   * Warms the JIT up for the rule-transition path on a daemon thread {@code safegrid-ledger-warmup}:
   * {@code cycles} times, a synthetic device ({@value #WARM_UP_DEVICE}) is raised critical, raised
   * again, cleared and re-opened in one transaction with every hook (escalation, outbox) and the
   * events written, then cleared once more from the alarm as the transaction left it (the
   * one-round-trip path: {@link KnownAlarms}), and the transaction is <em>rolled back</em>: nothing is committed and no
   * listener is told (ids taken from the sequences are burned; dispatch reads the table once to
   * step over the gap; the dispatcher is told the ids burned, so the next real event is handed over
   * directly). Why: a site raises a few alarms a minute, so without it the alarm path
   * runs interpreted or C1-compiled for hours; {@code bench/ledger_path.sh 100 0 0 N} measured the
   * first 100 alarms (raise to listener, commit included) at p50 10.1 / p99 114 / max 1,697 ms
   * with N = 0 against 2.0 / 16 / 20 ms with N = 3,000 (load average 10; 1,000 cycles gave 8.5 /
   * 61 / 84 ms: the C2 compiler needs a few thousand calls). Call after {@link #start()}; each
   * cycle holds one pooled connection for a few milliseconds, and none starts while a rule transition is
   * being applied.
   *
   * @param cycles how many (the gateway runs 1,000: enough under its C1-only JVM, docs/alerting.md)
   * @return the thread (daemon, already started)
   */
  public Thread warmUpInBackground(int cycles) {
    Thread t = new Thread(() -> {
      long t0 = System.nanoTime();
      int done = 0;
      int backends = 0;
      try {
        for (; done < cycles && !Thread.currentThread().isInterrupted(); done++) {
          while (applying.get() > 0) {
            Thread.sleep(5); // a real alarm goes first: no wait for the event-order lock behind us
          }
          if (!warmUpOnce()) {
            break;
          }
        }
        // after the cycles above, so each takes a few milliseconds (compiled) while it holds the pool
        backends = warmUpEveryPooledConnection(WARM_UP_CYCLES_PER_CONNECTION);
        // HikariCP checks a connection idle for more than 0.5 s before handing it out (a round
        // trip, Connection.isValid): the first real alarm after a start always takes that path,
        // and it was 3 ms of its transaction (0.5 ms of CPU); take it once here
        Thread.sleep(IDLE_BEFORE_VALIDATION_MS);
        if (applying.get() == 0) {
          warmUpOnce();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      log.info("alarm path warm-up: {} rolled-back cycles in {} ms (then {} on each of {} pooled connections)",
          done, (System.nanoTime() - t0) / 1_000_000, WARM_UP_CYCLES_PER_CONNECTION, backends);
    }, "safegrid-ledger-warmup");
    t.setDaemon(true);
    t.setPriority(Thread.MIN_PRIORITY);
    warmUp = t;
    t.start();
    return t;
  }

  /**
   * Rolled-back cycles per pooled connection before the warm-up's own cycles: pgjdbc prepares a
   * statement on the server (named, planned once) from its 5th execution on a connection.
   */
  static final int WARM_UP_CYCLES_PER_CONNECTION = 5;

  /** Longer than HikariCP's {@code aliveBypassWindowMs} (500 ms): the next borrow validates. */
  private static final long IDLE_BEFORE_VALIDATION_MS = 600;

  /**
   * Runs {@code perConnection} rolled-back cycles on each connection of the pool, all borrowed at
   * once so that each is a different one (HikariCP otherwise hands a thread the connection it
   * used last, and the warm-up warmed one backend of the pool's eight). Each PostgreSQL backend
   * plans the ledger's statements, loads PL/pgSQL and compiles {@code
   * safegrid_lock_unchanged_alarm}, and fills its catalog caches for the tables on first use: on a
   * fresh backend the first call of that function took 24-35 ms, the first {@code md5(a::text)}
   * select 10 ms, a first PL/pgSQL call 5 ms (psql, 2026-11-30). The warm-up's own cycles use one
   * backend; the alarm writer gets another whenever that one is busy, and its first alarm there
   * paid for it. Takes at most as many
   * connections as are idle (or not yet opened) now, stops when a rule transition is being
   * applied, and gives each back as soon as its cycles are done. Runs after the JIT cycles, so the
   * pool is held for a few milliseconds a connection.
   *
   * @return how many connections were warmed (0 when the pool is not HikariCP's)
   */
  private int warmUpEveryPooledConnection(int perConnection) {
    com.zaxxer.hikari.HikariPoolMXBean pool;
    int max;
    try {
      if (!dataSource.isWrapperFor(com.zaxxer.hikari.HikariDataSource.class)) {
        return 0;
      }
      com.zaxxer.hikari.HikariDataSource h = dataSource.unwrap(com.zaxxer.hikari.HikariDataSource.class);
      pool = h.getHikariPoolMXBean();
      max = h.getMaximumPoolSize();
    } catch (SQLException e) {
      return 0;
    }
    if (pool == null) {
      return 0;
    }
    List<Connection> held = new ArrayList<>();
    try {
      while (held.size() < max && applying.get() == 0
          && (pool.getIdleConnections() > 0 || pool.getTotalConnections() < max)) {
        held.add(dataSource.getConnection());
      }
      for (int k = 0; k < held.size(); k++) {
        Connection c = held.get(k);
        for (int i = 0; i < perConnection && applying.get() == 0; i++) {
          if (!warmUpOn(c)) {
            return held.size();
          }
        }
        c.close(); // back to the pool at once: a real alarm never waits for more than one cycle
        held.set(k, null);
      }
    } catch (SQLException | RuntimeException e) {
      log.debug("alarm path warm-up of the pooled connections stopped: {}", e.toString());
    } finally {
      for (Connection c : held) {
        try {
          if (c != null) {
            c.close();
          }
        } catch (SQLException ignored) {
          // returned to the pool or discarded by it
        }
      }
    }
    return held.size();
  }

  private boolean warmUpOnce() {
    try (Connection c = dataSource.getConnection()) {
      return warmUpOn(c);
    } catch (SQLException | RuntimeException e) {
      log.debug("alarm path warm-up stopped: {}", e.toString());
      return false;
    }
  }

  /**
   * One rolled-back cycle ({@link #warmUpInBackground}) on {@code c}.
   *
   * @return false when it failed (the warm-up stops)
   */
  private boolean warmUpOn(Connection c) {
    long now = clock.millis();
    Map<String, Object> evidence = Map.of("gas_lel", 60.0, "threshold", 50.0);
    List<AlarmTransition> cycle = List.of(
        new AlarmTransition(WARM_UP_DEVICE, "gas-lel-threshold", AlarmTransition.Kind.RAISE, Severity.CRITICAL,
            now, "warm-up 60.0 %LEL", evidence),
        new AlarmTransition(WARM_UP_DEVICE, "gas-lel-threshold", AlarmTransition.Kind.RAISE, Severity.CRITICAL,
            now, "warm-up 61.0 %LEL", evidence),
        new AlarmTransition(WARM_UP_DEVICE, "gas-lel-threshold", AlarmTransition.Kind.CLEAR, Severity.CRITICAL,
            now, "warm-up 0.0 %LEL", evidence),
        new AlarmTransition(WARM_UP_DEVICE, "gas-lel-threshold", AlarmTransition.Kind.RAISE, Severity.CRITICAL,
            now, "warm-up 60.0 %LEL", evidence));
    List<AlarmEvent> burned = new ArrayList<>();
    try {
      c.setAutoCommit(false);
      try {
        LedgerTx tx = new LedgerTx(c, clock.instant());
        tx.commitWithoutWaitingForFlush(); // the same statements as applyAll's
        tx.token(new java.util.UUID(tokenPrefix, tokenCount.incrementAndGet()));
        backendPid(c); // as inTransaction's commit path does
        List<TransitionOutcome> out = new ApplyEach(cycle, false).apply(tx);
        // the writes, events and row fingerprints; never the COMMIT: rolled back below
        burned.addAll(tx.flush(false));
        // and the one-round-trip path most transitions take: a clear from the alarm as this
        // transaction left it (remembered), with safegrid_lock_unchanged_alarm on this backend
        Optional<KnownAlarms.Known> left = knownAsLeftBy(tx, out.get(out.size() - 1).alarm().orElseThrow());
        if (left.isPresent()) {
          applyOne(tx, new AlarmTransition(WARM_UP_DEVICE, "gas-lel-threshold", AlarmTransition.Kind.CLEAR,
              Severity.CRITICAL, now, "warm-up 0.0 %LEL", evidence), left);
          burned.addAll(tx.flush(false));
        }
      } finally {
        c.rollback();
      }
      noteBackendStart(c); // so that the alarm path never pays that round trip on this connection
      // rolled back: no event will ever have these ids, so the next real one may follow them
      // straight to the listeners (else the first alarm after a start went by a table read)
      dispatcher.burned(burned);
      return true;
    } catch (SQLException | RuntimeException e) {
      log.debug("alarm path warm-up stopped: {}", e.toString());
      return false;
    }
  }

  /**
   * The per-(device, rule) advisory lock, then the (device, rule)'s open alarm, or else its latest
   * alarm closed within the reopen window, under the row lock: two statements in one round trip
   * (one pgjdbc execute; with them go the transaction's settings and the writes the previous
   * transition of a group deferred). They must be two statements: PostgreSQL runs them in order and
   * takes the select's snapshot when the select starts, after the lock was granted (READ COMMITTED:
   * a snapshot per statement), so an alarm another writer inserted and committed while this one
   * waited is seen. Inside one statement the snapshot would be taken before the wait, that alarm
   * would be invisible and a CLEAR lost ({@code FOR UPDATE} re-checks updated rows, not inserted
   * ones); {@code LedgerRoundTripTest} holds this. A raise or severity change adds {@link
   * #NEW_ALARM_ID}: the id a new alarm would get, taken in the same round trip and only when no
   * alarm is there to update (an id never outlives its transaction, so no id taken before a
   * database crash can be handed out twice), after {@link #ALARM_ID_FLOOR}. Closed alarms are ordered
   * by when they cleared, not by id (ids of two gateways interleave).
   */
  private static final String LOCK_AND_SELECT = "SELECT pg_advisory_xact_lock(hashtext(?), hashtext(?));\n"
      + "SELECT * FROM alarms WHERE device_id = ? AND rule_id = ? AND (state <> 'closed' OR cleared_at >= ?)"
      + " ORDER BY state = 'closed', cleared_at DESC NULLS FIRST, id DESC LIMIT 1 FOR UPDATE";

  /** Raises {@code alarms_id_seq} to the highest alarm id this ledger has told, if it went back. */
  private static final String ALARM_ID_FLOOR =
      "SELECT setval('alarms_id_seq', ?) FROM alarms_id_seq WHERE last_value < ?";

  /**
   * A new alarm's id, one row, only when the lock-and-select finds no alarm to update or re-open
   * (the same condition; no other writer can insert for the key meanwhile: the advisory lock).
   */
  private static final String NEW_ALARM_ID = "SELECT nextval('alarms_id_seq') WHERE NOT EXISTS (SELECT 1"
      + " FROM alarms WHERE device_id = ? AND rule_id = ? AND (state <> 'closed' OR cleared_at >= ?))";

  /**
   * One transition inside a transaction. With a {@code remembered} alarm (what this ledger last
   * committed for the key, not closed), no round trip of its own: {@link
   * KnownAlarms#LOCK_UNCHANGED} (the per-key lock, then the row locked and found with the content
   * written) is queued ahead of the transition's writes and goes with the transaction's next round
   * trip, and the change is computed from the remembered row. Otherwise the lock-and-select
   * ({@link #LOCK_AND_SELECT}) first.
   */
  private Optional<Alarm> applyOne(LedgerTx tx, AlarmTransition t, Optional<KnownAlarms.Known> remembered) {
    if (remembered.isPresent()) {
      KnownAlarms.Known k = remembered.get();
      tx.deferQuery(KnownAlarms.LOCK_UNCHANGED, t.deviceId(), t.ruleId(), k.alarm().id(), k.fingerprint());
      tx.escalationWritten(k.alarm().id(), k.escalation());
      return change(tx, t, Optional.of(k.alarm()), -1);
    }
    Alarm[] row = new Alarm[1];
    long[] newId = {-1};
    boolean raise = t.kind() != AlarmTransition.Kind.CLEAR;
    long floor = alarmIdFloor.get();
    Object since = AlarmRows.ts(tx.now().minus(config.reopenWindow()));
    List<Object> params = new ArrayList<>(List.of(t.deviceId(), t.ruleId(), t.deviceId(), t.ruleId(), since));
    String sql = LOCK_AND_SELECT;
    if (raise) {
      sql += ";\n" + ALARM_ID_FLOOR + ";\n" + NEW_ALARM_ID;
      params.addAll(List.of(floor, floor, t.deviceId(), t.ruleId(), since));
    }
    try {
      int results = tx.roundTrip(sql, params,
          (index, rs) -> {
            if (index == 1 && rs.next()) {
              tx.remember(rs);
              row[0] = AlarmRows.alarm(rs);
            } else if (index == 3 && rs.next()) {
              newId[0] = rs.getLong(1);
            }
          });
      if (results != (raise ? 4 : 2)) {
        throw new SQLException("expected " + (raise ? 4 : 2) + " result sets (lock, select, id floor, id), got " + results);
      }
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot look up " + t.deviceId() + "/" + t.ruleId() + ": " + e.getMessage(), e);
    }
    return change(tx, t, Optional.ofNullable(row[0]), newId[0]);
  }

  /**
   * The change a transition makes to what the lock-and-select found (or the remembered alarm).
   *
   * @param found the open alarm of the key, else its latest closed within the reopen window
   * @param newId the id a new alarm gets (taken with the lock-and-select), or -1
   */
  private Optional<Alarm> change(LedgerTx tx, AlarmTransition t, Optional<Alarm> found, long newId) {
    Optional<Alarm> open = found.filter(a -> a.state() != AlarmState.CLOSED);
    return switch (t.kind()) {
      case CLEAR -> open.flatMap(a -> clear(tx, a, t));
      case RAISE, SEVERITY_CHANGE -> Optional.of(
          open.isPresent() ? raiseOnOpen(tx, open.get(), t)
              : found.isPresent() ? reopen(tx, found.get(), t) : raiseNew(tx, t, newId));
    };
  }

  /**
   * Registers a new alarm. Its id came with the lock-and-select ({@link #NEW_ALARM_ID}), so the {@code INSERT} is
   * deferred like the other writes (it goes with the events and the commit) and the hooks get
   * escalation columns as the table's defaults (level 0, step 0, no deadline).
   */
  private Alarm raiseNew(LedgerTx tx, AlarmTransition t, long takenId) {
    Instant now = tx.now();
    Instant raisedAt = occurredAt(tx, t);
    long id = takenId;
    if (id < 0) {
      id = nextAlarmId(tx); // not expected: the lock-and-select found nothing, so it took an id
    }
    String evidence = Json.write(t.evidence());
    // the evidence as the jsonb column gives it back (key order, number types), as a read would
    Alarm a = new Alarm(id, t.deviceId(), t.ruleId(), t.severity(), AlarmState.ACTIVE_UNACKED, 1, t.message(),
        Json.stored(t.evidence()), raisedAt, now, null, null, null, null, null);
    tx.defer("INSERT INTO alarms (id, device_id, rule_id, severity, state, count, message, evidence, raised_at,"
            + " updated_at) VALUES (?, ?, ?, ?, 'active_unacked', 1, ?, CAST(? AS jsonb), ?, ?)",
        id, t.deviceId(), t.ruleId(), t.severity().wireName(), t.message(), evidence,
        AlarmRows.ts(raisedAt), AlarmRows.ts(now));
    tx.escalationWritten(id, new LedgerTx.EscalationState(0, 0, null));
    tx.record("raised", null, a, RULES_ACTOR, t.message(), details(t, null));
    runHooks(tx, "raised", null, a);
    return a;
  }

  private static long nextAlarmId(LedgerTx tx) {
    long[] id = {-1};
    try {
      tx.roundTrip("SELECT nextval('alarms_id_seq')", List.of(), (index, rs) -> {
        rs.next();
        id[0] = rs.getLong(1);
      });
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot take an alarm id: " + e.getMessage(), e);
    }
    return id[0];
  }

  private Alarm raiseOnOpen(LedgerTx tx, Alarm open, AlarmTransition t) {
    if (!open.state().name().startsWith("ACTIVE")) {
      return reopen(tx, open, t);
    }
    boolean repeat = t.kind() == AlarmTransition.Kind.RAISE;
    if (!repeat && open.severity() == t.severity()) {
      // a severity change to the severity it already has: refresh the evidence, no event
      Alarm same = with(open, open.severity(), open.state(), open.count(), t, tx.now(), open.acknowledgedBy(),
          open.acknowledgedAt(), open.clearedAt(), open.closedAt(), open.closeNote());
      update(tx, same);
      return same;
    }
    // an acknowledgement covers the severity acknowledged: a rise above it (30 -> 85 %LEL) needs a
    // new one, so the page sounds and escalation runs again (newcomer7 F14; docs/alerting.md); a
    // rise back to it (a leak swinging around 50 %LEL) does not (review7 R5). It covers the zones
    // acknowledged too: a fire spreading to another zone needs a new one (newcomer7 F25)
    boolean ackLapses = open.state() == AlarmState.ACTIVE_ACKED
        && ((repeat && spread(open.evidence(), t.evidence()))
            || (t.severity().compareTo(open.severity()) > 0
                && t.severity().compareTo(acknowledgedSeverity(tx, open)) > 0));
    Alarm after = ackLapses
        ? with(open, t.severity(), AlarmState.ACTIVE_UNACKED, repeat ? open.count() + 1 : open.count(), t, tx.now(),
            null, null, open.clearedAt(), open.closedAt(), open.closeNote())
        : with(open, t.severity(), open.state(), repeat ? open.count() + 1 : open.count(), t, tx.now(),
            open.acknowledgedBy(), open.acknowledgedAt(), open.clearedAt(), open.closedAt(), open.closeNote());
    update(tx, after);
    String type = repeat ? "repeated" : "severity_changed";
    tx.record(type, open.state(), after, RULES_ACTOR, t.message(), details(t, open.severity()));
    runHooks(tx, type, open, after);
    return after;
  }

  /**
   * The severity the acknowledgement in force on {@code acked} (state {@code active_acked}) was
   * given at: the alarm as recorded by its latest {@code acknowledged} event ({@code
   * alarm_events.alarm}). An alarm is acknowledged only from {@code active_unacked}, and while
   * acknowledged its severity only falls or comes back up to this one (a rise above it lapses the
   * acknowledgement), so this is the highest severity acknowledged. Read from the event rather
   * than kept in a column: one indexed query ({@code alarm_events_alarm}), only when an
   * acknowledged alarm rises, where a column would widen the {@link Alarm} record and the one-round
   * trip memory ({@link KnownAlarms}) of every transition. Without such an event (not expected),
   * the current severity.
   */
  private static Severity acknowledgedSeverity(LedgerTx tx, Alarm acked) {
    String[] wire = {null};
    try {
      tx.roundTrip("SELECT alarm->>'severity' FROM alarm_events WHERE alarm_id = ? AND type = 'acknowledged'"
          + " ORDER BY id DESC LIMIT 1", List.of(acked.id()), (index, rs) -> {
            if (rs.next()) {
              wire[0] = rs.getString(1);
            }
          });
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot read the acknowledged severity of alarm " + acked.id() + ": "
          + e.getMessage(), e);
    }
    return wire[0] == null ? acked.severity() : AlarmRows.severity(wire[0]);
  }

  private Alarm reopen(LedgerTx tx, Alarm old, AlarmTransition t) {
    // a new occurrence needs a new acknowledgement and a new write-off
    Alarm after = with(old, t.severity(), AlarmState.ACTIVE_UNACKED, old.count() + 1, t, tx.now(),
        null, null, null, null, null);
    update(tx, after);
    Map<String, Object> d = details(t, old.severity());
    d.put("clearedAt", old.clearedAt() == null ? null : old.clearedAt().toString());
    tx.record("reopened", old.state(), after, RULES_ACTOR, t.message(), d);
    runHooks(tx, "reopened", old, after);
    return after;
  }

  private Optional<Alarm> clear(LedgerTx tx, Alarm open, AlarmTransition t) {
    AlarmState to = switch (open.state()) {
      case ACTIVE_UNACKED -> AlarmState.CLEARED_UNACKED;
      case ACTIVE_ACKED -> AlarmState.CLEARED_ACKED;
      default -> null;
    };
    if (to == null) {
      return Optional.empty(); // already cleared
    }
    Alarm cleared = with(open, open.severity(), to, open.count(), t, tx.now(), open.acknowledgedBy(),
        open.acknowledgedAt(), max(occurredAt(tx, t), open.raisedAt()), null, null);
    // the alarm keeps saying what it was raised for (a fire's zone and point, a leak's %LEL): the
    // duty officer must still acknowledge it; why it cleared ("panel reset") is the event's note
    Alarm after = new Alarm(cleared.id(), cleared.deviceId(), cleared.ruleId(), cleared.severity(),
        cleared.state(), cleared.count(), open.message(), cleared.evidence(), cleared.raisedAt(),
        cleared.updatedAt(), cleared.acknowledgedBy(), cleared.acknowledgedAt(), cleared.clearedAt(),
        cleared.closedAt(), cleared.closeNote());
    update(tx, after);
    tx.record("cleared", open.state(), after, RULES_ACTOR, t.message(), details(t, null));
    runHooks(tx, "cleared", open, after);
    return Optional.of(after);
  }

  /**
   * An officer's action on an alarm in one transaction (synchronous commit), whose outcome is
   * found out when its connection breaks during the COMMIT's round trip (docs/alerting.md "When
   * the connection breaks during the commit"): committed, the alarm as committed is returned;
   * not committed, it is done again at once; not known yet (the database cannot be asked), an
   * {@link AlarmStoreException} with SQLSTATE 08006 in its cause is thrown and the doubt kept:
   * the next action on the alarm resolves it first, and the same action by the same actor retried
   * then is answered with what the first one committed rather than refused as already done.
   *
   * @param type the event type it writes ({@code acknowledged}, {@code closed})
   */
  private Alarm officerAction(long alarmId, String type, String actor, Function<LedgerTx, Alarm> work) {
    OfficerDoubt earlier = officerDoubts.get(alarmId);
    if (earlier != null) {
      Resolution r = resolve(earlier.doubt());
      if (r == Resolution.UNKNOWN
          && System.nanoTime() - earlier.atNanos() < COMMITTED_IN_DOUBT_KEPT_NANOS) {
        throw stillInDoubt(alarmId);
      }
      officerDoubts.remove(alarmId, earlier);
      if (r == Resolution.COMMITTED && earlier.type().equals(type) && earlier.actor().equals(actor)) {
        log.info("alarm {}: {} by {} retried after its commit was in doubt: it had committed", alarmId, type, actor);
        return (Alarm) earlier.doubt().result();
      }
    }
    for (int redo = 0; ; redo++) {
      try {
        return inTransaction(work, 0L, false, true);
      } catch (OutcomeUnknownException unknown) {
        known.forgetAlarm(alarmId); // whatever happened, the rule transitions read the row again
        Resolution r = resolve(unknown.doubt);
        if (r == Resolution.COMMITTED) {
          return (Alarm) unknown.doubt.result();
        }
        if (r == Resolution.ROLLED_BACK && redo < 2) {
          continue; // known not to have committed: the database answered; do it again
        }
        if (r == Resolution.UNKNOWN) {
          officerDoubts.put(alarmId, new OfficerDoubt(type, actor, unknown.doubt, System.nanoTime()));
        }
        throw unknown;
      }
    }
  }

  private static AlarmStoreException stillInDoubt(long alarmId) {
    String why = "an earlier action on alarm " + alarmId
        + " lost its database connection during its commit and whether it committed is not known yet";
    return new AlarmStoreException(why, new java.sql.SQLTransientConnectionException(why, "08006"));
  }

  /**
   * An officer action in doubt ({@link #officerAction}).
   *
   * @param type its event type
   * @param actor who did it
   * @param doubt the transaction
   * @param atNanos {@link System#nanoTime()} when its connection broke
   */
  private record OfficerDoubt(String type, String actor, InDoubt doubt, long atNanos) {}

  @Override
  public Alarm acknowledge(long alarmId, String actor, String note) {
    requireActor(actor);
    return officerAction(alarmId, "acknowledged", actor,
        tx -> {
          Alarm a = tx.lockAlarm(alarmId).orElseThrow(() -> new AlarmNotFoundException(alarmId));
          AlarmState to = switch (a.state()) {
            case ACTIVE_UNACKED -> AlarmState.ACTIVE_ACKED;
            case CLEARED_UNACKED -> AlarmState.CLEARED_ACKED;
            default -> throw new IllegalAlarmTransitionException(
                "alarm " + alarmId + " is " + a.state().wireName() + ": only an unacknowledged alarm can be acknowledged");
          };
          Alarm after = new Alarm(a.id(), a.deviceId(), a.ruleId(), a.severity(), to, a.count(), a.message(),
              a.evidence(), a.raisedAt(), tx.now(), actor, tx.now(), a.clearedAt(), null, null);
          update(tx, after);
          stopEscalation(tx, alarmId);
          tx.record("acknowledged", a.state(), after, actor, note, null);
          runHooks(tx, "acknowledged", a, after);
          return after;
        });
  }

  @Override
  public Alarm close(long alarmId, String actor, String note) {
    requireActor(actor);
    if (note == null || note.isBlank()) {
      throw new IllegalArgumentException("closing (write-off) needs a disposal note");
    }
    return officerAction(alarmId, "closed", actor,
        tx -> {
          Alarm a = tx.lockAlarm(alarmId).orElseThrow(() -> new AlarmNotFoundException(alarmId));
          if (a.state() != AlarmState.CLEARED_ACKED) {
            throw new IllegalAlarmTransitionException(
                "alarm " + alarmId + " is " + a.state().wireName()
                    + ": only a cleared and acknowledged alarm (cleared_acked) can be closed");
          }
          Alarm after = new Alarm(a.id(), a.deviceId(), a.ruleId(), a.severity(), AlarmState.CLOSED, a.count(),
              a.message(), a.evidence(), a.raisedAt(), tx.now(), a.acknowledgedBy(), a.acknowledgedAt(),
              a.clearedAt(), tx.now(), note.strip());
          update(tx, after);
          stopEscalation(tx, alarmId);
          tx.record("closed", a.state(), after, actor, note.strip(), null);
          runHooks(tx, "closed", a, after);
          return after;
        });
  }

  // ---------------------------------------------------------------- reads

  @Override
  public Optional<Alarm> find(long alarmId) {
    return read(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT * FROM alarms WHERE id = ?")) {
        ps.setLong(1, alarmId);
        try (ResultSet rs = ps.executeQuery()) {
          return rs.next() ? Optional.of(AlarmRows.alarm(rs)) : Optional.<Alarm>empty();
        }
      }
    });
  }

  /**
   * The re-open window ({@link LedgerConfig#reopenWindow()}, default 10 min): escalation also
   * takes it as how long a cleared hazard still counts as the incident a device's silence belongs
   * to (review8 R8-6).
   */
  public java.time.Duration reopenWindow() {
    return config.reopenWindow();
  }

  /**
   * {@inheritDoc}
   *
   * <p>Each {@code notified} / {@code escalated} event's {@code details.delivery} is its step's
   * delivery state now, read from the outbox ({@link NotificationDelivery}: queued, delivered,
   * failing, dead), not the "queued" it was written with (newcomer8 N7).
   */
  @Override
  public List<AlarmEvent> history(long alarmId) {
    return read(c -> {
      List<AlarmEvent> events;
      try (PreparedStatement ps =
          c.prepareStatement("SELECT * FROM alarm_events WHERE alarm_id = ? ORDER BY id")) {
        ps.setLong(1, alarmId);
        events = events(ps);
      }
      if (events.stream().anyMatch(e -> "notified".equals(e.type()) || "escalated".equals(e.type()))) {
        events = NotificationDelivery.withDelivery(events, NotificationDelivery.byStep(c, alarmId));
      }
      return events;
    });
  }

  @Override
  public List<Alarm> list(Set<AlarmState> states, int limit, int offset) {
    if (limit < 1 || limit > 1000) {
      throw new IllegalArgumentException("limit must be 1..1000: " + limit);
    }
    if (offset < 0) {
      throw new IllegalArgumentException("offset must not be negative: " + offset);
    }
    String[] wire = (states == null ? Set.<AlarmState>of() : states).stream()
        .map(AlarmState::wireName).toArray(String[]::new);
    return read(c -> {
      try (PreparedStatement ps = c.prepareStatement(
          "SELECT * FROM alarms WHERE (cardinality(?::text[]) = 0 OR state = ANY(?::text[]))"
              + " ORDER BY (state IN ('active_unacked', 'cleared_unacked')) DESC,"
              + " CASE severity WHEN 'critical' THEN 4 WHEN 'major' THEN 3 WHEN 'minor' THEN 2 ELSE 1 END DESC,"
              + " raised_at DESC, id DESC LIMIT ? OFFSET ?")) {
        ps.setArray(1, c.createArrayOf("text", wire));
        ps.setArray(2, c.createArrayOf("text", wire));
        ps.setInt(3, limit);
        ps.setInt(4, offset);
        List<Alarm> out = new ArrayList<>();
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            out.add(AlarmRows.alarm(rs));
          }
        }
        return out;
      }
    });
  }

  @Override
  public List<AlarmEvent> eventsAfter(long afterEventId, int limit) {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be positive: " + limit);
    }
    return read(c -> {
      try (PreparedStatement ps =
          c.prepareStatement("SELECT * FROM alarm_events WHERE id > ? ORDER BY id LIMIT ?")) {
        ps.setLong(1, afterEventId);
        ps.setInt(2, limit);
        return events(ps);
      }
    });
  }

  @Override
  public void addListener(Consumer<AlarmEvent> listener) {
    dispatcher.addListener(Objects.requireNonNull(listener, "listener"));
  }

  /**
   * Adds a callback run once after each batch of events told to the {@link #addListener
   * listeners}, after all of them: a committed transaction's events when handed off (a rule
   * transition group, an officer action, an escalation step), else the events one read of the
   * table found. Same thread and rules as the listeners (never two calls at once; it must not
   * block). For work that needs to know <em>that</em> events were committed, not each event: the
   * outbox dispatcher's wake-up ({@code Alerting}), so it is woken once per transaction and after
   * the live feed was told, not before it and once per event.
   */
  public void addAfterToldListener(Runnable callback) {
    dispatcher.addAfterTold(Objects.requireNonNull(callback, "callback"));
  }

  /** The largest event id committed so far (0 when none): where a fresh live stream starts. */
  public long maxEventId() {
    return read(c -> {
      try (PreparedStatement ps = c.prepareStatement("SELECT coalesce(max(id), 0) FROM alarm_events");
          ResultSet rs = ps.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    });
  }

  // ---------------------------------------------------------------- transactions

  /**
   * Runs {@code work} in one ledger transaction and commits; then wakes listener dispatch. Retries
   * (up to 3 times) on serialization failure or deadlock. Used by escalation for its own steps.
   *
   * @throws AlarmStoreException when the database fails
   */
  public <T> T inTransaction(Function<LedgerTx, T> work) {
    return inTransaction(work, 0L, false, false);
  }

  /**
   * @param asyncCommit commit with {@code synchronous_commit} off (rule transitions only: see
   *     docs/alerting.md "Durability of rule transitions"); officer actions and escalation steps
   *     wait for the WAL flush
   * @param tokened write a {@link LedgerTx#token token} into the events and, when the connection
   *     breaks during the COMMIT's round trip, throw {@link OutcomeUnknownException} (rule
   *     transitions and officer actions: their callers {@link #resolve} it); else an {@link
   *     AlarmStoreException}
   */
  private <T> T inTransaction(Function<LedgerTx, T> work, long decidedAtNanos, boolean asyncCommit, boolean tokened) {
    int broken = 0;
    for (int attempt = 1; ; attempt++) {
      try (Connection c = dataSource.getConnection()) {
        if (AlarmPathTrace.ON) {
          AlarmPathTrace.ledger(AlarmPathTrace.LedgerHop.CONNECTED, System.nanoTime());
        }
        c.setAutoCommit(false);
        boolean committing = false;
        int backendPid = 0;
        java.time.OffsetDateTime backendStart = null;
        LedgerTx doubtTx = null;
        Object doubtResult = null;
        try {
          LedgerTx tx = new LedgerTx(c, clock.instant());
          tx.eventIdFloor(eventIdFloor.get());
          if (asyncCommit) {
            tx.commitWithoutWaitingForFlush();
          }
          if (tokened) {
            tx.token(new java.util.UUID(tokenPrefix, tokenCount.incrementAndGet()));
          }
          T result = work.apply(tx);
          if (tokened) {
            // what resolve() needs if the connection breaks in the next round trip (the pid is
            // cached by pgjdbc: no round trip; HikariCP hides the connection once it is broken)
            backendPid = backendPid(c);
            backendStart = backendStarts.get(physical(c));
            doubtTx = tx;
            doubtResult = result;
          }
          committing = true; // from here on the outcome may be unknown (the COMMIT goes with the last writes)
          long commitStart = System.nanoTime();
          if (AlarmPathTrace.ON) {
            AlarmPathTrace.ledger(AlarmPathTrace.LedgerHop.SENT, commitStart);
          }
          List<AlarmEvent> written = tx.flush(true);
          c.commit(); // pgjdbc sends nothing: the COMMIT went with the flush and the server says idle
          long committedAt = System.nanoTime();
          if (AlarmPathTrace.ON) {
            AlarmPathTrace.ledger(AlarmPathTrace.LedgerHop.COMMITTED, committedAt);
          }
          commitTimer.record(committedAt - commitStart, java.util.concurrent.TimeUnit.NANOSECONDS);
          // no lambda or method reference from here to the listeners: each links (a few ms under
          // C1) on its first run, and the rolled-back warm-up never gets here, so the first real
          // alarm after a start would pay for them (docs/performance.md "Round 5")
          if (!written.isEmpty()) {
            for (AlarmEvent e : written) {
              eventIdFloor.accumulateAndGet(e.id(), MAX);
              alarmIdFloor.accumulateAndGet(e.alarmId(), MAX);
            }
            // committed: the events go to the listeners as written, no read back
            dispatcher.offer(written, committedAt, decidedAtNanos);
          }
          tx.committed();
          for (AlarmEvent e : written) {
            if (!asyncCommit) {
              // an officer action or escalation step: the rule transitions' memory of this row is stale
              known.forgetAlarm(e.alarmId());
            }
            transitionCounter(e.type()).increment();
          }
          return result;
        } catch (RuntimeException | SQLException e) {
          rollback(c);
          if (committing) {
            dispatcher.signal(); // the commit's outcome is unknown: let dispatch read the table
          }
          SQLException sql = sqlCause(e);
          if (committing && doubtTx != null && connectionBroke(sql)) {
            // the round trip carrying the COMMIT did not come back: the caller finds out (resolve)
            outcomeUnknown.increment();
            throw new OutcomeUnknownException(new InDoubt(doubtTx.tokenValue(), backendPid, backendStart,
                doubtTx.pendingAlarmIds(), doubtTx.keys(), doubtResult), e);
          }
          if (!committing && connectionBroke(sql) && ++broken <= DEAD_CONNECTIONS_RETRIED) {
            // the pooled connection was dead before the COMMIT was sent (its backend ended, the
            // server restarted; HikariCP hands out a connection used within its alive-bypass
            // window unchecked and evicts it now): nothing of it can have committed, so redo it at
            // once on another connection rather than fail the transition into the alarm writer's
            // back-off (docs/alerting.md "A dead pooled connection")
            deadConnections.increment();
            log.debug("ledger transaction redone on another connection after {}", sql.getSQLState());
            continue;
          }
          if (sql != null && retryable(sql) && attempt - broken < 3) {
            log.debug("ledger transaction retried after {}", sql.getSQLState());
            continue;
          }
          if (e instanceof RuntimeException re) {
            throw re;
          }
          throw new AlarmStoreException("ledger transaction failed: " + e.getMessage(), e);
        }
      } catch (SQLException e) {
        throw new AlarmStoreException("ledger database unreachable: " + e.getMessage(), e);
      }
    }
  }

  private static final java.util.function.LongBinaryOperator MAX = Math::max;

  /** The counter {@code safegrid.alarms.transitions} of an event type (registered on first use). */
  private Counter transitionCounter(String type) {
    Counter c = transitions.get(type);
    if (c == null) {
      c = Counter.builder("safegrid.alarms.transitions").description("alarm ledger events by type")
          .tag("type", type).register(registry);
      transitions.put(type, c);
    }
    return c;
  }

  /**
   * Whether the connection itself failed (SQLSTATE class 08, e.g. pgjdbc's 08006 for an I/O error,
   * or 57P01-57P03: the backend was terminated or the server shut down), so that the client does
   * not know how far the server got. Any other error was the server's answer to a statement: it
   * skipped the rest of the round trip, the COMMIT included. HikariCP evicts such connections.
   */
  private static boolean connectionBroke(SQLException e) {
    String s = e == null ? null : e.getSQLState();
    return s != null && (s.startsWith("08") || s.startsWith("57P"));
  }

  /** The PostgreSQL backend's process id of a pooled connection (pgjdbc caches it). */
  private static int backendPid(Connection c) throws SQLException {
    return c.unwrap(org.postgresql.PGConnection.class).getBackendPID();
  }

  private static boolean retryable(SQLException e) {
    String s = e.getSQLState();
    return "40001".equals(s) || "40P01".equals(s) || "23505".equals(s);
  }

  private static SQLException sqlCause(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof SQLException s) {
        return s;
      }
    }
    return null;
  }

  private static void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException ignored) {
      // the connection is broken; closing it discards the transaction
    }
  }

  @FunctionalInterface
  private interface SqlWork<T> {
    T run(Connection c) throws SQLException;
  }

  /**
   * One read on a pooled connection; redone on another when the connection turns out dead (see
   * {@link #DEAD_CONNECTIONS_RETRIED}: a read changes nothing).
   */
  private <T> T read(SqlWork<T> work) {
    for (int broken = 0; ; broken++) {
      try (Connection c = dataSource.getConnection()) {
        try {
          noteBackendStart(c); // once per physical connection: off the alarm writer's path
          return work.run(c);
        } catch (SQLException e) {
          if (connectionBroke(e) && broken < DEAD_CONNECTIONS_RETRIED) {
            deadConnections.increment();
            continue;
          }
          throw e;
        }
      } catch (SQLException e) {
        throw new AlarmStoreException("ledger read failed: " + e.getMessage(), e);
      }
    }
  }

  private static List<AlarmEvent> events(PreparedStatement ps) throws SQLException {
    List<AlarmEvent> out = new ArrayList<>();
    try (ResultSet rs = ps.executeQuery()) {
      while (rs.next()) {
        out.add(AlarmRows.event(rs));
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- helpers

  private void runHooks(LedgerTx tx, String type, Alarm before, Alarm after) {
    for (LedgerHook h : hooks) {
      h.onChange(tx, type, before, after);
    }
  }

  /** Deferred: sent with the transaction's next round trip (see {@link LedgerTx#defer}). */
  private static void update(LedgerTx tx, Alarm a) {
    tx.defer(
        "UPDATE alarms SET severity = ?, state = ?, count = ?, message = ?, evidence = CAST(? AS jsonb),"
            + " updated_at = ?, acknowledged_by = ?, acknowledged_at = ?, cleared_at = ?, closed_at = ?,"
            + " close_note = ? WHERE id = ?",
        a.severity().wireName(), a.state().wireName(), a.count(), a.message(), Json.write(a.evidence()),
        AlarmRows.ts(a.updatedAt()), a.acknowledgedBy(), AlarmRows.ts(a.acknowledgedAt()),
        AlarmRows.ts(a.clearedAt()), AlarmRows.ts(a.closedAt()), a.closeNote(), a.id());
  }

  /** Deferred, like {@link #update}. */
  private static void stopEscalation(LedgerTx tx, long alarmId) {
    tx.forgetEscalation(alarmId);
    tx.defer("UPDATE alarms SET next_escalation_at = NULL WHERE id = ?", alarmId);
  }

  private static Alarm with(Alarm a, Severity severity, AlarmState state, int count, AlarmTransition t,
      Instant now, String ackBy, Instant ackAt, Instant clearedAt, Instant closedAt, String closeNote) {
    return new Alarm(a.id(), a.deviceId(), a.ruleId(), severity, state, count,
        t.message() != null ? t.message() : a.message(), t.evidence().isEmpty() ? a.evidence() : t.evidence(),
        a.raisedAt(), now, ackBy, ackAt, clearedAt, closedAt, closeNote);
  }

  /**
   * When a rule transition happened, for {@code raised_at} and {@code cleared_at}: its own time
   * ({@link AlarmTransition#timeMillis()}: the event time of the reading or event that caused it,
   * or its arrival when the rules judged it on arrival), not the commit's: a transition that
   * waited for the ledger (database unreachable, newcomer7 F4) or came from a spool replayed after
   * a restart keeps the time the hazard was there. Never later than the transaction's now (a
   * device clock up to 5 min ahead), and now when the transition has no time ({@code <= 0}).
   * Microsecond precision, as {@code timestamptz} keeps it. {@code updated_at}, the events'
   * {@code at} and escalation deadlines stay the transaction's now: when the ledger knew.
   */
  static Instant occurredAt(LedgerTx tx, AlarmTransition t) {
    Instant now = tx.now();
    if (t.timeMillis() <= 0 || t.timeMillis() >= now.toEpochMilli()) {
      return now;
    }
    return Instant.ofEpochMilli(t.timeMillis());
  }

  private static Instant max(Instant a, Instant b) {
    return a.isAfter(b) ? a : b;
  }

  private static Map<String, Object> details(AlarmTransition t, Severity from) {
    Map<String, Object> d = new LinkedHashMap<>();
    d.put("severity", t.severity().wireName());
    if (from != null && from != t.severity()) {
      d.put("fromSeverity", from.wireName());
    }
    d.put("eventTime", Instant.ofEpochMilli(t.timeMillis()).toString());
    return d;
  }

  private static void requireActor(String actor) {
    if (actor == null || actor.isBlank()) {
      throw new IllegalArgumentException("actor (who does it) is required");
    }
  }

  private void refreshOpenGauge() {
    try {
      Map<Severity, Long> counts = read(c -> {
        Map<Severity, Long> m = new EnumMap<>(Severity.class);
        try (PreparedStatement ps = c.prepareStatement(
                "SELECT severity, count(*) FROM alarms WHERE state <> 'closed' GROUP BY severity");
            ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            m.put(AlarmRows.severity(rs.getString(1)), rs.getLong(2));
          }
        }
        return m;
      });
      for (Severity s : Severity.values()) {
        openBySeverity.get(s).set(counts.getOrDefault(s, 0L));
      }
    } catch (RuntimeException e) {
      log.debug("open alarm gauge not refreshed", e);
    }
  }

  @Override
  public void close() {
    Thread w = warmUp;
    if (w != null) {
      w.interrupt();
      try {
        w.join(2_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    dispatcher.close();
  }
}
