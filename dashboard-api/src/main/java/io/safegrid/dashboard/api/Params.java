package io.safegrid.dashboard.api;

import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.dashboard.http.ApiException;
import io.safegrid.model.DeviceType;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Parses and checks request parameters; every problem is a 400 {@link ApiException} whose detail
 * names the parameter, what was given and what is expected.
 */
public final class Params {
  /** The contract's device id: {@code [a-z0-9][a-z0-9-]{0,63}}. */
  public static final Pattern DEVICE_ID = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

  private static final Pattern METRIC = Pattern.compile("[a-z][a-z0-9_]{0,63}");
  private static final Pattern SHORT_DURATION = Pattern.compile("(\\d{1,9})(ms|s|m|h|d)");

  private Params() {}

  /**
   * @throws ApiException 400 when the id does not match the contract's pattern
   */
  public static String checkDeviceId(String id, String param) {
    if (id == null || !DEVICE_ID.matcher(id).matches()) {
      throw ApiException.badRequest(
          "bad_device_id",
          param + ": '" + id + "' is not a device id (expected [a-z0-9][a-z0-9-]{0,63})");
    }
    return id;
  }

  /**
   * @throws ApiException 400 unless a metric name such as {@code gas_lel}
   */
  public static String checkMetric(String metric) {
    if (!METRIC.matcher(metric).matches()) {
      throw ApiException.badRequest(
          "bad_metric",
          "metric: '" + metric + "' is not a metric name (expected e.g. gas_lel, level_m)");
    }
    return metric;
  }

