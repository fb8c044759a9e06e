package io.safegrid.alerting.json;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.safegrid.alerting.ledger.Json;
import java.io.IOException;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;
import java.util.Map;

/**
 * JSON text of the maps the alarm writer thread serialises on the publish-to-alarm path (the
 * outbox's notification payloads, the live feed's {@code event: alarm} frame), written through
 * Jackson's streaming {@link JsonGenerator}: the same text as {@code Json.MAPPER.writeValueAsString}
 * (Jackson's default {@code ObjectMapper}), without its per-call serializer provider and per-value
 * serializer look-ups (docs/performance.md "Round 6: writer thread").
 *
 * <p>Values this class walks itself, each written by the generator's own method: {@code null},
 * {@link String}, {@link Boolean}, {@link Integer}, {@link Long}, {@link Short}, {@link Byte},
 * finite {@link Double}, {@link Map} whose keys are all {@link String}s, {@link List}. Anything
 * else (a {@code Float}, a non-finite double, a {@code BigDecimal}, an {@code Instant}, a map with
 * other keys, a bean) is handed to {@link Json#MAPPER} on the same generator, so the text is
 * Jackson's either way ({@code JsonTextTest} holds the equality). Escaping, number formatting and
 * the nesting limit ({@code StreamWriteConstraints}, 1,000) are Jackson's.
 */
public final class JsonText {
  private static final JsonFactory FACTORY = Json.MAPPER.getFactory();

  private JsonText() {}

  /**
   * The JSON text of {@code value}.
   *
   * @param value a value Jackson can write
   * @param sizeHint the expected length in chars
   * @return compact JSON text, as {@code Json.MAPPER.writeValueAsString(value)}
   * @throws UncheckedIOException when Jackson cannot write the value (e.g. a bean without
   *     properties, nesting deeper than 1,000)
   */
  public static String write(Object value, int sizeHint) {
    return write(Json.MAPPER, value, sizeHint);
  }

  /**
   * The JSON text of {@code value}, as {@code mapper.writeValueAsString(value)}.
   *
   * @param mapper writes what this class does not walk itself (its features apply to those only)
   * @param value a value Jackson can write
   * @param sizeHint the expected length in chars
   * @return compact JSON text
   * @throws UncheckedIOException when Jackson cannot write the value
   */
  public static String write(ObjectMapper mapper, Object value, int sizeHint) {
    StringWriter out = new StringWriter(Math.max(16, sizeHint));
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      write(mapper, g, value);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write JSON of a " + (value == null ? null : value.getClass().getName()), e);
    }
    return out.toString();
  }

  /**
   * A compact generator on {@code out}, configured as {@link Json#MAPPER}'s own.
   *
   * @param out where the text goes
   * @return a generator the caller closes
   * @throws IOException as {@link JsonFactory#createGenerator(Writer)}
   */
  public static JsonGenerator generator(Writer out) throws IOException {
    return FACTORY.createGenerator(out);
  }

  private static void write(ObjectMapper mapper, JsonGenerator g, Object value) throws IOException {
    if (value == null) {
      g.writeNull();
    } else if (value instanceof String s) {
      g.writeString(s);
    } else if (value instanceof Integer || value instanceof Short || value instanceof Byte) {
      g.writeNumber(((Number) value).intValue());
    } else if (value instanceof Long l) {
      g.writeNumber(l.longValue());
    } else if (value instanceof Double d && Double.isFinite(d)) {
      g.writeNumber(d.doubleValue());
    } else if (value instanceof Boolean b) {
      g.writeBoolean(b);
    } else if (value instanceof Map<?, ?> m && stringKeys(m)) {
      g.writeStartObject();
      for (Map.Entry<?, ?> e : m.entrySet()) {
        g.writeFieldName((String) e.getKey());
        write(mapper, g, e.getValue());
      }
      g.writeEndObject();
    } else if (value instanceof List<?> l) {
      g.writeStartArray();
      for (Object o : l) {
        write(mapper, g, o);
      }
      g.writeEndArray();
    } else {
      mapper.writeValue(g, value);
    }
  }

  private static boolean stringKeys(Map<?, ?> m) {
    for (Object k : m.keySet()) {
      if (!(k instanceof String)) {
        return false;
      }
    }
    return true;
  }
}
