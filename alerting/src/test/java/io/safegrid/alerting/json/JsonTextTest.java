package io.safegrid.alerting.json;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.alerting.ledger.Json;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * {@link JsonText} writes exactly the text Jackson's {@code ObjectMapper} writes (the ledger's
 * {@link Json#MAPPER}, which wrote outbox payloads and live frames before it), for the values it
 * walks itself and for those it hands to the mapper.
 */
class JsonTextTest {
  private static final ObjectMapper JACKSON = Json.MAPPER;

  @Test
  void everyCharacterIsEscapedAsJacksonEscapesIt() throws Exception {
    // every UTF-16 code unit, unpaired surrogates included, in strings and in map keys
    for (int from = 0; from < 0x10000; from += 512) {
      StringBuilder s = new StringBuilder();
      for (int c = from; c < from + 512; c++) {
        s.append((char) c).append('x');
      }
      String text = s.toString();
      assertSame(text);
      assertSame(Map.of(text, text));
    }
    assertSame("燃气 31.2 %LEL \"quoted\" back\\slash tab\t nl\n cr\r ff\f bs\b nul\0 del\u007f ls\u2028 /slash/");
    assertSame("😀 a pair, and a lone \ud83d high and \ude00 low surrogate");
    assertSame("");
  }

  @Test
  void theValuesOfRuleTransitionsAndNotificationsComeOutAsJacksonWritesThem() throws Exception {
    Map<String, Object> evidence = new LinkedHashMap<>();
    evidence.put("metric", "gas_lel");
    evidence.put("value", 61.5);
    evidence.put("unit", "%LEL");
    evidence.put("reading_time_ms", 1_764_475_262_123L);
    evidence.put("level", "critical");
    evidence.put("previous_level", null);
    evidence.put("setpoint", 50.0);
    evidence.put("hysteresis", 5);
    evidence.put("direction", "above");
    evidence.put("debounce_ms", 0L);
    evidence.put("flags", List.of(true, false));
    evidence.put("nested", Map.of("zone", "B2", "point", (short) 7, "b", (byte) -3, "empty", List.of(), "none", Map.of()));
    assertSame(evidence);
    for (double d : new double[] {0.0, -0.0, 1.0, 60.0, 0.1, 1e-300, 1e300, 1.0e7, 1.0e-3, 9.999999e-4, 123456789.125,
        Double.MIN_VALUE, Double.MAX_VALUE, -31.2, 1.0 / 3}) {
      assertSame(d);
      assertSame(Map.of("v", d));
    }
    for (long l : new long[] {0, -1, Long.MIN_VALUE, Long.MAX_VALUE, Integer.MIN_VALUE, Integer.MAX_VALUE + 1L}) {
      assertSame(l);
    }
    assertSame(Integer.MIN_VALUE);
    assertSame(Map.of());
    assertSame(new ArrayList<>(Arrays.asList(null, "a", 1, 2L, 3.5, Map.of("k", List.of(1)))));
    assertSame(null);
    assertSame(Boolean.TRUE);
  }

  @Test
  void randomNestedMapsComeOutAsJacksonWritesThem() throws Exception {
    Random random = new Random(20261130L);
    for (int i = 0; i < 500; i++) {
      assertSame(randomValue(random, 0));
    }
  }

  @Test
  void whatItDoesNotWalkItselfTheMapperWritesToTheSameText() throws Exception {
    for (Object other : List.of(1.5f, Double.NaN, Double.POSITIVE_INFINITY, new BigDecimal("12.50"),
        new TreeSet<>(List.of("a")), new double[] {1.0}, new TreeMap<>(Map.of(1, "one")))) {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("ok", "first");
      m.put("other", List.of(Map.of("deep", other)));
      assertSame(m);
      assertSame(other);
    }
    Object deep = "leaf";
    for (int i = 0; i < 150; i++) {
      deep = List.of(deep);
    }
    assertSame(deep);
  }

  @Test
  void whatTheMapperCannotWriteFailsAsTheMapperFails() {
    Map<String, Object> nullKey = new HashMap<>();
    nullKey.put(null, 1);
    for (Object bad : List.of(Instant.parse("2026-11-30T04:00:00Z"), new Object(), nullKey)) {
      assertThatThrownBy(() -> JACKSON.writeValueAsString(bad)).isInstanceOf(java.io.IOException.class);
      assertThatThrownBy(() -> JsonText.write(Map.of("v", bad), 16)).isInstanceOf(UncheckedIOException.class);
    }
  }

  private static void assertSame(Object value) throws Exception {
    String expected = JACKSON.writeValueAsString(value);
    assertThat(JsonText.write(value, 8)).isEqualTo(expected);
    assertThat(JsonText.write(JACKSON, value, 8)).isEqualTo(expected);
  }

  private static Object randomValue(Random r, int depth) {
    int kind = r.nextInt(depth > 3 ? 7 : 9);
    return switch (kind) {
      case 0 -> null;
      case 1 -> randomString(r);
      case 2 -> r.nextInt();
      case 3 -> r.nextLong();
      case 4 -> r.nextBoolean() ? r.nextDouble() * 100 : Double.longBitsToDouble(r.nextLong() & 0x7FEF_FFFF_FFFF_FFFFL);
      case 5 -> r.nextBoolean();
      case 6 -> r.nextInt(100) - 50L;
      case 7 -> {
        Map<String, Object> m = r.nextBoolean() ? new LinkedHashMap<>() : new HashMap<>();
        for (int i = r.nextInt(6); i > 0; i--) {
          m.put(randomString(r), randomValue(r, depth + 1));
        }
        yield m;
      }
      default -> {
        List<Object> l = new ArrayList<>();
        for (int i = r.nextInt(5); i > 0; i--) {
          l.add(randomValue(r, depth + 1));
        }
        yield l;
      }
    };
  }

  private static String randomString(Random r) {
    StringBuilder s = new StringBuilder();
    for (int i = r.nextInt(12); i > 0; i--) {
      int pick = r.nextInt(4);
      s.append(switch (pick) {
        case 0 -> (char) r.nextInt(0x80);
        case 1 -> (char) r.nextInt(0x20);
        case 2 -> (char) (0x4E00 + r.nextInt(0x100));
        default -> (char) r.nextInt(0x10000);
      });
    }
    return s.toString();
  }
}
