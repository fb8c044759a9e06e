package io.safegrid.alerting.ledger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.model.Severity;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/** JSON (jsonb columns) for the ledger: evidence, details and alarm snapshots. Internal. */
public final class Json {
  /** Shared, thread-safe mapper. */
  public static final ObjectMapper MAPPER = new ObjectMapper();

  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private Json() {}

  /** A map as JSON text; {@code {}} for null. */
  public static String write(Object value) {
    try {
      return MAPPER.writeValueAsString(value == null ? Map.of() : value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("not representable as JSON: " + e.getOriginalMessage(), e);
    }
  }

  /** JSON object text as a map; empty for null. */
  public static Map<String, Object> readMap(String json) {
    if (json == null || json.isBlank()) {
      return Map.of();
    }
    try {
      return MAPPER.readValue(json, MAP);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("bad JSON in database: " + e.getOriginalMessage(), e);
    }
  }

  /**
   * JSON object text as a map the way a {@code jsonb} column gives it back: keys of every nested
   * object in jsonb's order (shorter keys first, then by bytes), numbers as Jackson reads them.
   * Events handed to listeners straight after commit go through this, so they equal what {@code
   * eventsAfter} reads from the database.
   */
  public static Map<String, Object> readStored(String json) {
    return jsonbOrder(readMap(json));
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> jsonbOrder(Map<String, Object> m) {
    java.util.List<String> keys = new java.util.ArrayList<>(m.keySet());
    keys.sort(JSONB_KEY_ORDER);
    Map<String, Object> out = new LinkedHashMap<>(Math.max(4, keys.size() * 2));
    for (String k : keys) {
      out.put(k, jsonbValue(m.get(k)));
    }
    return out;
  }

  @SuppressWarnings("unchecked")
  private static Object jsonbValue(Object v) {
    if (v instanceof Map<?, ?> mm) {
      return jsonbOrder((Map<String, Object>) mm);
    }
    if (v instanceof java.util.List<?> l) {
      java.util.List<Object> out = new java.util.ArrayList<>(l.size());
      for (Object o : l) {
        out.add(jsonbValue(o));
      }
      return out;
    }
    return v;
  }

  /**
   * jsonb's object key order: length in UTF-8 bytes, then the bytes (PostgreSQL {@code
   * jsonb.c}, {@code lengthCompareJsonbString}). Keys of ASCII characters only (all keys the
   * ledger writes) are compared char by char without encoding them.
   */
  static final java.util.Comparator<String> JSONB_KEY_ORDER = (a, b) -> {
    if (isAscii(a) && isAscii(b)) {
      if (a.length() != b.length()) {
        return Integer.compare(a.length(), b.length());
      }
      return a.compareTo(b); // ASCII: char order is byte order
    }
    byte[] x = a.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    byte[] y = b.getBytes(java.nio.charset.StandardCharsets.UTF_8);
    if (x.length != y.length) {
      return Integer.compare(x.length, y.length);
    }
    return java.util.Arrays.compareUnsigned(x, y);
  };

  private static boolean isAscii(String s) {
    for (int i = 0, n = s.length(); i < n; i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }

  /**
   * The map as {@link #readStored readStored}({@link #write write}(map)) gives it, built without
   * writing and parsing JSON text: keys of every nested object in jsonb's order, and each value as
   * Jackson reads its JSON back: {@code Integer}, and {@code Long} in the int range, as {@code
   * Integer}; other {@code Long} as {@code Long}; {@code Short} and {@code Byte} as {@code Integer};
   * finite {@code Double} unchanged; {@code String}, {@code Boolean} and null unchanged; lists as
   * {@code ArrayList}s of such values. Anything else (a {@code Float}, a non-finite double, {@code
   * BigDecimal}, an array, a map with non-{@code String} keys, a bean) goes through the text round
   * trip, so the result always equals {@code readStored(write(map))}. Events handed to listeners
   * straight after commit use it ({@code JsonStoredFormTest} holds the equality).
   *
   * @param map the map, or null (gives an empty map)
   * @throws IllegalArgumentException when a value is not representable as JSON
   */
  public static Map<String, Object> stored(Map<String, ?> map) {
    if (map == null) {
      return readStored(write(null));
    }
    Object v = storedValue(map);
    if (v == NOT_SIMPLE) {
      return readStored(write(map));
    }
    @SuppressWarnings("unchecked")
    Map<String, Object> m = (Map<String, Object>) v;
    return m;
  }

  /** Marks a value {@link #storedValue} does not build itself. */
  private static final Object NOT_SIMPLE = new Object();

  /** A value as Jackson reads its JSON back, or {@link #NOT_SIMPLE}. */
  private static Object storedValue(Object v) {
    if (v == null || v instanceof String || v instanceof Boolean || v instanceof Integer) {
      return v;
    }
    if (v instanceof Double d) {
      return Double.isFinite(d) ? d : NOT_SIMPLE; // NaN and infinities: as Jackson's features say
    }
    if (v instanceof Long l) {
      return l == (int) (long) l ? (Object) Integer.valueOf((int) (long) l) : l;
    }
    if (v instanceof Short || v instanceof Byte) {
      return Integer.valueOf(((Number) v).intValue());
    }
    if (v instanceof Map<?, ?> m) {
      String[] keys = new String[m.size()];
      int i = 0;
      for (Object k : m.keySet()) {
        if (!(k instanceof String s)) {
          return NOT_SIMPLE;
        }
        keys[i++] = s;
      }
      if (i != keys.length) {
        return NOT_SIMPLE; // changed while read
      }
      java.util.Arrays.sort(keys, JSONB_KEY_ORDER);
      Map<String, Object> out = new LinkedHashMap<>(Math.max(4, keys.length * 2));
      for (String k : keys) {
        Object sv = storedValue(m.get(k));
        if (sv == NOT_SIMPLE) {
          return NOT_SIMPLE;
        }
        out.put(k, sv);
      }
      return out;
    }
    if (v instanceof java.util.List<?> l) {
      java.util.List<Object> out = new java.util.ArrayList<>(l.size());
      for (Object o : l) {
        Object sv = storedValue(o);
        if (sv == NOT_SIMPLE) {
          return NOT_SIMPLE;
        }
        out.add(sv);
      }
      return out;
    }
    return NOT_SIMPLE;
  }

  /**
   * The alarm as {@link #alarmFromMap alarmFromMap}({@link #readStored readStored}({@link #write
   * write}({@link #alarmToMap alarmToMap}(a)))) gives it, i.e. as an event's {@code alarm} column
   * reads back: the same alarm with its evidence in {@link #stored stored} form (instants survive
   * their ISO-8601 text unchanged; null evidence becomes {@code Map.of()}).
   */
  public static Alarm storedAlarm(Alarm a) {
    return new Alarm(a.id(), a.deviceId(), a.ruleId(), a.severity(), a.state(), a.count(), a.message(),
        a.evidence() == null ? Map.of() : stored(a.evidence()), a.raisedAt(), a.updatedAt(), a.acknowledgedBy(), a.acknowledgedAt(),
        a.clearedAt(), a.closedAt(), a.closeNote());
  }

  /** The alarm as a JSON-ready map (instants as ISO-8601 text, enums by wire name). */
  public static Map<String, Object> alarmToMap(Alarm a) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("id", a.id());
    m.put("deviceId", a.deviceId());
    m.put("ruleId", a.ruleId());
    m.put("severity", a.severity().wireName());
    m.put("state", a.state().wireName());
    m.put("count", a.count());
    m.put("message", a.message());
    m.put("evidence", a.evidence());
    m.put("raisedAt", str(a.raisedAt()));
    m.put("updatedAt", str(a.updatedAt()));
    m.put("acknowledgedBy", a.acknowledgedBy());
    m.put("acknowledgedAt", str(a.acknowledgedAt()));
    m.put("clearedAt", str(a.clearedAt()));
    m.put("closedAt", str(a.closedAt()));
    m.put("closeNote", a.closeNote());
    return m;
  }

  /** Inverse of {@link #alarmToMap}. */
  @SuppressWarnings("unchecked")
  public static Alarm alarmFromMap(Map<String, Object> m) {
    Object ev = m.get("evidence");
    return new Alarm(
        ((Number) m.get("id")).longValue(),
        (String) m.get("deviceId"),
        (String) m.get("ruleId"),
        Severity.valueOf(((String) m.get("severity")).toUpperCase(java.util.Locale.ROOT)),
        AlarmState.fromWireName((String) m.get("state")),
        ((Number) m.get("count")).intValue(),
        (String) m.get("message"),
        ev instanceof Map ? (Map<String, Object>) ev : Map.of(),
        inst(m.get("raisedAt")),
        inst(m.get("updatedAt")),
        (String) m.get("acknowledgedBy"),
        inst(m.get("acknowledgedAt")),
        inst(m.get("clearedAt")),
        inst(m.get("closedAt")),
        (String) m.get("closeNote"));
  }

  private static String str(Instant i) {
    return i == null ? null : i.toString();
  }

  private static Instant inst(Object o) {
    return o == null ? null : Instant.parse((String) o);
  }
}
