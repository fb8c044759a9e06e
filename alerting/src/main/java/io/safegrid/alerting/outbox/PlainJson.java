package io.safegrid.alerting.outbox;

import java.util.List;
import java.util.Map;

/**
 * Compact JSON text of plain values, character for character what Jackson 2's {@code
 * ObjectMapper.writeValueAsString} writes for them with its default features (no indentation, map
 * entries in iteration order, null values kept, only {@code "}, {@code \} and the control
 * characters below U+0020 escaped), without Jackson's serializer look-ups: the outbox payloads of
 * a rule transition and the live feed's {@code event: alarm} frame are written on the alarm
 * writer thread, on the publish-to-alarm path (docs/performance.md "Round 6: writer thread").
 *
 * <p>Plain values: {@code null}, {@link String}, {@link Boolean}, {@link Integer}, {@link Long},
 * {@link Short}, {@link Byte}, finite {@link Double}, {@link Map} with {@code String} keys and
 * {@link List} of plain values. Anything else (a {@code Float}, a non-finite double, a {@code
 * BigDecimal}, an {@code Instant}, a bean, a {@code Set}, a null or non-String key) makes {@link
 * #append} answer false: the caller then writes the value with its Jackson mapper instead, so the
 * text is the same whichever way it was written ({@code PlainJsonTest} holds the equality).
 */
public final class PlainJson {
  /** Jackson's upper-case hex digits of its six-character escapes (backslash, {@code u00}, two digits). */
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  /**
   * Nesting depth at which {@link #append} gives up (Jackson's own limit, {@code
   * StreamWriteConstraints}, is 1,000; anything this deep is not a payload of ours).
   */
  private static final int MAX_DEPTH = 100;

  private PlainJson() {}

  /**
   * Appends {@code value} as JSON text.
   *
   * @param out where to append
   * @param value a plain value (see the class comment)
   * @return true when written; false when {@code value} holds something that is not plain, in
   *     which case {@code out} holds a partial text the caller must discard
   */
  public static boolean append(StringBuilder out, Object value) {
    return append(out, value, 0);
  }

  /**
   * The JSON text of a plain value, or null when it is not plain (see {@link #append}).
   *
   * @param value the value
   * @param sizeHint the expected length in chars (the builder's first capacity)
   */
  public static String write(Object value, int sizeHint) {
    StringBuilder out = new StringBuilder(Math.max(16, sizeHint));
    return append(out, value, 0) ? out.toString() : null;
  }

  private static boolean append(StringBuilder out, Object v, int depth) {
    if (v == null) {
      out.append("null");
    } else if (v instanceof String s) {
      appendString(out, s);
    } else if (v instanceof Integer i) {
      out.append(i.intValue());
    } else if (v instanceof Long l) {
      out.append(l.longValue());
    } else if (v instanceof Double d) {
      if (!Double.isFinite(d)) {
        return false; // Jackson quotes NaN and the infinities: not ours to imitate
      }
      out.append(Double.toString(d)); // what Jackson's writeNumber(double) writes by default
    } else if (v instanceof Boolean b) {
      out.append(b.booleanValue() ? "true" : "false");
    } else if (v instanceof Map<?, ?> m) {
      return depth < MAX_DEPTH && appendMap(out, m, depth + 1);
    } else if (v instanceof List<?> l) {
      return depth < MAX_DEPTH && appendList(out, l, depth + 1);
    } else if (v instanceof Short || v instanceof Byte) {
      out.append(((Number) v).intValue());
    } else {
      return false;
    }
    return true;
  }

  private static boolean appendMap(StringBuilder out, Map<?, ?> m, int depth) {
    out.append('{');
    boolean first = true;
    for (Map.Entry<?, ?> e : m.entrySet()) {
      if (!(e.getKey() instanceof String k)) {
        return false; // Jackson has key serializers of its own for these
      }
      if (!first) {
        out.append(',');
      }
      first = false;
      appendString(out, k);
      out.append(':');
      if (!append(out, e.getValue(), depth)) {
        return false;
      }
    }
    out.append('}');
    return true;
  }

  private static boolean appendList(StringBuilder out, List<?> l, int depth) {
    out.append('[');
    boolean first = true;
    for (Object o : l) {
      if (!first) {
        out.append(',');
      }
      first = false;
      if (!append(out, o, depth)) {
        return false;
      }
    }
    out.append(']');
    return true;
  }

  /**
   * Appends {@code s} as a JSON string: quoted, {@code "} and {@code \} escaped with a backslash,
   * U+0008, U+0009, U+000A, U+000C and U+000D as {@code \b \t \n \f \r}, the other characters
   * below U+0020 as a backslash, {@code u00} and two upper-case hex digits, everything else as it is (non-ASCII included,
   * unpaired surrogates too), as Jackson's {@code CharTypes.get7BitOutputEscapes()} says.
   *
   * @param out where to append
   * @param s the string, not null
   */
  public static void appendString(StringBuilder out, String s) {
    out.append('"');
    int n = s.length();
    int i = 0;
    while (i < n) {
      char c = s.charAt(i);
      if (c < 0x20 || c == '"' || c == '\\') {
        break;
      }
      i++;
    }
    if (i == n) {
      out.append(s).append('"'); // nothing to escape (the usual case): one copy of the whole string
      return;
    }
    for (i = 0; i < n; i++) {
      char c = s.charAt(i);
      if (c >= 0x20 && c != '"' && c != '\\') {
        out.append(c);
        continue;
      }
      switch (c) {
        case '"' -> out.append("\\\"");
        case '\\' -> out.append("\\\\");
        case '\b' -> out.append("\\b");
        case '\t' -> out.append("\\t");
        case '\n' -> out.append("\\n");
        case '\f' -> out.append("\\f");
        case '\r' -> out.append("\\r");
        default -> out.append("\\u00").append(HEX[c >> 4]).append(HEX[c & 0xF]);
      }
    }
    out.append('"');
  }
}
