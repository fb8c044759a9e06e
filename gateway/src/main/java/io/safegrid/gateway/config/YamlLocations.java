package io.safegrid.gateway.config;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;

/**
 * Where each value of a YAML document starts: JSON pointer (e.g. {@code /devices/4/type}) to
 * 1-based line. Built by one streaming pass, so that errors found after mapping (a duplicate id,
 * a place that does not exist) can still name the line.
 */
final class YamlLocations {

  private final Map<String, Integer> lines;

  private YamlLocations(Map<String, Integer> lines) {
    this.lines = lines;
  }

  /**
   * Indexes a document. A document that does not parse gives a partial index (the caller reports
   * the parse error itself).
   */
  static YamlLocations index(String yaml) {
    Map<String, Integer> lines = new HashMap<>();
    try (JsonParser p = new YAMLFactory().createParser(yaml)) {
      JsonToken t;
      while ((t = p.nextToken()) != null) {
        JsonStreamContext ctx = p.getParsingContext();
        if (t == JsonToken.START_OBJECT || t == JsonToken.START_ARRAY) {
          ctx = ctx.getParent();
        }
        if (ctx == null || t == JsonToken.END_OBJECT || t == JsonToken.END_ARRAY) {
          continue;
        }
        String pointer = ctx.pathAsPointer().toString();
        lines.putIfAbsent(pointer, p.currentTokenLocation().getLineNr());
      }
    } catch (IOException | RuntimeException e) {
      // partial index: the loader reports the parse error with the parser's own location
    }
    return new YamlLocations(lines);
  }

  /**
   * The line of the value at {@code pointer}, or of its nearest ancestor present in the document
   * (for a missing field: its parent object); 0 when none.
   */
  int line(String pointer) {
    String p = pointer;
    while (true) {
      Integer l = lines.get(p);
      if (l != null) {
        return l;
      }
      if (p.isEmpty()) {
        return 0;
      }
      int slash = p.lastIndexOf('/');
      p = slash <= 0 ? "" : p.substring(0, slash);
    }
  }

  /** {@code /devices/4/place/compound} as {@code devices[4].place.compound}. */
  static String fieldName(String pointer) {
    StringBuilder sb = new StringBuilder();
    for (String seg : pointer.split("/")) {
      if (seg.isEmpty()) {
        continue;
      }
      seg = seg.replace("~1", "/").replace("~0", "~");
      if (seg.chars().allMatch(Character::isDigit)) {
        sb.append('[').append(seg).append(']');
      } else {
        if (sb.length() > 0) {
          sb.append('.');
        }
        sb.append(seg);
      }
    }
    return sb.toString();
  }
}
