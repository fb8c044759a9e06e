package io.safegrid.alerting.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.Severity;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/**
 * {@link Json#stored} and {@link Json#storedAlarm} give exactly what the text round trip they
 * replace gave ({@code readStored(write(map))}, {@code alarmFromMap(readStored(write(alarmToMap(a))))}):
 * same values, same Java types (Integer vs Long vs Double), same key order at every depth.
 */
class JsonStoredFormTest {

  @Test
  void everyShapeTheRulesAndTheLedgerWriteComesOutAsTheRoundTripGaveIt() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("zone", "B2");
    nested.put("point", 17);
    nested.put("a", List.of(1, 2L, 3.5, "x"));
    Map<String, Object> m = new HashMap<>();
    m.put("gas_lel", 31.2);
    m.put("threshold", 25);
    m.put("threshold_long", 25L);
    m.put("reading_time_ms", 1_764_403_200_000L);
    m.put("min_long", Long.MIN_VALUE);
    m.put("int_edge", (long) Integer.MAX_VALUE);
    m.put("int_edge_plus", (long) Integer.MAX_VALUE + 1);
    m.put("whole_double", 60.0);
    m.put("negative_zero", -0.0);
    m.put("tiny", 1e-300);
    m.put("short", (short) 7);
    m.put("byte", (byte) -3);
    m.put("flag", true);
    m.put("nothing", null);
    m.put("eventTime", Instant.parse("2026-11-29T08:00:00.123456Z").toString());
    m.put("nested", nested);
    m.put("list", new ArrayList<>(List.of(Map.of("k2", 1, "k", 2), List.of())));
    m.put("燃气", "城南"); // non-ASCII key: jsonb orders by UTF-8 bytes
    m.put("é", 1);
    m.put("zz", 2);
    m.put("", "empty key");
    assertSameAsRoundTrip(m);
  }

  @Test
  void valuesItDoesNotBuildItselfStillComeOutAsTheRoundTripGaveThem() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("float", 1.1f);
    m.put("nan", Double.NaN);
    m.put("inf", Double.NEGATIVE_INFINITY);
    m.put("big_decimal", new BigDecimal("12.50"));
    m.put("big_integer", new BigInteger("123456789012345678901234567890"));
    m.put("array", new double[] {1.0, 2.5});
    m.put("set", new java.util.TreeSet<>(List.of("b", "a")));
    m.put("non_string_keys", new TreeMap<>(Map.of(2, "two", 1, "one")));
    assertSameAsRoundTrip(m);
    assertSameAsRoundTrip(Map.of("only_float", 0.1f));
  }

  @Test
  void nullAndEmptyGiveAnEmptyMap() {
    assertThat(Json.stored(null)).isEqualTo(Json.readStored(Json.write(null))).isEmpty();
    assertSameAsRoundTrip(Map.of());
  }

  @Test
  void anAlarmSnapshotIsWhatItsJsonTextReadBackGave() {
    Map<String, Object> evidence = new HashMap<>(Map.of("gas_lel", 60.0, "threshold", 50, "reading_time_ms",
        1_764_403_200_123L, "zone", Map.of("id", 3, "name", "kitchen")));
    Instant t = Instant.parse("2026-11-29T08:00:00.123456Z");
    for (Alarm a : List.of(
        new Alarm(42L, "gas-017", "gas-lel-threshold", Severity.CRITICAL, AlarmState.ACTIVE_UNACKED, 1,
            "60.0 %LEL", evidence, t, t, null, null, null, null, null),
        new Alarm(Long.MAX_VALUE, "fire-1", "fire-alarm", Severity.MAJOR, AlarmState.CLOSED, 3, null,
            null, t, t.plusNanos(1_000), "officer", t, t.plusSeconds(1), t.plusSeconds(2), "false alarm"))) {
      Alarm roundTrip = Json.alarmFromMap(Json.readStored(Json.write(Json.alarmToMap(a))));
      Alarm stored = Json.storedAlarm(a);
      assertThat(stored).isEqualTo(roundTrip);
      assertThat(describe(stored.evidence())).isEqualTo(describe(roundTrip.evidence()));
    }
  }

  @Test
  void keysAreInJsonbOrderShorterFirstThenByUtf8Bytes() {
    Map<String, Object> m = new LinkedHashMap<>();
    for (String k : List.of("zz", "b", "aaa", "a", "é", "燃", "Z", "ab")) {
      m.put(k, 1);
    }
    // "é" is 2 bytes, "燃" is 3: they sort among the 2- and 3-byte keys
    assertThat(Json.stored(m).keySet()).containsExactly("Z", "a", "b", "ab", "zz", "é", "aaa", "燃");
  }

  private static void assertSameAsRoundTrip(Map<String, ?> m) {
    Map<String, Object> expected = Json.readStored(Json.write(m));
    Map<String, Object> actual = Json.stored(m);
    assertThat(actual).isEqualTo(expected);
    assertThat(describe(actual)).isEqualTo(describe(expected));
  }

  /** Values with their Java types and maps in iteration order, so order and types are compared too. */
  private static String describe(Object v) {
    if (v instanceof Map<?, ?> m) {
      StringBuilder b = new StringBuilder(m.getClass().getSimpleName()).append('{');
      m.forEach((k, x) -> b.append(k).append('=').append(describe(x)).append(','));
      return b.append('}').toString();
    }
    if (v instanceof List<?> l) {
      StringBuilder b = new StringBuilder(l.getClass().getSimpleName()).append('[');
      l.forEach(x -> b.append(describe(x)).append(','));
      return b.append(']').toString();
    }
    if (v instanceof double[] d) {
      return Arrays.toString(d);
    }
    return v == null ? "null" : v.getClass().getSimpleName() + ":" + v;
  }
}
