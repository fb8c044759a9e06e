package io.safegrid.gateway.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.OffsetDateTime;
import java.time.chrono.IsoChronology;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.format.ResolverStyle;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Decodes the contract's telemetry and event JSON into readings and events. Shared by MQTT and
 * CoAP so that both transports accept and refuse exactly the same payloads.
 *
 * <p>Telemetry: one object or an array of them (a cached backlog, as NB-IoT alarms send after a
 * link outage):
 *
 * <pre>{"ts": 1764403200000 | "2026-11-29T08:00:00Z", "seq": 42, "values": {"gas_lel": 12.5}}</pre>
 *
 * Events: {@code {"ts": ..., "event": "fire", "zone": 10, "point": 2, "text": "..."}} or an array.
 *
 * <p>What is refused, and how much:
 *
 * <ul>
 *   <li>not JSON (a key twice in one object included: which one a reader takes is not defined
 *       by RFC 8259 4, and a second {@code values} must not silently replace the first), not an
 *       object or array, an empty array, more than {@link #MAX_RECORDS} records: the whole
 *       message (the caller keeps it as a dead letter);
 *   <li>a record with a bad {@code ts} (not epoch ms or ISO-8601 with an offset, before {@link
 *       #MIN_EPOCH_MILLIS}: epoch seconds, or more than {@link #MAX_FUTURE_MILLIS} after the
 *       gateway's receive time) or {@code seq}, or not an object: that record;
 *   <li>a value that is NaN, infinite, a string, a boolean or null, or a metric name not matching
 *       {@code [a-z][a-z0-9_]{0,63}}: that field; the rest of the record is kept;
 *   <li>an event record without a valid {@code event} name: that record. An event whose name is
 *       valid is kept whatever else is wrong with it (a fire must raise its alarm; newcomer7
 *       F24): an unreadable {@code ts} gives it the receive time, a zone or point that is no
 *       non-negative integer is left out (null), and each is named as a rejection (the caller
 *       keeps the payload as a {@code partly_refused} dead letter).
 * </ul>
 *
 * What is read leniently because its meaning is clear (newcomer7 F22-F24): {@code ts} with the
 * offset as {@code +0800} or {@code +08}, a space instead of the {@code T}, or epoch milliseconds
 * as a string; an event's zone or point as {@code 3.0} or {@code "3"}; an event's {@code text}
 * that is not a string as its JSON text; NUL bytes (and white space) after the JSON, as
 * firmware sends that publishes a C string with its terminator or a whole fixed-size buffer.
 *
 * A message of which every record or field was refused is refused whole. Thread-safe.
 */
public final class PayloadDecoder {

  /** Most records in one backlog array; NB-IoT alarms cache 200-600 (domain brief). */
  public static final int MAX_RECORDS = 10_000;

  /** Metric names: lower case with the unit as suffix, e.g. {@code gas_lel}, {@code level_m}. */
  public static final Pattern METRIC_NAME = Pattern.compile("[a-z][a-z0-9_]{0,63}");

  /** Event names, e.g. {@code fire}, {@code mains_fault}. */
  public static final Pattern EVENT_NAME = Pattern.compile("[a-z][a-z0-9_]{0,63}");

  /**
   * Smallest accepted numeric {@code ts}: 10^11 ms is 1973-03-03. Anything below is almost surely
   * a device sending epoch seconds (10^9 s is 2001); stored as milliseconds it would land in
   * January 1970, so the record is refused with that reason instead.
   */
  public static final long MIN_EPOCH_MILLIS = 100_000_000_000L;

  /**
   * Furthest accepted {@code ts} after the gateway's receive time, ms: 24 hours. A later time is a
   * broken device clock (an RTC reset to 2036, a year typed as 2200): stored, it would be the
   * device's "last reading" until that date, and beyond PostgreSQL's {@code timestamptz} range it
   * would be refused by the database after the device had been acknowledged. Skews up to this
   * bound are stored; the rule engine judges a reading more than its own 5 minutes ahead on its
   * arrival time and never takes it as newest state (RuleEngine.MAX_FUTURE_SKEW_MILLIS).
   */
  public static final long MAX_FUTURE_MILLIS = 24 * 3_600_000L;

  /**
   * Plausible range of a %LEL reading (metrics ending in {@code _lel}), inclusive. Below 0 %LEL the
   * number is a sensor or encoding fault. Above 100 %LEL it is NOT refused: a detector over its
   * range (GB 15322.1-2019 point detectors and the GB/T 50493-2019 set-points read 0-100 %LEL;
   * domain brief "What units report: concentration in %LEL (0.0-100.0)") may report more, and
   * that means gas at or above its lower explosive limit: the most urgent reading there is, so it
   * reaches the rules and raises the level 2 alarm. Only what no gas mixture can read is refused:
   * 100 %vol of the lightest-LEL gas on the site, LPG (propane, LEL 2.1 %vol), is 4,762 %LEL, so
   * above {@value #MAX_LEL} %LEL the number is an encoding fault. Refused fields are kept as dead
   * letters with the reason, never alarmed on.
   */
  public static final double MIN_LEL = 0.0;

  /** See {@link #MIN_LEL}: 100 %vol propane is 4,762 %LEL (LEL 2.1 %vol), rounded up. */
  public static final double MAX_LEL = 5_000.0;

  private static final int MAX_TEXT = 512;

  /** A telemetry record without a {@code values} member, e.g. {@code {}} (newcomer5 F7). */
  private static final String NO_VALUES = "no \"values\" object";

  private final ObjectMapper mapper;

  /** A decoder with the contract's rules. */
  public PayloadDecoder() {
    JsonFactory factory =
        JsonFactory.builder()
            // NaN and Infinity are parsed so that the one field can be refused, not the message.
            .enable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            // {"values": {...}, "values": {...}} is refused, not read as the last one
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(
                StreamReadConstraints.builder().maxNestingDepth(16).maxNumberLength(64).build())
            .build();
    this.mapper = JsonMapper.builder(factory).build();
  }

  /**
   * Decodes a telemetry payload.
   *
   * @param deviceId the authenticated device the readings belong to
   * @param payload raw bytes (UTF-8 JSON)
   * @param receivedAtMillis epoch ms: the time of the first record without {@code ts}; the next
   *     such record gets 1 ms later, and so on, in payload order ({@link
   *     DecodedMessage#stamps()} says how many were used; review7 R17)
   * @return readings and the rejections; {@link DecodedMessage#invalid()} when nothing is usable
   */
  public DecodedMessage decodeTelemetry(String deviceId, byte[] payload, long receivedAtMillis) {
    int[] stamps = new int[1];
    List<Reading> fast = fastTelemetry(deviceId, payload, receivedAtMillis, stamps);
    if (fast != null) {
      return new DecodedMessage(fast, List.of(), List.of(), null, firstSeq(fast), stamps[0]);
    }
    return treeTelemetry(deviceId, payload, receivedAtMillis);
  }

  /** The seq of the first reading that has one, else {@link Reading#NO_SEQ}. */
  private static long firstSeq(List<Reading> readings) {
    for (int i = 0; i < readings.size(); i++) {
      long seq = readings.get(i).seq();
      if (seq != Reading.NO_SEQ) {
        return seq;
      }
    }
    return Reading.NO_SEQ;
  }

  /**
   * The common case without building a JSON tree: a payload the tree decoder would accept whole
   * (every record an object with a valid {@code ts} and {@code seq}, every value a finite number
   * under a valid metric name, no repeated key) is decoded by streaming over the bytes. Anything
   * else returns null and the tree decoder ({@link #treeTelemetry}) decides, so the two accept,
   * refuse and word their reasons identically; its only cost is on payloads with a refusal.
   *
   * @param stamps [0]: records without {@code ts} so far (each got {@code receivedAtMillis} + it)
   * @return the readings in payload order, or null to let the tree decoder decide
   */
  private List<Reading> fastTelemetry(String deviceId, byte[] payload, long receivedAtMillis, int[] stamps) {
    if (payload == null || payload.length == 0) {
      return null;
    }
    try (JsonParser p = mapper.getFactory().createParser(payload, 0, jsonLength(payload))) {
      JsonToken root = p.nextToken();
      List<Reading> readings;
      if (root == JsonToken.START_OBJECT) {
        readings = new ArrayList<>(4);
        if (!fastRecord(p, deviceId, receivedAtMillis, stamps, readings)) {
          return null;
        }
      } else if (root == JsonToken.START_ARRAY) {
        readings = new ArrayList<>();
        int records = 0;
        JsonToken t;
        while ((t = p.nextToken()) == JsonToken.START_OBJECT) {
          if (++records > MAX_RECORDS || !fastRecord(p, deviceId, receivedAtMillis, stamps, readings)) {
            return null;
          }
        }
        if (t != JsonToken.END_ARRAY || records == 0) {
          return null;
        }
      } else {
        return null;
      }
      if (p.nextToken() != null || readings.isEmpty()) {
        return null;
      }
      return readings;
    } catch (IOException | RuntimeException e) {
      return null; // the tree decoder words the reason
    }
  }

  /**
   * One record, the parser on its START_OBJECT; appends its readings. False if the tree decoder
   * must decide (anything it would refuse or that needs its exact semantics).
   */
  private static boolean fastRecord(JsonParser p, String deviceId, long receivedAtMillis, int[] stamps,
      List<Reading> out) throws IOException {
    long time = Long.MIN_VALUE; // MIN_VALUE: no ts, the next receive stamp

    long seq = Reading.NO_SEQ;
    boolean seenTs = false;
    boolean seenSeq = false;
    boolean seenValues = false;
    String[] metrics = null;
    double[] values = null;
    int n = 0;
    JsonToken t;
    while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      switch (name) {
        case "ts" -> {
          if (seenTs) return false;
          seenTs = true;
          if (v == JsonToken.VALUE_NUMBER_INT) {
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) return false;
            time = p.getLongValue();
            if (!plausible(time, receivedAtMillis)) return false;
          } else if (v == JsonToken.VALUE_STRING) {
            try {
              time = isoMillis(p.getText());
            } catch (DateTimeParseException | ArithmeticException e) {
              return false; // also epoch ms as a string: the tree decoder reads that
            }
            if (!plausible(time, receivedAtMillis)) return false;
          } else if (v != JsonToken.VALUE_NULL) {
            return false;
          }
        }
        case "seq" -> {
          if (seenSeq) return false;
          seenSeq = true;
          if (v == JsonToken.VALUE_NUMBER_INT) {
            if (p.getNumberType() == JsonParser.NumberType.BIG_INTEGER) return false;
            seq = p.getLongValue();
            if (seq < 0) return false;
          } else if (v != JsonToken.VALUE_NULL) {
            return false;
          }
        }
        case "values" -> {
          if (seenValues || v != JsonToken.START_OBJECT) return false;
          seenValues = true;
          metrics = new String[4];
          values = new double[4];
          while ((t = p.nextToken()) == JsonToken.FIELD_NAME) {
            String metric = p.currentName();
            JsonToken num = p.nextToken();
            if (!validMetric(metric)
                || (num != JsonToken.VALUE_NUMBER_INT && num != JsonToken.VALUE_NUMBER_FLOAT)
                || p.getNumberType() == JsonParser.NumberType.BIG_INTEGER
                || p.getNumberType() == JsonParser.NumberType.BIG_DECIMAL) {
              return false;
            }
            double d = p.getDoubleValue();
            if (!Double.isFinite(d) || !plausibleValue(metric, d)) return false;
            for (int i = 0; i < n; i++) {
              if (metrics[i].equals(metric)) return false; // repeated key: the tree keeps the last
            }
            if (n == metrics.length) {
              metrics = java.util.Arrays.copyOf(metrics, n * 2);
              values = java.util.Arrays.copyOf(values, n * 2);
            }
            metrics[n] = metric;
            values[n++] = d;
          }
          if (t != JsonToken.END_OBJECT) return false;
        }
        default -> p.skipChildren(); // other fields are ignored, as by the tree decoder
      }
    }
    if (t != JsonToken.END_OBJECT || !seenValues || n == 0) {
      return false;
    }
    if (time == Long.MIN_VALUE) {
      time = receivedAtMillis + stamps[0]++;
    }
    for (int i = 0; i < n; i++) {
      out.add(new Reading(deviceId, metrics[i], time, values[i], seq));
    }
    return true;
  }

  /** False for a %LEL value ({@code *_lel}) outside {@link #MIN_LEL}..{@link #MAX_LEL}. */
  private static boolean plausibleValue(String metric, double value) {
    return !metric.endsWith("_lel") || (value >= MIN_LEL && value <= MAX_LEL);
  }

  /** {@code [a-z][a-z0-9_]{0,63}} ({@link #METRIC_NAME}) without a regex matcher. */
  private static boolean validMetric(String m) {
    int len = m.length();
    if (len < 1 || len > 64) return false;
    char c0 = m.charAt(0);
    if (c0 < 'a' || c0 > 'z') return false;
    for (int i = 1; i < len; i++) {
      char c = m.charAt(i);
      if (!(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_')) return false;
    }
    return true;
  }

  /**
   * The tree decoder: every rule and every reason; see the class comment. Package-private so a
   * test can hold the streaming path to the same answers.
   */
  DecodedMessage treeTelemetry(String deviceId, byte[] payload, long receivedAtMillis) {
    List<JsonNode> records;
    try {
      records = records(payload);
    } catch (InvalidPayload e) {
      return DecodedMessage.invalid(e.getMessage());
    }
    List<Reading> readings = new ArrayList<>();
    List<String> rejections = new ArrayList<>();
    int stamps = 0; // records without ts so far: each gets receivedAtMillis + its number (R17)
    long firstSeq = Reading.NO_SEQ;
    for (int i = 0; i < records.size(); i++) {
      String where = records.size() == 1 ? "" : "record " + i + ": ";
      JsonNode record = records.get(i);
      if (!record.isObject()) {
        rejections.add(where + "not a JSON object");
        continue;
      }
      long time;
      long seq;
      JsonNode ts = record.get("ts");
      boolean stamped = ts == null || ts.isNull();
      try {
        time = stamped ? receivedAtMillis + stamps : time(ts, receivedAtMillis);
        seq = seq(record.get("seq"));
      } catch (InvalidPayload e) {
        rejections.add(where + e.getMessage());
        continue;
      }
      JsonNode values = record.get("values");
      if (values == null) {
        rejections.add(where + NO_VALUES);
        continue;
      }
      if (!values.isObject()) {
        rejections.add(where + "\"values\" must be an object of metric name to number");
        continue;
      }
      int before = readings.size();
      Iterator<Map.Entry<String, JsonNode>> fields = values.fields();
      while (fields.hasNext()) {
        Map.Entry<String, JsonNode> field = fields.next();
        String metric = field.getKey();
        JsonNode v = field.getValue();
        if (!METRIC_NAME.matcher(metric).matches()) {
          rejections.add(where + quote(metric) + ": metric name must match [a-z][a-z0-9_]{0,63}");
        } else if (!v.isNumber()) {
          rejections.add(where + metric + ": " + describe(v) + " is not a number");
        } else if (!Double.isFinite(v.doubleValue())) {
          rejections.add(where + metric + ": " + sentNumber(payload, metric, v) + " is not a finite number");
        } else if (!plausibleValue(metric, v.doubleValue())) {
          rejections.add(where + metric + ": " + v.asText() + " %LEL is outside " + (int) MIN_LEL + "-"
              + (int) MAX_LEL + " %LEL, what any gas mixture can read: a sensor or encoding fault, not a reading");
        } else {
          readings.add(new Reading(deviceId, metric, time, v.doubleValue(), seq));
        }
      }
      if (readings.size() > before) {
        stamps += stamped ? 1 : 0;
        firstSeq = firstSeq == Reading.NO_SEQ ? seq : firstSeq;
      }
    }
    if (readings.isEmpty()) {
      return DecodedMessage.invalid(
          rejections.isEmpty() ? "no values in message"
              : rejections.size() == 1 && rejections.get(0).equals(NO_VALUES) ? "no values in message: " + NO_VALUES
                  + ", e.g. {\"values\": {\"gas_lel\": 12.5}}"
              : "no usable value: " + String.join("; ", rejections));
    }
    return new DecodedMessage(readings, List.of(), rejections, null, firstSeq, stamps);
  }

  /**
   * Decodes an events payload.
   *
   * @param deviceId the authenticated device
   * @param payload raw bytes (UTF-8 JSON)
   * @param receivedAtMillis epoch ms, used when a record has no {@code ts}
   * @return events and the rejections; {@link DecodedMessage#invalid()} when nothing is usable
   */
  public DecodedMessage decodeEvents(String deviceId, byte[] payload, long receivedAtMillis) {
    List<JsonNode> records;
    try {
      records = records(payload);
    } catch (InvalidPayload e) {
      return DecodedMessage.invalid(e.getMessage());
    }
    List<DeviceEvent> events = new ArrayList<>();
    List<String> rejections = new ArrayList<>();
    long firstSeq = Reading.NO_SEQ;
    for (int i = 0; i < records.size(); i++) {
      String where = records.size() == 1 ? "" : "record " + i + ": ";
      JsonNode record = records.get(i);
      try {
        if (!record.isObject()) {
          throw new InvalidPayload("not a JSON object");
        }
        JsonNode event = record.get("event");
        if (event == null || !event.isTextual() || !EVENT_NAME.matcher(event.asText()).matches()) {
          throw new InvalidPayload("\"event\" must be a name matching [a-z][a-z0-9_]{0,63}");
        }
        // The event's name is its meaning (a fire!): a bad ts, zone or point costs only that part,
        // kept in the partly_refused dead letter (newcomer7 F24; a panel's gateway firmware is
        // not ours)
        long time;
        try {
          time = time(record.get("ts"), receivedAtMillis);
        } catch (InvalidPayload e) {
          time = receivedAtMillis;
          rejections.add(where + e.getMessage() + "; the event is stored at its receive time");
        }
        Integer zone = eventNumber(record.get("zone"), "zone", where, rejections);
        Integer point = eventNumber(record.get("point"), "point", where, rejections);
        String text = text(record.get("text"));
        if (text != null && text.indexOf('\u0000') >= 0) {
          // NUL-padded fixed-width text is common in panel firmware; PostgreSQL text cannot hold
          // U+0000. The event (a fire!) is stored with U+FFFD there, and the payload is kept as
          // a partly_refused dead letter, so the original text is not lost
          text = text.replace('\u0000', '\uFFFD');
          rejections.add(where + "text: U+0000 stored as U+FFFD (a database text cannot hold U+0000;"
              + " the event is stored, the original text is in this payload)");
        }
        events.add(new DeviceEvent(deviceId, time, event.asText(), zone, point, text));
        if (firstSeq == Reading.NO_SEQ) {
          firstSeq = eventSeq(record.get("seq"));
        }
      } catch (InvalidPayload e) {
        rejections.add(where + e.getMessage());
      }
    }
    if (events.isEmpty()) {
      return DecodedMessage.invalid(
          rejections.isEmpty() ? "no events in message" : "no usable event: " + String.join("; ", rejections));
    }
    return new DecodedMessage(List.of(), events, rejections, null, firstSeq, 0);
  }

  /**
   * An event record's {@code seq} (optional; the model's event has no field for it, it only tells
   * a resend: {@link RecentSeqs}): a non-negative integer, else {@link Reading#NO_SEQ} (not a
   * reason to refuse a fire).
   */
  private static long eventSeq(JsonNode seq) {
    return seq != null && seq.isIntegralNumber() && seq.canConvertToLong() && seq.longValue() >= 0
        ? seq.longValue() : Reading.NO_SEQ;
  }

  private List<JsonNode> records(byte[] payload) throws InvalidPayload {
    if (payload == null || payload.length == 0) {
      throw new InvalidPayload("empty payload");
    }
    int length = jsonLength(payload);
    if (length == 0) {
      throw new InvalidPayload("empty payload (only NUL bytes and white space)");
    }
    JsonNode root;
    try (JsonParser parser = mapper.createParser(payload, 0, length)) {
      root = mapper.readTree(parser);
      if (parser.nextToken() != null) {
        throw new InvalidPayload("trailing data after the JSON value");
      }
    } catch (JsonProcessingException e) {
      throw new InvalidPayload(notJson(e) + location(e));
    } catch (IOException e) {
      throw new InvalidPayload("unreadable payload: " + e.getMessage());
    }
    if (root == null) {
      throw new InvalidPayload("empty payload");
    }
    if (root.isObject()) {
      return List.of(root);
    }
    if (root.isArray()) {
      if (root.isEmpty()) {
        throw new InvalidPayload("empty array");
      }
      if (root.size() > MAX_RECORDS) {
        throw new InvalidPayload("too many records: " + root.size() + " > " + MAX_RECORDS);
      }
      List<JsonNode> list = new ArrayList<>(root.size());
      root.forEach(list::add);
      return list;
    }
    throw new InvalidPayload("expected a JSON object or an array of objects, got " + describe(root));
  }

  private static long time(JsonNode ts, long receivedAtMillis) throws InvalidPayload {
    if (ts == null || ts.isNull()) {
      return receivedAtMillis;
    }
    if (ts.isIntegralNumber() && ts.canConvertToLong()) {
      long ms = ts.longValue();
      if (ms < 0) {
        throw new InvalidPayload("ts: negative epoch milliseconds " + ms);
      }
      if (ms < MIN_EPOCH_MILLIS / 1000) {
        throw new InvalidPayload("ts: " + ms + " is not a time (before 1973-03-03 even in seconds); ts is"
            + " epoch milliseconds (e.g. 1764403200000) or ISO-8601 text");
      }
      if (ms < MIN_EPOCH_MILLIS) {
        throw new InvalidPayload("ts: " + ms + " looks like epoch seconds; ts is epoch milliseconds (e.g. "
            + ms + "000) or ISO-8601 text");
      }
      return notTooLate(ms, String.valueOf(ms), receivedAtMillis);
    }
    if (ts.isTextual() && DIGITS.matcher(ts.asText()).matches()) {
      // epoch milliseconds written as a string, e.g. "1796022000000": the number's rules
      return time(com.fasterxml.jackson.databind.node.LongNode.valueOf(Long.parseLong(ts.asText())), receivedAtMillis);
    }
    if (ts.isTextual()) {
      long ms;
      try {
        ms = isoMillis(ts.asText());
      } catch (DateTimeParseException | ArithmeticException e) {
        throw new InvalidPayload("ts: " + quote(ts.asText()) + " is not a date and time with an offset;"
            + " ts is epoch milliseconds or ISO-8601, e.g. 2026-11-29T08:00:00Z, 2026-11-29T16:00:00+08:00"
            + " (+0800 and a space for the T are read too)");
      }
      if (ms < MIN_EPOCH_MILLIS) {
        throw new InvalidPayload("ts: " + quote(ts.asText()) + " is before 1973-03-03, not a reading's time");
      }
      return notTooLate(ms, quote(ts.asText()), receivedAtMillis);
    }
    throw new InvalidPayload("ts: must be epoch milliseconds or ISO-8601 text, got " + describe(ts));
  }

  /** Within [{@link #MIN_EPOCH_MILLIS}, receive time + {@link #MAX_FUTURE_MILLIS}]: else the tree decoder words the refusal. */
  private static boolean plausible(long ms, long receivedAtMillis) {
    return ms >= MIN_EPOCH_MILLIS && ms - receivedAtMillis <= MAX_FUTURE_MILLIS;
  }

  /** Epoch milliseconds written as a string: 1-18 ASCII digits. */
  private static final Pattern DIGITS = Pattern.compile("[0-9]{1,18}");

  private static long notTooLate(long ms, String shown, long receivedAtMillis) throws InvalidPayload {
    if (ms - receivedAtMillis > MAX_FUTURE_MILLIS) {
      throw new InvalidPayload("ts: " + shown + " is more than 24 h after the gateway's clock ("
          + java.time.Instant.ofEpochMilli(receivedAtMillis) + "): a device clock is wrong");
    }
    return ms;
  }

  private static long seq(JsonNode seq) throws InvalidPayload {
    if (seq == null || seq.isNull()) {
      return Reading.NO_SEQ;
    }
    if (seq.isIntegralNumber() && seq.canConvertToLong() && seq.longValue() >= 0) {
      return seq.longValue();
    }
    throw new InvalidPayload("seq: must be a non-negative integer, got " + describe(seq));
  }

  /**
   * An event's zone or point: a non-negative integer up to 2^31-1, also when written as a number
   * with a zero fraction ({@code 3.0}) or as a numeric string ({@code "3"}, {@code " 03 "}), as
   * protocol converters (GB/T 26875 frame to JSON bridges, Node-RED, Lua cjson) often write it.
   * Anything else ({@code "3a"}, {@code 3.5}, {@code -1}, {@code 4294967296}, an object) has no
   * meaning as a zone: null, and a rejection naming it is added (the event is kept).
   */
  private static Integer eventNumber(JsonNode n, String name, String where, List<String> rejections) {
    if (n == null || n.isNull()) {
      return null;
    }
    try {
      BigDecimal d = n.isNumber() ? n.decimalValue()
          : n.isTextual() && n.asText().length() <= 20 ? new BigDecimal(n.asText().strip())
          : null;
      if (d != null && d.signum() >= 0) {
        return d.intValueExact();
      }
    } catch (NumberFormatException | ArithmeticException e) {
      // not a zone number: below
    }
    rejections.add(where + name + ": " + describe(n) + " is not a " + name
        + " number (a non-negative integer); the event is stored without it");
    return null;
  }

  /**
   * An event's text, at most {@value #MAX_TEXT} characters; a value that is not a string (a
   * number, a boolean, an object) is kept as its JSON text, e.g. {@code 12} as {@code "12"}.
   */
  private static String text(JsonNode n) {
    if (n == null || n.isNull()) {
      return null;
    }
    String s = n.isTextual() ? n.asText() : n.toString();
    return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT);
  }

  /**
   * ISO-8601 date and time with an offset as firmware writes it, beyond {@link
   * OffsetDateTime#parse}'s strict form: the offset also as C's {@code strftime("%z")} writes it
   * ({@code +0800}) or hours only ({@code +08}), upper or lower case {@code T} and {@code Z}. A
   * time without an offset is refused: which zone it means is not known.
   */
  private static final DateTimeFormatter LENIENT_ISO = new DateTimeFormatterBuilder()
      .parseCaseInsensitive()
      .append(DateTimeFormatter.ISO_LOCAL_DATE)
      .appendLiteral('T')
      .append(DateTimeFormatter.ISO_LOCAL_TIME)
      .optionalStart().appendOffset("+HH:MM:ss", "Z").optionalEnd()
      .optionalStart().appendOffset("+HHMMss", "Z").optionalEnd()
      .optionalStart().appendOffset("+HH", "Z").optionalEnd()
      .toFormatter(java.util.Locale.ROOT)
      .withChronology(IsoChronology.INSTANCE)
      .withResolverStyle(ResolverStyle.STRICT);

  /**
   * Epoch ms of an ISO-8601 time with an offset: {@code 2026-11-29T08:00:00Z}, {@code
   * +08:00}, {@code +0800}, {@code +08}, and RFC 3339's space instead of the {@code T} ({@code
   * 2026-11-29 08:00:00+08:00}; newcomer7 F22).
   *
   * @throws DateTimeParseException not such a time
   * @throws ArithmeticException beyond epoch milliseconds
   */
  static long isoMillis(String text) {
    try {
      return OffsetDateTime.parse(text).toInstant().toEpochMilli();
    } catch (DateTimeParseException strict) {
      String t = text.length() > 10 && text.charAt(10) == ' '
          ? text.substring(0, 10) + 'T' + text.substring(11) : text;
      return OffsetDateTime.parse(t, LENIENT_ISO).toInstant().toEpochMilli();
    }
  }

  /**
   * The length of the JSON in {@code payload}: without a run of NUL bytes (and white space
   * around them) at its end, as firmware sends that publishes {@code strlen(buf) + 1} bytes or a
   * whole fixed-size buffer (newcomer7 F23). A payload ending otherwise keeps its length (JSON's
   * own trailing white space is Jackson's to skip). Looks at the last byte only when it is
   * neither NUL nor white space.
   */
  static int jsonLength(byte[] payload) {
    int end = payload.length;
    boolean nul = false;
    while (end > 0) {
      byte b = payload[end - 1];
      if (b == 0) {
        nul = true;
      } else if (b != ' ' && b != '\n' && b != '\r' && b != '\t') {
        break;
      }
      end--;
    }
    return nul ? end : payload.length;
  }

  /** Whether {@code payload} ends in NUL padding {@link #jsonLength} leaves out. */
  static boolean nulPadded(byte[] payload) {
    return payload != null && jsonLength(payload) != payload.length;
  }

  /**
   * The number as the device sent it: {@code 1e999} rather than the {@code Infinity} it reads as
   * (the first non-finite value of {@code metric} in the payload), or the value's text.
   */
  private String sentNumber(byte[] payload, String metric, JsonNode v) {
    if (Double.isInfinite(v.doubleValue())) {
      try (JsonParser p = mapper.getFactory().createParser(payload)) {
        for (JsonToken t; (t = p.nextToken()) != null; ) {
          if (t == JsonToken.VALUE_NUMBER_FLOAT || t == JsonToken.VALUE_NUMBER_INT) {
            if (metric.equals(p.currentName()) && Double.isInfinite(p.getDoubleValue())) {
              return abbreviate(p.getText());
            }
          }
        }
      } catch (IOException | RuntimeException e) {
        // the tree's text then
      }
    }
    return v.asText();
  }

  private static String describe(JsonNode n) {
    if (n.isTextual()) {
      return "the string " + quote(n.asText());
    }
    if (n.isNull()) {
      return "null";
    }
    return n.getNodeType().name().toLowerCase(java.util.Locale.ROOT) + " " + abbreviate(n.toString());
  }

  private static String quote(String s) {
    return "\"" + abbreviate(s) + "\"";
  }

  private static String abbreviate(String s) {
    return s.length() <= 40 ? s : s.substring(0, 40) + "...";
  }

  /**
   * Jackson's message without its internals: the "[Source: REDACTED (`StreamReadFeature...`
   * disabled); " prefix of a nested location and the ", from `StreamReadConstraints...`)" hint of a
   * limit error, which mean nothing to the person reading a dead letter.
   */
  static String plainJacksonText(String message) {
    if (message == null) {
      return "malformed";
    }
    return message
        .replaceAll("\\[Source: [^;\\]]*(; |\\])", "[")
        .replaceAll(", from `[^`]*`\\)", ")");
  }

  private static String location(JsonProcessingException e) {
    return e.getLocation() == null || e.getLocation().getLineNr() < 1
        ? ""
        : " (line " + e.getLocation().getLineNr() + ", column " + e.getLocation().getColumnNr() + ")";
  }

  private static final Pattern UNRECOGNIZED = Pattern.compile("Unrecognized token '(.*)': was expecting.*", Pattern.DOTALL);
  private static final Pattern UNEXPECTED_CHAR =
      Pattern.compile("Unexpected character \\((.+?) \\(code (\\d+)\\)\\)(?:: (?:was )?expect(?:ing|ed) (.*))?", Pattern.DOTALL);
  private static final Pattern DUPLICATE = Pattern.compile("Duplicate (?:Object property|field) \"?'?(.*?)'?\"?", Pattern.DOTALL);
  private static final Pattern CTRL_CHAR = Pattern.compile("Illegal unquoted character \\(\\(CTRL-CHAR, code (\\d+)\\)\\).*", Pattern.DOTALL);
  private static final Pattern CLOSE_MARKER = Pattern.compile("Unexpected close marker '(.)'.*", Pattern.DOTALL);

  /**
   * A reason a person can read for a payload Jackson could not parse (newcomer note D4): what was
   * wrong in plain words, without Jackson's internal wording (its "was expecting (JSON String,
   * Number (or 'NaN'/'+INF'/'-INF'), Array, ...)" suggested NaN was accepted, which it is not).
   * Starts with {@code "not JSON: "} ({@code "ambiguous JSON: "} for a key twice in one object,
   * which RFC 8259 4 allows but leaves undefined); the caller adds the position.
   */
  static String notJson(JsonProcessingException e) {
    String m = plainJacksonText(e.getOriginalMessage()).trim();
    java.util.regex.Matcher x;
    if ((x = DUPLICATE.matcher(m)).matches()) {
      return "ambiguous JSON: the key \"" + abbreviate(x.group(1)) + "\" appears twice in one object";
    }
    if (e instanceof com.fasterxml.jackson.core.exc.StreamConstraintsException) {
      if (m.contains("nesting depth")) {
        return "not JSON this gateway reads: nested deeper than 16 levels";
      }
      if (m.contains("Number value length")) {
        return "not JSON this gateway reads: a number longer than 64 characters";
      }
      return "not JSON this gateway reads: " + abbreviate(m);
    }
    if ((x = UNRECOGNIZED.matcher(m)).matches()) {
      return "not JSON: unexpected word '" + abbreviate(x.group(1))
          + "' (a JSON value is an object, array, string, number, true, false or null)";
    }
    if ((x = UNEXPECTED_CHAR.matcher(m)).matches()) {
      int code = Integer.parseInt(x.group(2));
      String ch = code < 0x20 || code == 0x7F ? String.format("U+%04X", code) : x.group(1);
      return "not JSON: unexpected character " + ch + (x.group(3) == null ? "" : ", expected " + expected(x.group(3)));
    }
    if ((x = CTRL_CHAR.matcher(m)).matches()) {
      return String.format("not JSON: control character U+%04X inside a string (must be escaped)",
          Integer.parseInt(x.group(1)));
    }
    if ((x = CLOSE_MARKER.matcher(m)).matches()) {
      return "not JSON: unexpected '" + x.group(1) + "' (brackets do not match)";
    }
    if (m.startsWith("Unexpected end-of-input")) {
      return "not JSON: the text ends before the JSON value is complete";
    }
    if (m.startsWith("Invalid UTF-8")) {
      return "not JSON: bytes that are not UTF-8 text (" + abbreviate(m) + ")";
    }
    int cut = m.indexOf(": was expecting");
    return "not JSON: " + abbreviate(cut > 0 ? m.substring(0, cut) : m);
  }

  /** Jackson's "was expecting ..." in plain words. */
  private static String expected(String what) {
    String w = what.trim();
    if (w.startsWith("double-quote to start field name")) {
      return "a key in double quotes";
    }
    if (w.startsWith("comma to separate Object entries")) {
      return "',' or '}'";
    }
    if (w.startsWith("comma to separate Array entries")) {
      return "',' or ']'";
    }
    if (w.startsWith("a colon to separate field name and value")) {
      return "':' after the key";
    }
    if (w.startsWith("a valid value") || w.startsWith("(JSON String")) {
      return "a JSON value (object, array, string, number, true, false or null)";
    }
    if (w.startsWith("closing quote")) {
      return "the closing quote";
    }
    int paren = w.indexOf(" (");
    return abbreviate(paren > 0 ? w.substring(0, paren) : w);
  }

  /** A reason a payload or a part of it is refused. */
  private static final class InvalidPayload extends Exception {
    InvalidPayload(String message) {
      super(message, null, false, false);
    }
  }
}
