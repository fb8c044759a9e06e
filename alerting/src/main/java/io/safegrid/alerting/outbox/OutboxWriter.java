package io.safegrid.alerting.outbox;

import com.fasterxml.jackson.core.JsonGenerator;
import io.safegrid.alerting.json.JsonText;
import io.safegrid.alerting.ledger.AlarmStoreException;
import io.safegrid.alerting.ledger.Json;
import io.safegrid.alerting.ledger.LedgerTx;
import io.safegrid.alerting.routing.RecipientGroup;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Writes notifications into the outbox inside the caller's transaction (the alarm change's), one
 * row per channel of the recipient. A row whose idempotency key exists already is not written
 * again ({@code ON CONFLICT DO NOTHING}): re-running a step after a crash sends nothing twice.
 */
public final class OutboxWriter {
  private final ChannelSelector channels;

  public OutboxWriter(ChannelSelector channels) {
    this.channels = Objects.requireNonNull(channels, "channels");
  }

  /**
   * One notification of an escalation step.
   *
   * @param key unique per (alarm, step, recipient), e.g. {@code a12-s3-cm-nanmen}; a row's
   *     idempotency key is {@code <key>.<channel>}
   * @param recipient who
   * @param payload the JSON payload; {@code idempotencyKey}, {@code recipient}, {@code
   *     recipientName} and {@code channel} are added per row
   */
  public record Notification(String key, RecipientGroup recipient, Map<String, Object> payload) {}

  /**
   * Writes one outbox row per channel of each notification's recipient, deferred in the ledger
   * transaction {@code tx} ({@link LedgerTx#defer}): the rows travel with its next round trip,
   * first attempt due at the transaction's service time; a failure surfaces there (at the latest
   * at commit) as {@link AlarmStoreException}. A row whose idempotency key exists already is kept
   * as it is.
   *
   * @param tx the alarm change's ledger transaction
   * @param alarmId the alarm
   * @param notifications the notifications of one escalation step
   * @return the idempotency keys of the rows (written now or before), in order
   */
  public List<String> enqueueAll(LedgerTx tx, long alarmId, List<Notification> notifications) {
    return enqueue(tx, alarmId, notifications, tx.now(), false);
  }

  /**
   * {@link #enqueueAll(LedgerTx, long, List)} for a maintenance alarm's notifications: the first
   * attempt is due at {@code dueAt} (its recipient's next digest slot: {@link
   * OutboxDispatcher#digestSlot}) instead of the transaction's service time, and the rows are
   * marked {@code digest} so that the dispatcher may send them with others of the same recipient
   * and channel as one digest. Only rows written here are ever grouped: a notification due at
   * once goes out alone and in its usual shape, whatever its rule.
   *
   * @param dueAt first attempt, not before the transaction's service time
   */
  public List<String> enqueueDigest(LedgerTx tx, long alarmId, List<Notification> notifications, java.time.Instant dueAt) {
    return enqueue(tx, alarmId, notifications, dueAt, true);
  }

  private List<String> enqueue(LedgerTx tx, long alarmId, List<Notification> notifications, java.time.Instant dueAt,
      boolean digest) {
    List<String> keys = new ArrayList<>();
    java.time.OffsetDateTime now = tx.now().atOffset(ZoneOffset.UTC);
    java.time.OffsetDateTime due = dueAt.isAfter(tx.now()) ? dueAt.atOffset(ZoneOffset.UTC) : now;
    for (Notification n : notifications) {
      RecipientGroup recipient = n.recipient();
      String body = body(n); // the payload's entries as JSON, the same for each channel of n
      for (String channel : channels.channelsFor(recipient)) {
        String key = n.key() + "." + channel.replace(':', '-');
        tx.defer(INSERT, key, alarmId, channel, recipient.id(), rowJson(key, n, channel, body), now, due, digest);
        keys.add(key);
      }
    }
    return keys;
  }

  private static final String INSERT =
      "INSERT INTO outbox (idempotency_key, alarm_id, channel, recipient, payload, created_at, next_attempt_at, digest)"
          + " VALUES (?, ?, ?, ?, CAST(? AS jsonb), ?, ?, ?) ON CONFLICT (idempotency_key) DO NOTHING";

  /** The keys a row adds to the notification's payload. */
  private static final java.util.Set<String> ROW_KEYS = java.util.Set.of("idempotencyKey", "recipient", "recipientName", "channel");

  /**
   * The payload's entries as JSON text without the braces ({@code "alarmId":12,...}), written by
   * Jackson ({@link JsonText}) once per notification, or null when a row's JSON is not the splice
   * of it: a payload with a row key of its own (the row's map would overwrite it in place) or a
   * null payload (the row's map fails as before).
   */
  private static String body(Notification n) {
    Map<String, Object> p = n.payload();
    if (p == null) {
      return null;
    }
    for (String k : ROW_KEYS) {
      if (p.containsKey(k)) {
        return null;
      }
    }
    String json = JsonText.write(p, 64 + 32 * p.size());
    return json.substring(1, json.length() - 1); // without { and }
  }

  /**
   * A row's payload: the notification's payload with {@code idempotencyKey} first and {@code
   * recipient}, {@code recipientName} and {@code channel} last, as JSON text. The same text as
   * {@code Json.write(payload(key, n, channel))} (the row's map written by Jackson's mapper),
   * written by Jackson's generator around the payload's {@link #body}, which it takes as raw text
   * ({@code OutboxRowJsonTest} holds the equality); the mapper writes the row's map when {@code
   * body} is null.
   */
  static String rowJson(String key, Notification n, String channel, String body) {
    if (body == null) {
      return Json.write(payload(key, n, channel));
    }
    RecipientGroup r = n.recipient();
    StringWriter out = new StringWriter(body.length() + key.length() + r.id().length() + r.name().length() + 96);
    try (JsonGenerator g = JsonText.generator(out)) {
      g.writeStartObject();
      g.writeStringField("idempotencyKey", key);
      if (!body.isEmpty()) {
        g.writeRaw(',');
        g.writeRaw(body); // the generator adds the comma before the next field itself
      }
      g.writeStringField("recipient", r.id());
      g.writeStringField("recipientName", r.name());
      g.writeStringField("channel", channel);
      g.writeEndObject();
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a StringWriter does not fail
    }
    return out.toString();
  }

  /** {@link #rowJson} for one row (tests compare it with {@link #jacksonRowJson}). */
  static String rowJson(String key, Notification n, String channel) {
    return rowJson(key, n, channel, body(n));
  }

  /** The row's JSON as Jackson writes the row's map (the way before {@link #rowJson}). */
  static String jacksonRowJson(String key, Notification n, String channel) {
    return Json.write(payload(key, n, channel));
  }

  private static Map<String, Object> payload(String key, Notification n, String channel) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("idempotencyKey", key);
    p.putAll(n.payload());
    p.put("recipient", n.recipient().id());
    p.put("recipientName", n.recipient().name());
    p.put("channel", channel);
    return p;
  }
}
