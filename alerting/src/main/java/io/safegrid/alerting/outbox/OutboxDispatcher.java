package io.safegrid.alerting.outbox;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.ledger.NotificationDelivery;
import io.safegrid.alerting.ledger.Json;
import io.safegrid.alerting.routing.AlarmClass;
import java.time.Duration;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.Severity;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.InstantSource;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers the outbox: claims due rows ({@code FOR UPDATE SKIP LOCKED}, then a lease so that no
 * transaction stays open during network I/O), sends each through its {@link Channel} in id order,
 * and records the outcome. At least once: a message is marked delivered only after the channel
 * acknowledged it; a crash between the two re-sends it with the same idempotency key.
 *
 * <p>A failure is retried with exponential backoff ({@link OutboxConfig#backoffAfter}). After
 * {@link OutboxConfig#maxAttempts} the message is dead and the channel raises an alarm of its own
 * in the ledger: device {@value #GATEWAY_DEVICE}, rule {@code channel-dead:<channel>}, severity
 * major; the next successful delivery on that channel clears it.
 *
 * <p><b>Maintenance digests</b> (newcomer7 F11). Escalation writes a maintenance alarm's
 * notifications ({@link AlarmClass#MAINTENANCE}: device offline, low battery, faults) due at the
 * next {@link #DIGEST_WINDOW} boundary ({@link #digestSlot}), marked {@code outbox.digest}, so they
 * gather; when a round claims two or more such messages for one recipient and channel, they go out as ONE message
 * (reason {@code digest}, the messages' payloads in {@code notifications}, idempotency key {@code
 * digest-<first key>-n<count>}) and are all marked delivered together (or all retried). A
 * neighbourhood's power cut sent the duty officer 128 device-offline pages in 10 minutes; now one
 * per window and round. Hazard notifications are never delayed nor grouped.
 *
 * <p><b>Delivery state</b> (newcomer8 N7). A step's {@code notified} / {@code escalated} event says
 * its notifications were queued; the dispatcher records an {@code alarm_events} row of type
 * {@value NotificationDelivery#EVENT_TYPE} (actor {@value #ACTOR}, a live event like any other)
 * when a step's delivery state changes: the first failed attempt of any of its messages ({@code
 * failing}, at once, not after {@link OutboxConfig#maxAttempts}), a message given up ({@code
 * dead}), every message of the step delivered ({@code delivered}). Details: {@code step}, {@code
 * delivery} ({@link NotificationDelivery#byStep}), {@code channel}, {@code hazard} (the alarm is a
 * hazard or was routed as one). Between rounds each channel may reconnect ({@link
 * Channel#keepConnected}); when one comes back its backed-off messages due at once are made due
 * now (a call-out does not sit out a 2-minute backoff after the broker returned). {@link #health()}
 * is the gateway's {@code notifications} check of {@code GET /api/health}.
 *
 * <p>Metrics: {@code safegrid.outbox.pending} (gauge: not delivered, not dead), {@code
 * safegrid.outbox.delivered} and {@code safegrid.outbox.failures} (counters, tag {@code channel}),
 * {@code safegrid.outbox.dead} (counter, tag {@code channel}).
 */
public final class OutboxDispatcher implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(OutboxDispatcher.class);
  /** The pseudo-device that SafeGrid's own alarms are about. */
  public static final String GATEWAY_DEVICE = "safegrid-gateway";
  /** Actor of the {@value NotificationDelivery#EVENT_TYPE} events this dispatcher records. */
  public static final String ACTOR = "outbox";
  /** Rule id prefix of a dead channel's alarm. */
  public static final String CHANNEL_DEAD_RULE = "channel-dead:";

  /** Maintenance notifications gather for up to this long, then go out as one digest per recipient. */
  public static final Duration DIGEST_WINDOW = Duration.ofMinutes(5);

  /**
   * The digest slot a maintenance notification written at {@code now} is due at: the next
   * multiple of {@link #DIGEST_WINDOW} since the epoch ({@code now} itself when on one), so every
   * maintenance message of a window falls due together and at most {@code DIGEST_WINDOW} later.
   */
  public static Instant digestSlot(Instant now) {
    long w = DIGEST_WINDOW.toMillis();
    long ms = now.toEpochMilli();
    long slot = Math.floorDiv(ms + w - 1, w) * w;
    return slot <= ms ? now : Instant.ofEpochMilli(slot);
  }

  private final DataSource dataSource;
  private final InstantSource clock;
  private final Map<String, Channel> channels;
  private final OutboxConfig config;
  private final AlarmService ledger;
  private final MeterRegistry registry;
  private final AtomicLong pending = new AtomicLong();
  private final Map<String, Counter> counters = new ConcurrentHashMap<>();
  private final Set<String> deadChannels = ConcurrentHashMap.newKeySet();
  private final Semaphore wake = new Semaphore(0);
  private static final long PENDING_REFRESH_NANOS = TimeUnit.SECONDS.toNanos(1);
  private volatile long pendingRefreshedAt = System.nanoTime() - PENDING_REFRESH_NANOS;
  private volatile boolean running;
  private Thread thread;
  /** alarm id + "-" + step of steps whose failing state was recorded (until delivered). */
  private final Set<String> failingSteps = ConcurrentHashMap.newKeySet();
  /** alarm id + "-" + step of steps whose dead state was recorded. */
  private final Set<String> deadSteps = ConcurrentHashMap.newKeySet();
  /** Last delivery error per channel, cleared by a delivery on it. */
  private final Map<String, String> lastErrors = new ConcurrentHashMap<>();
  private static final java.util.regex.Pattern STEP_KEY = java.util.regex.Pattern.compile("^a(\\d+)-s(\\d+)-");

  /**
   * @param dataSource the database (migration V2)
   * @param clock the service clock (attempt times and backoff use it)
   * @param channels the configured channels; rows of other channels wait untouched
   * @param config delivery settings
   * @param ledger where a dead channel's alarm goes
   * @param registry metrics
   */
  public OutboxDispatcher(DataSource dataSource, InstantSource clock, List<Channel> channels,
      OutboxConfig config, AlarmService ledger, MeterRegistry registry) {
    this.dataSource = Objects.requireNonNull(dataSource);
    this.clock = Objects.requireNonNull(clock);
    Map<String, Channel> m = new LinkedHashMap<>();
    for (Channel c : channels) {
      m.put(c.name(), c);
    }
    this.channels = Map.copyOf(m);
    this.config = Objects.requireNonNull(config);
    this.ledger = Objects.requireNonNull(ledger);
    this.registry = Objects.requireNonNull(registry);
    Gauge.builder("safegrid.outbox.pending", pending, AtomicLong::get)
        .description("notifications in the outbox not yet delivered (and not dead)")
        .register(registry);
  }

  /**
   * Starts the delivery thread. Channels with an open {@code channel-dead:} alarm (from before a
   * restart) are remembered, so their next successful delivery clears it.
   */
  public synchronized void start() {
    if (running) {
      return;
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT rule_id FROM alarms WHERE device_id = ? AND rule_id LIKE 'channel-dead:%'"
                + " AND state IN ('active_unacked', 'active_acked')")) {
      ps.setString(1, GATEWAY_DEVICE);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          deadChannels.add(rs.getString(1).substring(CHANNEL_DEAD_RULE.length()));
        }
      }
    } catch (SQLException e) {
      log.warn("cannot read open channel-dead alarms: {}", e.getMessage());
    }
    running = true;
    thread = new Thread(this::loop, "safegrid-outbox");
    thread.setDaemon(true);
    thread.start();
  }

  /** New rows were committed: look now rather than at the next poll. */
  public void wake() {
    wake.release();
  }

  private void loop() {
    while (running) {
      try {
        keepChannelsConnected();
        wake.tryAcquire(config.pollInterval().toMillis(), TimeUnit.MILLISECONDS);
        wake.drainPermits();
        while (running && runOnce() > 0) {
          // keep going while there is due work
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      } catch (RuntimeException e) {
        log.warn("outbox delivery round failed; next round in {}", config.pollInterval(), e);
      }
    }
  }

  /**
   * One delivery round: claims up to {@code batchSize} due messages and tries each once, in id
   * order. After a failure on a channel, the round's remaining messages of that channel are not
   * tried (no attempt counted) and wait until the failed one's retry time, so a dead broker is not
   * hammered and notifications keep their order.
   *
   * @return how many messages were claimed
   */
  public int runOnce() {
    Instant claimedAt = clock.instant();
    Set<Long> maintenance = new java.util.HashSet<>();
    List<OutboxMessage> batch = claim(claimedAt, maintenance);
    Map<String, List<OutboxMessage>> digests = digests(batch, maintenance);
    Map<String, Instant> failedChannels = new java.util.HashMap<>();
    for (OutboxMessage m : batch) {
      List<OutboxMessage> digest = digests.get(m.channel() + "\u0000" + m.recipient());
      if (digest != null && maintenance.contains(m.id())) {
        if (digest.get(0) == m) {
          sendDigest(digest, failedChannels, claimedAt);
        }
        continue; // sent (or retried) with its digest
      }
      if (!running && thread != null) {
        release(m, claimedAt); // closing: give it back untried
        continue;
      }
      Instant retryAt = failedChannels.get(m.channel());
      if (retryAt != null) {
        release(m, retryAt);
        continue;
      }
      Channel ch = channels.get(m.channel());
      try {
        ch.send(m);
        delivered(m);
      } catch (DeliveryException | RuntimeException e) {
        failedChannels.put(m.channel(), failed(m, e, claimedAt));
      }
    }
    long now = System.nanoTime();
    if (!batch.isEmpty() || now - pendingRefreshedAt >= PENDING_REFRESH_NANOS) {
      // a count over the undelivered rows: not after every alarm event (it wakes this thread)
      pendingRefreshedAt = now;
      refreshPending();
    }
    recordDeliveryStates(); // after the refresh: whoever sees the event sees health() as of it
    return batch.size();
  }

  /** Maintenance messages of one channel and recipient, two or more, by channel + NUL + recipient. */
  private static Map<String, List<OutboxMessage>> digests(List<OutboxMessage> batch, Set<Long> maintenance) {
    Map<String, List<OutboxMessage>> groups = new LinkedHashMap<>();
    for (OutboxMessage m : batch) {
      if (maintenance.contains(m.id())) {
        groups.computeIfAbsent(m.channel() + "\u0000" + m.recipient(), k -> new ArrayList<>()).add(m);
      }
    }
    groups.values().removeIf(g -> g.size() < 2);
    return groups;
  }

  /** Sends one digest for {@code group} (same channel and recipient, id order); all delivered or all retried. */
  private void sendDigest(List<OutboxMessage> group, Map<String, Instant> failedChannels, Instant claimedAt) {
    OutboxMessage first = group.get(0);
    Instant retryAt = failedChannels.get(first.channel());
    if (retryAt != null || (!running && thread != null)) {
      for (OutboxMessage m : group) {
        release(m, retryAt != null ? retryAt : claimedAt);
      }
      return;
    }
    OutboxMessage digest = new OutboxMessage(first.id(), "digest-" + first.idempotencyKey() + "-n" + group.size(),
        first.channel(), first.recipient(), digestPayload(group, claimedAt), first.attempts());
    try {
      channels.get(first.channel()).send(digest);
      for (OutboxMessage m : group) {
        delivered(m);
      }
      counter("safegrid.outbox.digests", first.channel()).increment();
    } catch (DeliveryException | RuntimeException e) {
      Instant next = null;
      for (OutboxMessage m : group) {
        Instant n = failed(m, e, claimedAt);
        next = next == null ? n : next;
      }
      failedChannels.put(first.channel(), next);
    }
  }

  /**
   * The digest's JSON: {@code idempotencyKey}, {@code reason} "digest", {@code count}, {@code at},
   * {@code recipient}, {@code recipientName}, {@code channel} and {@code notifications} (each
   * message's own payload, in id order).
   */
  private static String digestPayload(List<OutboxMessage> group, Instant at) {
    OutboxMessage first = group.get(0);
    List<Object> each = new ArrayList<>(group.size());
    for (OutboxMessage m : group) {
      each.add(Json.readMap(m.payload()));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> head = (Map<String, Object>) each.get(0);
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("idempotencyKey", "digest-" + first.idempotencyKey() + "-n" + group.size());
    p.put("reason", "digest");
    p.put("count", group.size());
    p.put("at", at.toString());
    p.put("recipient", first.recipient());
    p.put("recipientName", head.get("recipientName"));
    p.put("channel", first.channel());
    p.put("notifications", each);
    return Json.write(p);
  }

  /** Gives a claimed message back untried: the claim's attempt is not counted. */
  private void release(OutboxMessage m, Instant dueAt) {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE outbox SET attempts = attempts - 1, next_attempt_at = ? WHERE id = ?")) {
      ps.setObject(1, dueAt.atOffset(ZoneOffset.UTC));
      ps.setLong(2, m.id());
      ps.executeUpdate();
    } catch (SQLException e) {
      log.warn("cannot release outbox message {}: {}", m.id(), e.getMessage());
    }
  }

  private List<OutboxMessage> claim(Instant now, Set<Long> maintenance) {
    if (channels.isEmpty()) {
      return List.of();
    }
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id IN ("
                + " SELECT id FROM outbox WHERE delivered_at IS NULL AND NOT dead AND next_attempt_at <= ?"
                + " AND channel = ANY(?) ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)"
                + " RETURNING id, idempotency_key, channel, recipient, payload::text, attempts, digest")) {
      ps.setObject(1, now.plus(config.lease()).atOffset(ZoneOffset.UTC));
      ps.setObject(2, now.atOffset(ZoneOffset.UTC));
      ps.setArray(3, c.createArrayOf("text", channels.keySet().toArray()));
      ps.setInt(4, config.batchSize());
      List<OutboxMessage> out = new ArrayList<>();
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(new OutboxMessage(rs.getLong(1), rs.getString(2), rs.getString(3), rs.getString(4),
              rs.getString(5), rs.getInt(6)));
          if (rs.getBoolean(7)) { // written for a digest slot (OutboxWriter.enqueueDigest)
            maintenance.add(rs.getLong(1));
          }
        }
      }
      out.sort((a, b) -> Long.compare(a.id(), b.id()));
      return out;
    } catch (SQLException e) {
      log.warn("cannot claim outbox messages: {}", e.getMessage());
      return List.of();
    }
  }

  private void delivered(OutboxMessage m) {
    update("UPDATE outbox SET delivered_at = ?, last_error = NULL WHERE id = ?", clock.instant(), null, m.id());
    counter("safegrid.outbox.delivered", m.channel()).increment();
    lastErrors.remove(m.channel());
    touch(m, null);
    log.debug("delivered {} via {} to {}", m.idempotencyKey(), m.channel(), m.recipient());
    if (deadChannels.remove(m.channel())) {
      try {
        ledger.apply(new AlarmTransition(GATEWAY_DEVICE, CHANNEL_DEAD_RULE + m.channel(),
            AlarmTransition.Kind.CLEAR, Severity.MAJOR, clock.millis(),
            "notification channel " + m.channel() + " delivers again", Map.of()));
      } catch (RuntimeException e) {
        log.warn("cannot clear the channel-dead alarm of {}", m.channel(), e);
      }
    }
  }

  /** Records a failed attempt; the backoff counts from when the attempt started. */
  private Instant failed(OutboxMessage m, Exception e, Instant attemptedAt) {
    String error = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    counter("safegrid.outbox.failures", m.channel()).increment();
    lastErrors.put(m.channel(), error);
    touch(m, error);
    Instant now = attemptedAt;
    if (m.attempts() >= config.maxAttempts()) {
      update("UPDATE outbox SET dead = true, last_error = ? WHERE id = ?", null, error, m.id());
      counter("safegrid.outbox.dead", m.channel()).increment();
      log.warn("outbox message {} via {} is dead after {} attempts: {}", m.idempotencyKey(), m.channel(),
          m.attempts(), error);
      deadChannels.add(m.channel());
      try {
        ledger.apply(new AlarmTransition(GATEWAY_DEVICE, CHANNEL_DEAD_RULE + m.channel(),
            AlarmTransition.Kind.RAISE, Severity.MAJOR, clock.millis(),
            "notification channel " + m.channel() + " dead: " + m.attempts() + " attempts failed for "
                + m.recipient() + ", last error: " + error,
            Map.of("channel", m.channel(), "recipient", m.recipient(), "idempotencyKey", m.idempotencyKey(),
                "attempts", m.attempts(), "lastError", error)));
      } catch (RuntimeException ex) {
        log.warn("cannot raise the channel-dead alarm of {}", m.channel(), ex);
      }
      return now.plus(config.backoffAfter(m.attempts()));
    } else {
      Instant next = now.plus(config.backoffAfter(m.attempts()));
      update("UPDATE outbox SET next_attempt_at = ?, last_error = ? WHERE id = ?", next, error, m.id());
      log.debug("outbox message {} via {} failed (attempt {}), retry at {}: {}", m.idempotencyKey(),
          m.channel(), m.attempts(), next, error);
      return next;
    }
  }

  /** A message of a step was delivered ({@code error} null) or failed in this round. */
  private record Touched(long alarmId, int step, String channel, String error) {}

  /** Steps touched in the current round, by alarm id + "-" + step (the dispatcher's thread only). */
  private final Map<String, Touched> touched = new LinkedHashMap<>();

  private void touch(OutboxMessage m, String error) {
    java.util.regex.Matcher k = STEP_KEY.matcher(m.idempotencyKey());
    if (!k.find()) {
      return;
    }
    String key = k.group(1) + "-" + k.group(2);
    synchronized (touched) {
      Touched before = touched.get(key);
      if (before == null || error != null) { // a failure in the round outweighs a delivery
        touched.put(key, new Touched(Long.parseLong(k.group(1)), Integer.parseInt(k.group(2)), m.channel(), error));
      }
    }
  }

  /**
   * After a round: for each step a message of which was delivered or failed, its state now
   * ({@link NotificationDelivery#byStep}); records a {@value NotificationDelivery#EVENT_TYPE} event
   * when it became delivered, failing (first time) or dead (first time).
   */
  private void recordDeliveryStates() {
    Map<String, Touched> round;
    synchronized (touched) {
      if (touched.isEmpty()) {
        return;
      }
      round = new LinkedHashMap<>(touched);
      touched.clear();
    }
    if (!(ledger instanceof JdbcAlarmLedger jdbc)) {
      return;
    }
    if (failingSteps.size() + deadSteps.size() > 100_000) { // steps that never deliver: bounded memory
      failingSteps.clear();
      deadSteps.clear();
    }
    Map<Long, Map<Integer, Map<String, Object>>> byAlarm = new java.util.HashMap<>();
    for (Map.Entry<String, Touched> e : round.entrySet()) {
      Touched t = e.getValue();
      try {
        Map<Integer, Map<String, Object>> steps = byAlarm.get(t.alarmId());
        if (steps == null) {
          try (Connection c = dataSource.getConnection()) {
            steps = NotificationDelivery.byStep(c, t.alarmId());
          }
          byAlarm.put(t.alarmId(), steps);
        }
        Map<String, Object> d = steps.get(t.step());
        if (d == null) {
          continue;
        }
        String st = (String) d.get("state");
        boolean record = switch (st) {
          case NotificationDelivery.DELIVERED -> {
            failingSteps.remove(e.getKey());
            deadSteps.remove(e.getKey());
            yield t.error() == null; // this round delivered its last message
          }
          case NotificationDelivery.FAILING -> failingSteps.add(e.getKey());
          case NotificationDelivery.DEAD -> deadSteps.add(e.getKey()) | failingSteps.add(e.getKey());
          default -> false;
        };
        if (record) {
          recordDelivery(jdbc, t, d);
        }
      } catch (SQLException | RuntimeException ex) {
        log.warn("cannot record the delivery state of alarm {} step {}: {}", t.alarmId(), t.step(), ex.toString());
      }
    }
  }

  private void recordDelivery(JdbcAlarmLedger jdbc, Touched t, Map<String, Object> d) {
    String st = (String) d.get("state");
    if (!NotificationDelivery.DELIVERED.equals(st)) {
      log.warn("notifications of alarm {} step {} {}: {} of {} delivered, last error: {}", t.alarmId(), t.step(),
          st.toUpperCase(java.util.Locale.ROOT), d.get("delivered"), d.get("total"), d.get("lastError"));
    }
    jdbc.inTransaction(tx -> {
      Alarm a = tx.lockAlarm(t.alarmId()).orElse(null);
      if (a == null) {
        return null;
      }
      boolean hazard = AlarmClass.ofRule(a.ruleId()) == AlarmClass.HAZARD || Boolean.TRUE.equals(d.get("responders"));
      Map<String, Object> details = new LinkedHashMap<>();
      details.put("step", t.step());
      details.put("delivery", d);
      details.put("channel", t.channel());
      details.put("hazard", hazard);
      String note = switch (st) {
        case NotificationDelivery.DELIVERED -> "delivered: step " + t.step() + ", all " + d.get("total") + " notifications";
        case NotificationDelivery.FAILING -> "NOT delivered: step " + t.step() + ", " + d.get("delivered") + " of "
            + d.get("total") + " delivered, retrying; " + d.get("lastError");
        default -> "UNDELIVERABLE: step " + t.step() + ", " + d.get("dead") + " of " + d.get("total")
            + " notifications gave up; " + d.get("lastError");
      };
      tx.record(NotificationDelivery.EVENT_TYPE, a.state(), a, ACTOR, note, details);
      return null;
    });
  }

  /**
   * Lets each channel reconnect ({@link Channel#keepConnected}); for one that came back, its
   * undelivered messages due at once (not digests) waiting out a backoff are made due now.
   */
  private void keepChannelsConnected() {
    for (Channel ch : channels.values()) {
      boolean back;
      try {
        back = ch.keepConnected();
      } catch (RuntimeException e) {
        log.debug("channel {} keepConnected failed: {}", ch.name(), e.toString());
        continue;
      }
      if (back) {
        try (Connection c = dataSource.getConnection();
            PreparedStatement ps = c.prepareStatement(
                "UPDATE outbox SET next_attempt_at = ? WHERE channel = ? AND delivered_at IS NULL AND NOT dead"
                    + " AND NOT digest AND next_attempt_at > ?")) {
          Instant now = clock.instant();
          ps.setObject(1, now.atOffset(ZoneOffset.UTC));
          ps.setString(2, ch.name());
          ps.setObject(3, now.atOffset(ZoneOffset.UTC));
          int n = ps.executeUpdate();
          if (n > 0) {
            log.info("channel {} is back: {} backed-off notification(s) due now", ch.name(), n);
          }
        } catch (SQLException e) {
          log.warn("cannot make channel {}'s backed-off notifications due: {}", ch.name(), e.getMessage());
        }
      }
    }
  }

  /**
   * The {@code notifications} check of {@code GET /api/health}: per configured channel whether it
   * is connected ({@link Channel#connected}: null for webhooks), its undelivered messages (not
   * dead), the age of the oldest in seconds (from {@code created_at}, the service clock), how
   * many call-outs due at once (not maintenance digests) failed their last attempt, and its last
   * error. Degraded when a channel is known disconnected or has such a failing call-out: a hazard
   * call-out cannot be delivered now. The outbox figures are those of the dispatcher's last
   * round (at most about a second old while it runs); this call never touches the database.
   *
   * @return the check; {@code details} JSON-serialisable
   */
  public Health health() {
    Map<String, Map<String, Object>> byChannel = new LinkedHashMap<>();
    boolean degraded = false;
    Map<String, Undelivered> rows = undelivered;
    for (Channel ch : channels.values()) {
      Undelivered u = rows.get(ch.name());
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("connected", ch.connected());
      m.put("undelivered", u == null ? 0L : u.count());
      m.put("oldestUndeliveredS", u == null || u.oldest() == null ? null
          : Math.max(0, Duration.between(u.oldest(), clock.instant()).toSeconds()));
      m.put("failingCallOuts", u == null ? 0L : u.failingCallOuts());
      m.put("lastError", lastErrors.get(ch.name()));
      byChannel.put(ch.name(), m);
      degraded |= Boolean.FALSE.equals(ch.connected()) || (u != null && u.failingCallOuts() > 0);
    }
    Map<String, Object> details = new LinkedHashMap<>();
    details.put("channels", byChannel);
    if (undeliveredError != null) {
      details.put("error", "outbox not read: " + undeliveredError);
    }
    return new Health(degraded, details);
  }

  /**
   * The notification channels' health.
   *
   * @param degraded a channel is known disconnected or a call-out due at once failed its last
   *     attempt: a hazard call-out cannot be delivered now
   * @param details {@code {"channels": {"mqtt": {"connected", "undelivered", "oldestUndeliveredS",
   *     "failingCallOuts", "lastError"}, ...}}}
   */
  public record Health(boolean degraded, Map<String, Object> details) {}

  private void update(String sql, Instant time, String text, long id) {
    try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
      int i = 1;
      if (time != null) {
        ps.setObject(i++, time.atOffset(ZoneOffset.UTC));
      }
      if (sql.contains("last_error = ?")) {
        ps.setString(i++, text);
      }
      ps.setLong(i, id);
      ps.executeUpdate();
    } catch (SQLException e) {
      // the lease runs out and the message is tried again: at least once still holds
      log.warn("cannot record outcome of outbox message {}: {}", id, e.getMessage());
    }
  }

  private Counter counter(String name, String channel) {
    return counters.computeIfAbsent(name + "|" + channel,
        k -> Counter.builder(name).tag("channel", channel).register(registry));
  }

  /**
   * The undelivered rows by channel: the {@code safegrid.outbox.pending} gauge (all channels) and
   * what {@link #health()} reports, so that the health check never waits for the database (a
   * silent cut must not hold {@code GET /api/health} past the page's 8 s).
   */
  private void refreshPending() {
    try (Connection c = dataSource.getConnection();
        PreparedStatement ps = c.prepareStatement(
            "SELECT channel, count(*), min(created_at),"
                + " count(*) FILTER (WHERE last_error IS NOT NULL AND NOT digest)"
                + " FROM outbox WHERE delivered_at IS NULL AND NOT dead GROUP BY channel");
        ResultSet rs = ps.executeQuery()) {
      long total = 0;
      Map<String, Undelivered> by = new java.util.HashMap<>();
      while (rs.next()) {
        java.time.OffsetDateTime oldest = rs.getObject(3, java.time.OffsetDateTime.class);
        by.put(rs.getString(1), new Undelivered(rs.getLong(2), oldest == null ? null : oldest.toInstant(), rs.getLong(4)));
        total += rs.getLong(2);
      }
      pending.set(total);
      undelivered = Map.copyOf(by);
      undeliveredError = null;
    } catch (SQLException e) {
      undeliveredError = e.getMessage();
      log.debug("outbox pending gauge not refreshed: {}", e.getMessage());
    }
  }

  /** Undelivered, not dead rows of one channel: how many, the oldest's {@code created_at}, failing call-outs. */
  private record Undelivered(long count, Instant oldest, long failingCallOuts) {}

  private volatile Map<String, Undelivered> undelivered = Map.of();
  private volatile String undeliveredError;

  /** Stops the delivery thread (a message being sent finishes first) and closes the channels. */
  @Override
  public void close() {
    Thread t;
    synchronized (this) {
      running = false;
      t = thread;
    }
    if (t != null) {
      wake.release();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    for (Channel c : channels.values()) {
      try {
        c.close();
      } catch (RuntimeException e) {
        log.warn("closing channel {} failed", c.name(), e);
      }
    }
  }
}
