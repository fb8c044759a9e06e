package io.safegrid.alerting.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One open ledger transaction: the connection, the service clock's "now", the writes nobody reads
 * back ({@link #defer}) and the events to append at commit. Events are inserted last, under a transaction-level advisory lock, so that event ids
 * increase in commit order (the live stream relies on it: {@code Last-Event-ID} never skips a
 * late-committing smaller id).
 *
 * <p>A transaction may carry several alarm changes (the alarm writer's group commit); each change
 * may be undone to a savepoint, and the events it recorded with it ({@link #mark()}, {@link
 * #resetTo(int)}).
 *
 * <p>Round trips: deferred writes travel together in one multi-statement round trip, with this
 * transaction's next statement (the next transition's lock and select in a group; {@link
 * #connection()} sends them first, so a read always sees them) or with the events and the COMMIT.
 * A rule transition (a raise, even of a new alarm, a repeat, a clear) takes two round trips: the
 * per-key lock with the select of the alarm, then everything else with the COMMIT; one when the
 * ledger remembers the alarm ({@link KnownAlarms}: its lock and content check are a {@link
 * #deferQuery deferred query} sent with everything else).
 */
public final class LedgerTx {
  /** Advisory lock key (single bigint key space) that orders event ids by commit. */
  static final long EVENT_ORDER_LOCK = 0x5AFE_6121_0000_0001L;


  private static final String LOCK_EVENT_ORDER = "SELECT pg_advisory_xact_lock(?)";

  /**
   * Under the event-order lock: raises {@code alarm_events_id_seq} to the highest event id the
   * ledger has told if it went back (a PostgreSQL crash can lose an asynchronous commit's sequence
   * advance after its events were shown), so no event id is handed out twice.
   */
  private static final String EVENT_ID_FLOOR =
      "SELECT setval('alarm_events_id_seq', ?) FROM alarm_events_id_seq WHERE last_value < ?";

  /** Rule transitions' setting (see {@link #commitWithoutWaitingForFlush()}). */
  private static final String ASYNC_COMMIT = "SET LOCAL synchronous_commit TO off";

  /**
   * The fingerprints of {@code alarms} rows: md5 of the whole row's text (what {@code
   * safegrid_lock_unchanged_alarm} of migration V3 compares), one statement for all of them.
   */
  private static final String ROW_FINGERPRINTS = "SELECT a.id, md5(a::text) FROM alarms a WHERE a.id = ANY(?)";

  /**
   * One event; {@code ledger_tx} (migration V4) is the transaction's {@link #token}, null outside
   * rule transitions.
   */
  private static final String INSERT_EVENT =
      "INSERT INTO alarm_events (alarm_id, type, from_state, to_state, actor, note, at, details, alarm, ledger_tx)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?, CAST(? AS jsonb), CAST(? AS jsonb), CAST(? AS uuid)) RETURNING id";

  private final Connection connection;
  private final Instant now;
  private final List<Pending> pending = new ArrayList<>();
  private final Map<Long, EscalationState> escalation = new HashMap<>();
  private final List<String> deferredSql = new ArrayList<>();
  private final List<Object> deferredParams = new ArrayList<>();
  /** Result sets the deferred statements return (skipped: nobody reads them). */
  private int deferredResultSets;
  /** Alarm ids whose row fingerprint the committing round trip reads, and what it read. */
  private final Map<Long, String> fingerprints = new java.util.LinkedHashMap<>();
  private final List<Runnable> afterCommit = new ArrayList<>();
  private boolean asyncCommit;
  /** Written into every event of this transaction (rule transitions only), else null. */
  private java.util.UUID token;
  private long eventIdFloor;
  private boolean settingsSent;

  /**
   * @param now the service clock's time; truncated to microseconds, the precision of {@code
   *     timestamptz}, so events handed to listeners carry exactly what {@code eventsAfter} reads
   */
  LedgerTx(Connection connection, Instant now) {
    this.connection = connection;
    this.now = now.truncatedTo(ChronoUnit.MICROS);
  }

  /**
   * The transaction's connection (auto-commit off), with every {@link #defer deferred} write sent
   * first. Do not commit or close it.
   *
   * @throws AlarmStoreException when a deferred write fails
   */
  public Connection connection() {
    try {
      sendDeferred();
    } catch (SQLException e) {
      throw new AlarmStoreException("ledger write failed: " + e.getMessage(), e);
    }
    return connection;
  }

  /**
   * Queues a write whose result nobody reads ({@code UPDATE}, {@code INSERT} without {@code
   * RETURNING}); it is sent with the transaction's next round trip, at the latest with the events
   * before commit, so its error (if any) surfaces there.
   *
   * @param sql one statement with {@code ?} parameters
   * @param params String, Integer, Long, Boolean, {@link java.time.OffsetDateTime}, {@link
   *     java.util.UUID} or null
   */
  public void defer(String sql, Object... params) {
    deferredSql.add(sql);
    java.util.Collections.addAll(deferredParams, params);
  }

  /**
   * Like {@link #defer}, for a statement that returns one result set nobody reads (a check that
   * fails with an error, a lock function): it is skipped.
   *
   * @param sql one statement with {@code ?} parameters, returning exactly one result set
   * @param params as for {@link #defer}
   */
  void deferQuery(String sql, Object... params) {
    defer(sql, params);
    deferredResultSets++;
  }

  /**
   * Sends what is queued now, in one round trip: the transaction's settings (first round trip
   * only) and the deferred writes.
   */
  void sendDeferred() throws SQLException {
    if (deferredSql.isEmpty() && !settingsPending()) {
      return;
    }
    roundTrip(null, List.of(), null);
  }

  /**
   * Rule transitions: this transaction commits with {@code synchronous_commit} off (a {@code SET
   * LOCAL}, sent with its first round trip, not one of its own). Its COMMIT then returns without
   * waiting for the WAL flush; docs/alerting.md "Durability of rule transitions" says what that
   * trades. Call before the first round trip.
   */
  void commitWithoutWaitingForFlush() {
    asyncCommit = true;
  }

  private boolean settingsPending() {
    return asyncCommit && !settingsSent;
  }

  /** Receives the result sets of {@link #roundTrip}'s own statements, in order (index from 0). */
  @FunctionalInterface
  interface ResultSets {
    void accept(int index, ResultSet rs) throws SQLException;
  }

  /**
   * One round trip (one pgjdbc execute, statements run in order): the settings (first round trip
   * only), the deferred writes, then {@code sql}. The settings and the deferred writes return no
   * rows and the {@link #deferQuery deferred queries}' result sets are skipped, so every result
   * set handed to {@code rows} comes from {@code sql}, in order.
   *
   * @param sql one or more statements separated by {@code ;}, or null for none
   * @param params the parameters of {@code sql}, in order
   * @param rows receives {@code sql}'s result sets, or null when it returns none
   * @return the number of result sets {@code sql} returned
   * @throws SQLException the first failing statement's error; the transaction is then aborted (the
   *     statements after it did not run)
   */
  int roundTrip(String sql, List<Object> params, ResultSets rows) throws SQLException {
    StringBuilder text = new StringBuilder();
    if (settingsPending()) {
      text.append(ASYNC_COMMIT);
    }
    for (String d : deferredSql) {
      if (text.length() > 0) {
        text.append(";\n");
      }
      text.append(d);
    }
    if (sql != null) {
      if (text.length() > 0) {
        text.append(";\n");
      }
      text.append(sql);
    }
    settingsSent = settingsSent || asyncCommit;
    int skip = deferredResultSets;
    deferredResultSets = 0;
    try (PreparedStatement ps = connection.prepareStatement(text.toString())) {
      int k = bind(ps, deferredParams, 1);
      bind(ps, params, k);
      deferredSql.clear();
      deferredParams.clear();
      int resultSets = 0;
      boolean isResultSet = ps.execute();
      while (true) {
        if (isResultSet && skip > 0) {
          ps.getResultSet().close();
          skip--;
        } else if (isResultSet) {
          try (ResultSet rs = ps.getResultSet()) {
            if (rows != null) {
              rows.accept(resultSets, rs);
            }
          }
          resultSets++;
        } else if (ps.getUpdateCount() == -1) {
          return resultSets;
        }
        isResultSet = ps.getMoreResults();
      }
    } finally {
      deferredSql.clear();
      deferredParams.clear();
    }
  }

  private static int bind(PreparedStatement ps, List<Object> params, int from) throws SQLException {
    int i = from;
    for (Object v : params) {
      if (v == null) {
        ps.setNull(i++, java.sql.Types.NULL);
      } else {
        ps.setObject(i++, v);
      }
    }
    return i;
  }

  /** The service clock's time for this transaction (microsecond precision): every timestamp it writes uses it. */
  public Instant now() {
    return now;
  }

  /**
   * Reads and row-locks ({@code FOR UPDATE}) the alarm.
   *
   * @return empty when there is no alarm with this id
   */
  public Optional<Alarm> lockAlarm(long alarmId) {
    try (PreparedStatement ps =
        connection().prepareStatement("SELECT * FROM alarms WHERE id = ? FOR UPDATE")) {
      ps.setLong(1, alarmId);
      try (ResultSet rs = ps.executeQuery()) {
        if (!rs.next()) {
          return Optional.empty();
        }
        remember(rs);
        return Optional.of(AlarmRows.alarm(rs));
      }
    } catch (SQLException e) {
      throw new AlarmStoreException("cannot lock alarm " + alarmId, e);
    }
  }

  /**
   * The escalation columns of an alarm this transaction has read or written ({@code
   * escalation_level}, {@code escalation_step}, {@code next_escalation_at}), so escalation need
   * not read the row again.
   *
   * @return empty when this transaction has not seen the row
   */
  public Optional<EscalationState> escalation(long alarmId) {
    return Optional.ofNullable(escalation.get(alarmId));
  }

  /** Records the escalation columns as now written in this transaction. */
  public void escalationWritten(long alarmId, EscalationState state) {
    escalation.put(alarmId, state);
  }

  /** Remembers the escalation columns of an {@code alarms} row just read (cursor on the row). */
  void remember(ResultSet rs) throws SQLException {
    escalation.put(rs.getLong("id"), new EscalationState(
        rs.getInt("escalation_level"), rs.getInt("escalation_step"),
        AlarmRows.instant(rs, "next_escalation_at")));
  }

  /** Forgets what this transaction knows of an alarm's escalation columns. */
  void forgetEscalation(long alarmId) {
    escalation.remove(alarmId);
  }

  /**
   * Queues an {@code alarm_events} row, written in this transaction before commit.
   *
   * @param type event type (see {@link AlarmEvent#type()})
   * @param from state before, or null
   * @param after the alarm after the change
   * @param actor who
   * @param note why, or null
   * @param details extra facts, or null
   */
  public void record(
      String type, AlarmState from, Alarm after, String actor, String note, Map<String, Object> details) {
    pending.add(new Pending(type, from, after, actor, note, details == null ? Map.of() : details));
  }

  /** How many events are queued: a point to {@link #resetTo} when a change is rolled back. */
  int mark() {
    return pending.size();
  }

  /**
   * Drops the events queued after {@code mark} and any deferred write (their change was rolled
   * back to a savepoint).
   */
  void resetTo(int mark) {
    pending.subList(mark, pending.size()).clear();
    deferredSql.clear();
    deferredParams.clear();
    deferredResultSets = 0;
    escalation.clear(); // the rolled-back change may have written escalation columns
  }

  /**
   * Rule transitions: a token unique to this transaction, written into each of its events
   * ({@code alarm_events.ledger_tx}, migration V4), by which the ledger finds out afterwards
   * whether it committed when the connection broke during its COMMIT (docs/alerting.md "When the
   * connection breaks during the commit").
   */
  void token(java.util.UUID token) {
    this.token = token;
  }

  /** The token given with {@link #token(java.util.UUID)}, or null. */
  java.util.UUID tokenValue() {
    return token;
  }

  /** The (device, rule) keys ({@link KnownAlarms#key}) of the alarms of the events queued. */
  java.util.Set<String> keys() {
    java.util.Set<String> keys = new java.util.HashSet<>();
    for (Pending p : pending) {
      keys.add(KnownAlarms.key(p.after.deviceId(), p.after.ruleId()));
    }
    return keys;
  }

  /** The alarm ids of the events queued and not yet written (ascending, no duplicates). */
  Long[] pendingAlarmIds() {
    return pending.stream().map(p -> p.after.id()).distinct().sorted().toArray(Long[]::new);
  }

  /** The highest event id the ledger has told (0: none): this transaction's event ids exceed it. */
  void eventIdFloor(long floor) {
    this.eventIdFloor = floor;
  }

  /**
   * Writes the deferred writes and the queued events, and with {@code commit} the COMMIT, all in
   * one round trip: the deferred writes, the event-order lock, one {@code INSERT ... RETURNING id}
   * per event (statements run in order, so the ids increase in record order, and the lock is held
   * until commit, so they increase in commit order), the {@link #readFingerprintAtCommit row
   * fingerprints} asked for, then {@code COMMIT}. If a statement fails,
   * PostgreSQL skips the rest of the round trip (the COMMIT included) and the transaction is
   * aborted: the caller rolls back and nothing of it is kept. After a successful commit the
   * server reports the session idle and pgjdbc's {@link Connection#commit()} sends nothing.
   *
   * @param commit whether the COMMIT goes with it (false for the warm-up, which rolls back)
   * @return the events as written, ids ascending, their maps as {@code eventsAfter} reads them back
   */
  List<AlarmEvent> flush(boolean commit) throws SQLException {
    int n = pending.size();
    List<AlarmEvent> written = new ArrayList<>(n);
    int head = n == 0 ? 0 : 2; // the event-order lock's and the id floor's result sets
    StringBuilder sql = new StringBuilder();
    List<Object> params = new ArrayList<>(4 + 10 * n);
    if (n > 0) {
      sql.append(LOCK_EVENT_ORDER).append(";\n").append(EVENT_ID_FLOOR);
      params.add(EVENT_ORDER_LOCK);
      params.add(eventIdFloor);
      params.add(eventIdFloor);
    }
    for (int i = 0; i < n; i++) {
      Pending p = pending.get(i);
      sql.append(";\n").append(INSERT_EVENT);
      params.add(p.after.id());
      params.add(p.type);
      params.add(p.from == null ? null : p.from.wireName());
      params.add(p.after.state().wireName());
      params.add(p.actor);
      params.add(p.note);
      params.add(AlarmRows.ts(now));
      params.add(Json.write(p.details));
      params.add(Json.write(Json.alarmToMap(p.after)));
      params.add(token);
    }
    boolean readFingerprints = !fingerprints.isEmpty();
    if (readFingerprints) {
      sql.append(sql.length() == 0 ? "" : ";\n").append(ROW_FINGERPRINTS);
      params.add(fingerprints.keySet().toArray(new Long[0]));
    }
    if (commit) {
      sql.append(sql.length() == 0 ? "" : ";\n").append("COMMIT");
    }
    if (sql.length() == 0) {
      sendDeferred();
      return written;
    }
    long[] ids = new long[n];
    int resultSets = roundTrip(sql.toString(), params, (index, rs) -> {
      if (index >= head && index < head + n) {
        if (!rs.next()) {
          throw new SQLException("event insert returned no id");
        }
        ids[index - head] = rs.getLong(1);
      } else if (index == head + n) {
        fingerprints.replaceAll((id, old) -> null); // a row that is gone has none
        while (rs.next()) {
          fingerprints.put(rs.getLong(1), rs.getString(2));
        }
      }
    });
    int expected = head + n + (readFingerprints ? 1 : 0);
    if (resultSets != expected) {
      throw new SQLException("expected " + expected
          + " result sets (event-order lock, id floor, events, row fingerprints), got " + resultSets);
    }
    for (int i = 0; i < n; i++) {
      Pending p = pending.get(i);
      // as eventsAfter reads them back, built from the maps rather than by parsing the text just written
      written.add(new AlarmEvent(ids[i], p.after.id(), p.type, p.from, p.after.state(), p.actor,
          p.note, now, Json.storedAlarm(p.after), Json.stored(p.details)));
    }
    pending.clear();
    return written;
  }

  /**
   * Asks the committing round trip ({@link #flush}) to read the fingerprint of an {@code alarms}
   * row as this transaction leaves it (after all its writes): {@link #fingerprint} gives it then.
   */
  void readFingerprintAtCommit(long alarmId) {
    fingerprints.putIfAbsent(alarmId, null);
  }

  /**
   * The row's fingerprint (md5 of the row's text, 32 hex digits) read by the committing round
   * trip; empty before it, or when the row is gone.
   */
  Optional<String> fingerprint(long alarmId) {
    return Optional.ofNullable(fingerprints.get(alarmId));
  }

  /** Runs {@code r} once this transaction has committed (never when it rolls back). */
  void afterCommit(Runnable r) {
    afterCommit.add(r);
  }

  /** Called by the ledger once the COMMIT succeeded: runs the {@link #afterCommit} actions, in order. */
  void committed() {
    for (Runnable r : afterCommit) { // a loop, not a method reference: see JdbcAlarmLedger's commit path
      r.run();
    }
  }

  /**
   * Escalation columns of an {@code alarms} row.
   *
   * @param level index into the device's grid chain (0 = unit lead household .. 4 = sub-district)
   * @param step notification steps taken so far
   * @param deadline {@code next_escalation_at}, or null when none
   */
  public record EscalationState(int level, int step, Instant deadline) {}

  private record Pending(
      String type, AlarmState from, Alarm after, String actor, String note, Map<String, Object> details) {}
}
