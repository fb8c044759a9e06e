package io.safegrid.gateway.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.gateway.storage.ReadingStore;
import io.safegrid.model.Reading;
import io.safegrid.rules.engine.RuleEngine;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link IngestSink} both transports call: decode ({@link PayloadDecoder}), tell the alarm
 * path at once ({@link IngestListener}), store durably ({@link ReadingStore}), and keep what was
 * refused in {@code dead_letters} with the reason.
 *
 * <p>A telemetry message with a reading more than 5 minutes behind its receive time is stored with
 * {@link ReadingStore#submitReporting} and handed to the alarm path at once with the store's
 * coming verdict ({@link IngestListener#onReadings(List, io.safegrid.rules.engine.StoredBefore)}):
 * the rule engine judges what it can at once and waits only for a reading that may be a resend of
 * one stored long ago (docs/rules.md "Time and order"). Every other message is as before.
 *
 * <p>Records without {@code ts} get the message's receive time made unique per device ({@link
 * ReceiveTimes}: two messages of one device in the same millisecond get times 1 ms apart, so
 * neither is taken for the other's duplicate; several such records of one message get stamps 1
 * ms apart too, in payload order).
 *
 * <p>A message with {@code seq} whose seq and payload equal one of the device's last 32 such
 * messages, received within 5 minutes of it and with no other payload under that seq since, is a
 * resend ({@link RecentSeqs}; a QoS 1 PUBLISH after a lost PUBACK, a CoAP CON sent again): found before it gets receive stamps, answered with the first one's outcome once
 * that is durable, not stored or judged again, counted in {@code
 * safegrid.ingest.duplicates{kind=telemetry|events, reason=seq}} (newcomer7 F3).
 *
 * <p>A partly refused message (say one NaN field) stores the rest and keeps the whole payload as
 * a dead letter naming the refused fields; its future completes when both are durable.
 *
 * <p>Every {@code dead_letters} row of a transport is written here and counted here,
 * once durable: {@code safegrid.mqtt.dead_letters{reason}} for a source {@code mqtt:...}, {@code
 * safegrid.coap.dead_letters{reason}} for {@code coap:} / {@code coaps:} ({@link DeadLetterCounts}),
 * {@code reason} = {@code invalid_payload} (nothing decodable, or a status payload that says
 * neither online nor offline), {@code partly_refused} (some fields or records refused, the rest
 * stored), {@code too_many_metrics} (readings under more metric names than the device's {@link
 * MetricBudget} allows were refused, the rest stored), or the tag the transport gave {@link #refused}. So a counter's sum equals its rows, on
 * every path and whatever the device did meanwhile. A row storage could not keep is not counted.
 *
 * <p>Metrics: {@code safegrid.ingest.messages} (tags {@code kind} = telemetry|events|status|refused, {@code
 * outcome} = accepted|partial|invalid), {@code safegrid.ingest.readings}, {@code
 * safegrid.ingest.rejected.fields}, {@code safegrid.ingest.nul_padded} (messages whose payload ended in
 * NUL bytes, a C string's terminator or a padded buffer, read without them; newcomer7 F23), and
 * the dead-letter counters above.
 */
public final class IngestService implements IngestSink {

  private static final Logger log = LoggerFactory.getLogger(IngestService.class);

  /** Dead letters keep at most this much of the payload (bytes). */
  public static final int DEAD_LETTER_MAX_BYTES = 64 * 1024;

  /** The dead-letter {@code reason} tag of a message nothing could be decoded of. */
  static final String INVALID_PAYLOAD = "invalid_payload";
  /** The dead-letter {@code reason} tag of a message some fields or records of were refused. */
  static final String PARTLY_REFUSED = "partly_refused";
  /**
   * The dead-letter {@code reason} tag of a message with readings under more distinct metric
   * names than the device's {@link MetricBudget} allows (also when other fields were refused too).
   */
  static final String TOO_MANY_METRICS = "too_many_metrics";

  private final PayloadDecoder decoder;
  private final ReadingStore store;
  private final IngestListener listener;
  private final Counter readingsCounter;
  private final Counter rejectedFields;
  private final Counter nulPadded;
  private final ReceiveTimes receiveTimes = new ReceiveTimes();
  private final RecentSeqs recentSeqs = new RecentSeqs();
  private final Counter telemetryResends;
  private final Counter eventResends;
  private final MetricBudget metricBudget;
  /** {@code safegrid.ingest.messages} by kind and outcome, registered once (not per message). */
  private final Map<String, Counter> messageCounters = new HashMap<>();
  private final Counter telemetryAccepted;
  private final DeadLetterCounts deadLetterCounts;

  /**
   * @param store durable storage
   * @param listener the alarm path; {@link IngestListener#NONE} for none
   * @param registry where the counters go
   */
  public IngestService(ReadingStore store, IngestListener listener, MeterRegistry registry) {
    this(store, listener, registry, MetricBudget.withoutRules());
  }

  /**
   * @param store durable storage
   * @param listener the alarm path; {@link IngestListener#NONE} for none
   * @param registry where the counters go
   * @param metricBudget the bound on distinct metric names per device ({@link
   *     MetricBudget#forRules}); readings over it are refused with the dead-letter tag {@code
   *     too_many_metrics}
   */
  public IngestService(
      ReadingStore store, IngestListener listener, MeterRegistry registry, MetricBudget metricBudget) {
    this.metricBudget = Objects.requireNonNull(metricBudget, "metricBudget");
    this.decoder = new PayloadDecoder();
    this.store = Objects.requireNonNull(store, "store");
    this.listener = Objects.requireNonNull(listener, "listener");
    Objects.requireNonNull(registry, "registry");
    this.readingsCounter = Counter.builder("safegrid.ingest.readings").register(registry);
    this.rejectedFields = Counter.builder("safegrid.ingest.rejected.fields").register(registry);
    this.nulPadded = Counter.builder("safegrid.ingest.nul_padded")
        .description("messages whose payload ended in NUL bytes (C string terminator, padded buffer), read without them")
        .register(registry);
    for (String kind : List.of("telemetry", "events", "status", "refused")) {
      for (String outcome : List.of("accepted", "partial", "invalid")) {
        messageCounters.put(kind + "/" + outcome,
            Counter.builder("safegrid.ingest.messages").tag("kind", kind).tag("outcome", outcome)
                .register(registry));
      }
    }
    this.telemetryAccepted = messageCounters.get("telemetry/accepted");
    this.deadLetterCounts = new DeadLetterCounts(registry);
    this.telemetryResends = Counter.builder("safegrid.ingest.duplicates").tag("kind", "telemetry")
        .tag("reason", "seq").description("messages taken for a resend by their seq and payload: not stored or judged again")
        .register(registry);
    this.eventResends = Counter.builder("safegrid.ingest.duplicates").tag("kind", "events")
        .tag("reason", "seq").description("messages taken for a resend by their seq and payload: not stored or judged again")
        .register(registry);
  }

  @Override
  public CompletableFuture<IngestResult> telemetry(
      String deviceId, byte[] payload, long receivedAtMillis, String source) {
    countNulPadding(payload);
    // records without ts get receive stamps unique per device, 1 ms apart (F12, R17); taken only
    // once the message is known to be no resend
    long stamp = receiveTimes.peek(deviceId, receivedAtMillis);
    DecodedMessage decoded = decoder.decodeTelemetry(deviceId, payload, stamp);
    if (decoded.invalid()) {
      return invalid("telemetry", deviceId, payload, source, tag(decoded.error()), decoded.error());
    }
    CompletableFuture<IngestResult> outcome = null;
    if (decoded.seq() != Reading.NO_SEQ) {
      outcome = new CompletableFuture<>();
      CompletableFuture<IngestResult> earlier =
          recentSeqs.resendOf(deviceId, decoded.seq(), RecentSeqs.hash(payload), receivedAtMillis, outcome);
      if (earlier != null) {
        return resend(telemetryResends, deviceId, decoded.seq(), source, earlier);
      }
    }
    while (!receiveTimes.claim(deviceId, receivedAtMillis, stamp, decoded.stamps())) {
      stamp = receiveTimes.peek(deviceId, receivedAtMillis); // another message of the device took it
      decoded = decoder.decodeTelemetry(deviceId, payload, stamp);
    }
    DecodedMessage message = decoded;
    long at = stamp;
    return remembered(deviceId, outcome, () -> telemetry(deviceId, payload, at, source, message));
  }

  /** The rest of {@link #telemetry}: a decoded message that is no resend, its stamps taken. */
  private CompletableFuture<IngestResult> telemetry(
      String deviceId, byte[] payload, long receivedAtMillis, String source, DecodedMessage message) {
    DecodedMessage decoded = metricBudget.apply(deviceId, message);
    if (decoded.invalid()) {
      return invalid("telemetry", deviceId, payload, source, tag(decoded.error()), decoded.error());
    }
    List<Reading> readings = decoded.readings();
    readingsCounter.increment(readings.size());
    if (!farBehind(readings, receivedAtMillis)) {
      notifyListener(() -> listener.onReadings(readings)); // the alarm path does not wait
      return finish("telemetry", deviceId, payload, source, decoded, store.submit(readings));
    }
    // a reading far behind may be a resend of one stored long ago: the store tells which were
    // (the rule engine makes only those it cannot judge alone wait for it)
    CompletableFuture<Set<Reading>> verdict = store.submitReporting(readings);
    notifyListener(() -> listener.onReadings(readings, then -> verdict.whenComplete((before, e) -> {
      try {
        then.accept(e != null || before == null || before.isEmpty() ? r -> false : before::contains);
      } catch (RuntimeException ex) {
        log.error("rule engine: verdict on readings far behind not handled", ex);
      }
    })));
    return finish("telemetry", deviceId, payload, source, decoded, verdict.thenApply(v -> null));
  }

  /**
   * Whether a reading is more than {@link RuleEngine#CLOCK_BEHIND_TOLERANCE_MILLIS} (5 min)
   * behind the receive time: only such a message asks storage which readings it had (see {@link
   * IngestListener#onReadings(List, io.safegrid.rules.engine.StoredBefore)}).
   */
  private static boolean farBehind(List<Reading> readings, long receivedAtMillis) {
    for (int i = 0; i < readings.size(); i++) {
      if (receivedAtMillis - readings.get(i).timeMillis() > RuleEngine.CLOCK_BEHIND_TOLERANCE_MILLIS) {
        return true;
      }
    }
    return false;
  }

  @Override
  public CompletableFuture<IngestResult> events(
      String deviceId, byte[] payload, long receivedAtMillis, String source) {
    countNulPadding(payload);
    long stamp = receiveTimes.peek(deviceId, receivedAtMillis); // unique per device (F12)
    DecodedMessage message = decoder.decodeEvents(deviceId, payload, stamp);
    if (message.invalid()) {
      return invalid("events", deviceId, payload, source, INVALID_PAYLOAD, message.error());
    }
    CompletableFuture<IngestResult> outcome = null;
    if (message.seq() != Reading.NO_SEQ) {
      outcome = new CompletableFuture<>();
      CompletableFuture<IngestResult> earlier =
          recentSeqs.resendOf(deviceId, message.seq(), RecentSeqs.hash(payload), receivedAtMillis, outcome);
      if (earlier != null) {
        return resend(eventResends, deviceId, message.seq(), source, earlier);
      }
    }
    while (!receiveTimes.claim(deviceId, receivedAtMillis, stamp, 1)) {
      stamp = receiveTimes.peek(deviceId, receivedAtMillis);
      message = decoder.decodeEvents(deviceId, payload, stamp);
    }
    DecodedMessage decoded = message;
    return remembered(deviceId, outcome, () -> {
      notifyListener(() -> listener.onEvents(decoded.events()));
      CompletableFuture<?>[] stored =
          decoded.events().stream().map(store::submitEvent).toArray(CompletableFuture[]::new);
      return finish("events", deviceId, payload, source, decoded, CompletableFuture.allOf(stored));
    });
  }

  /**
   * A resend of a message with this seq and payload ({@link RecentSeqs}): not stored, not judged,
   * counted in {@code safegrid.ingest.duplicates{kind, reason=seq}}; answered as the first one
   * was, once that one is durable.
   */
  private static CompletableFuture<IngestResult> resend(
      Counter counter, String deviceId, long seq, String source, CompletableFuture<IngestResult> earlier) {
    counter.increment();
    if (log.isDebugEnabled()) {
      log.debug("{}: seq {} with the same payload again ({}): a resend, not stored or judged again",
          deviceId, seq, source);
    }
    return earlier.copy();
  }

  /**
   * {@code handling}'s result (what the transport gets), completing {@code outcome} (what a resend of the
   * message gets) after it; when it fails the message is forgotten first, so its next offer is
   * handled as new.
   */
  private CompletableFuture<IngestResult> remembered(String deviceId,
      CompletableFuture<IngestResult> outcome, Supplier<CompletableFuture<IngestResult>> handling) {
    if (outcome == null) {
      return handling.get();
    }
    CompletableFuture<IngestResult> result;
    try {
      result = handling.get();
    } catch (RuntimeException e) {
      recentSeqs.forget(deviceId, outcome);
      outcome.completeExceptionally(e);
      throw e;
    }
    return result.whenComplete((r, e) -> {
      if (e != null) {
        recentSeqs.forget(deviceId, outcome);
        outcome.completeExceptionally(e);
      } else {
        outcome.complete(r);
      }
    });
  }

  @Override
  public boolean acceptingMore() {
    return store.acceptingMore();
  }

  /**
   * Counted as {@code safegrid.ingest.messages{kind=status, outcome=invalid}} and, once durable,
   * as a dead letter with {@code reason=invalid_payload}.
   */
  @Override
  public CompletableFuture<IngestResult> rejected(
      String deviceId, byte[] payload, String source, String reason) {
    return invalid("status", deviceId, payload, source, INVALID_PAYLOAD, reason);
  }

  /**
   * A message the transport refused (topic ACL, size, retain, malformed): kept in {@code
   * dead_letters}, counted as {@code safegrid.ingest.messages{kind=refused, outcome=invalid}} and,
   * once durable, as a dead letter with {@code reason} = {@code tag}; payload bounded to {@link
   * #DEAD_LETTER_MAX_BYTES}.
   */
  @Override
  public CompletableFuture<IngestResult> refused(
      String deviceId, byte[] payload, String source, String tag, String reason) {
    return invalid("refused", deviceId, payload, source, tag, reason);
  }

  private CompletableFuture<IngestResult> finish(
      String kind,
      String deviceId,
      byte[] payload,
      String source,
      DecodedMessage decoded,
      CompletableFuture<Void> stored) {
    if (decoded.rejections().isEmpty()) {
      count(kind, "accepted");
      return stored.thenApply(v -> new IngestResult(IngestResult.Status.ACCEPTED, decoded.size(), List.of()));
    }
    count(kind, "partial");
    rejectedFields.increment(decoded.rejections().size());
    String reason = "partly refused: " + String.join("; ", decoded.rejections());
    CompletableFuture<Void> kept = keep(deviceId, source, tag(reason), reason, payload);
    return stored
        .thenCombine(kept, (a, b) -> b)
        .thenApply(v -> new IngestResult(IngestResult.Status.PARTIAL, decoded.size(), decoded.rejections()));
  }

  /** {@code too_many_metrics} when the metric budget refused a part, else {@code partly_refused} / {@code invalid_payload}. */
  private static String tag(String reason) {
    return reason.contains(MetricBudget.REJECTION) ? TOO_MANY_METRICS
        : reason.startsWith("partly refused: ") ? PARTLY_REFUSED : INVALID_PAYLOAD;
  }

  private CompletableFuture<IngestResult> invalid(
      String kind, String deviceId, byte[] payload, String source, String tag, String reason) {
    count(kind, "invalid");
    return keep(deviceId, source, tag, reason, payload)
        .thenApply(v -> new IngestResult(IngestResult.Status.INVALID, 0, List.of(reason)));
  }

  /**
   * The one place a transport's dead letter is written: stored (reason cut to 2,000 characters,
   * payload to {@link #DEAD_LETTER_MAX_BYTES}) and counted once durable, before the returned
   * future completes.
   */
  private CompletableFuture<Void> keep(String deviceId, String source, String tag, String reason, byte[] payload) {
    CompletableFuture<Void> stored = store.deadLetter(deviceId, source, truncate(reason), bound(payload));
    return stored.thenRun(() -> deadLetterCounts.kept(source, tag));
  }

  /** {@code safegrid.ingest.nul_padded}: looks at the payload's last byte (more only if it is NUL or white space). */
  private void countNulPadding(byte[] payload) {
    if (PayloadDecoder.nulPadded(payload)) {
      nulPadded.increment();
    }
  }

  private void count(String kind, String outcome) {
    if ("accepted".equals(outcome) && "telemetry".equals(kind)) { // the common case
      telemetryAccepted.increment();
      return;
    }
    messageCounters.get(kind + "/" + outcome).increment();
  }

  private static void notifyListener(Runnable call) {
    try {
      call.run();
    } catch (RuntimeException e) {
      // The alarm path failing must not lose the reading: storage still gets it.
      log.error("ingest listener failed", e);
    }
  }

  private static byte[] bound(byte[] payload) {
    if (payload == null) {
      return new byte[0];
    }
    return payload.length <= DEAD_LETTER_MAX_BYTES
        ? payload
        : java.util.Arrays.copyOf(payload, DEAD_LETTER_MAX_BYTES);
  }

  private static String truncate(String reason) {
    return reason.length() <= 2000 ? reason : reason.substring(0, 2000) + "...";
  }
}