  /**
   * @throws ApiException 400 unless a positive decimal alarm id
   */
  public static long alarmId(String raw) {
    try {
      long id = Long.parseLong(raw);
      if (id > 0) {
        return id;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ApiException.badRequest(
        "bad_alarm_id", "alarm id must be a positive integer, got '" + raw + "'");
  }

  /**
   * A time given as epoch milliseconds ({@code 1764403200000}) or ISO-8601 with offset ({@code
   * 2026-11-29T08:00:00Z}, {@code 2026-11-29T16:00:00+08:00}).
   *
   * @return the default when raw is null or blank
   * @throws ApiException 400 for anything else
   */
  public static Instant time(String raw, String param, Instant dflt) {
    if (raw == null || raw.isBlank()) {
      return dflt;
    }
    String s = raw.trim();
    if (s.chars().allMatch(Character::isDigit) && s.length() <= 15) {
      return Instant.ofEpochMilli(Long.parseLong(s));
    }
    try {
      return OffsetDateTime.parse(s).toInstant();
    } catch (DateTimeParseException e) {
      throw ApiException.badRequest(
          "bad_time",
          param
              + ": '"
              + raw
              + "' is not a time (expected epoch milliseconds or ISO-8601 with offset,"
              + " e.g. 2026-11-29T08:00:00Z)");
    }
  }

  /**
   * A bucket width: ISO-8601 duration ({@code PT5M}) or short form {@code 30s}, {@code 1m},
   * {@code 5m}, {@code 1h}, {@code 1d}.
   *
   * @return null when raw is null or blank (no bucketing)
   * @throws ApiException 400 for anything else or a width below one second
   */
  public static Duration bucket(String raw) {
    if (raw == null || raw.isBlank()) {
      return null;
    }
    String s = raw.trim();
    Duration d;
    Matcher m = SHORT_DURATION.matcher(s);
    if (m.matches()) {
      long n = Long.parseLong(m.group(1));
      d =
          switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
          };
    } else {
      try {
        d = Duration.parse(s.toUpperCase(Locale.ROOT));
      } catch (DateTimeParseException e) {
        throw ApiException.badRequest(
            "bad_bucket",
            "bucket: '" + raw + "' is not a duration (expected e.g. 1m, 5m, 1h or PT5M)");
      }
    }
    if (d.compareTo(Duration.ofSeconds(1)) < 0) {
      throw ApiException.badRequest(
          "bad_bucket", "bucket: '" + raw + "' is below the smallest bucket of 1s");
    }
    return d;
  }

  /**
   * An integer within bounds.
   *
   * @throws ApiException 400 when not an integer or out of bounds
   */
  public static int intParam(String raw, String param, int dflt, int min, int max) {
    if (raw == null || raw.isBlank()) {
      return dflt;
    }
    try {
      int v = Integer.parseInt(raw.trim());
      if (v >= min && v <= max) {
        return v;
      }
    } catch (NumberFormatException e) {
      // fall through
    }
    throw ApiException.badRequest(
        "bad_" + param, param + " must be an integer from " + min + " to " + max + ", got '" + raw + "'");
  }

  /**
   * Alarm states, comma-separated wire names ({@code active_unacked,active_acked}); {@code open}
   * means every state but closed; empty means all.
   *
   * @throws ApiException 400 for an unknown state
   */
  public static Set<AlarmState> states(String raw) {
    Set<AlarmState> out = EnumSet.noneOf(AlarmState.class);
    if (raw == null || raw.isBlank()) {
      return out;
    }
    for (String s : raw.split(",")) {
      String name = s.trim();
      if (name.isEmpty()) {
        continue;
      }
      if (name.equals("open")) {
        out.addAll(EnumSet.complementOf(EnumSet.of(AlarmState.CLOSED)));
        continue;
      }
      try {
        out.add(AlarmState.fromWireName(name));
      } catch (IllegalArgumentException e) {
        throw ApiException.badRequest(
            "bad_state",
            "state: '"
                + name
                + "' is not an alarm state (expected open, active_unacked, active_acked,"
                + " cleared_unacked, cleared_acked or closed)");
      }
      if (!name.equals(name.toLowerCase(Locale.ROOT))) {
        throw ApiException.badRequest("bad_state", "state names are lower case: " + name);
      }
    }
    return out;
  }

  /**
   * A {@code ?type=} filter: a device type's wire name ({@code gas_alarm}, {@code fire_panel},
   * {@code river_gauge}; {@link DeviceType#fromWireName}).
   *
   * @throws ApiException 400 {@code bad_type}, naming the allowed values
   */
  public static String deviceType(String raw) {
    try {
      DeviceType.fromWireName(raw);
      return raw;
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest(
          "bad_type",
          "type: '" + raw + "' is not a device type (expected "
              + Arrays.stream(DeviceType.values()).map(DeviceType::wireName).collect(Collectors.joining(", "))
              + ")");
    }
  }

  /**
   * A grid filter ({@code ?community=}, {@code compound}, {@code building}): any text but U+0000,
   * which no stored name holds and PostgreSQL cannot take as a parameter.
   *
   * @throws ApiException 400 {@code bad_filter}
   */
  public static String checkFilter(String raw, String param) {
    if (raw.indexOf('\u0000') >= 0) {
      throw ApiException.badRequest("bad_filter", param + ": must not contain U+0000");
    }
    return raw;
  }

  /**
   * A duration in plain words for messages: {@code 9830.3 days}, {@code 2.5 h}, {@code 15 min},
   * {@code 0.5 s}, not Java's {@code PT235924H8M13.27S}.
   */
  public static String plain(Duration d) {
    long ms = d.toMillis();
    if (ms >= 86_400_000L) {
      return trim(ms / 86_400_000.0) + " days";
    }
    if (ms >= 3_600_000L) {
      return trim(ms / 3_600_000.0) + " h";
    }
    if (ms >= 60_000L) {
      return trim(ms / 60_000.0) + " min";
    }
    return trim(ms / 1_000.0) + " s";
  }

  /** One decimal, without a trailing {@code .0}. */
  private static String trim(double v) {
    String s = String.format(Locale.ROOT, "%.1f", v);
    return s.endsWith(".0") ? s.substring(0, s.length() - 2) : s;
  }
}
