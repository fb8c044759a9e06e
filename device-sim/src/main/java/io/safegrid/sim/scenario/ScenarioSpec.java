package io.safegrid.sim.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.safegrid.sim.link.Transport;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A scenario file ({@code config/scenario-dongnan.yaml}): start time, duration, speed-up, the
 * transport per device type, signal parameters and the timeline, sorted by minute.
 *
 * @param signals the {@code signals} tree (gas, panel, river), read by {@link Signals}
 */
public record ScenarioSpec(
    String name,
    LocalTime startTime,
    double durationMin,
    double speed,
    int qos,
    Map<String, Transport> transports,
    JsonNode signals,
    List<TimelineEntry> timeline) {

  /**
   * Checks the clock's two numbers, wherever they come from (file, {@code --speed},
   * {@code --duration-min}).
   *
   * @throws IllegalArgumentException on a speed-up that is not a finite number from {@link
   *     #MIN_SPEED} to {@link #MAX_SPEED}, or a duration that is not a finite number from 0 to
   *     {@link #MAX_DURATION_MIN} (a negative one used to run without end, as 0 does; a speed of
   *     1e-300 or a duration of 1e300 minutes ran "for ever" without saying so)
   */
  public ScenarioSpec {
    if (!(speed >= MIN_SPEED && speed <= MAX_SPEED)) {
      throw new IllegalArgumentException("speed must be a number from " + MIN_SPEED + " to " + (long) MAX_SPEED
          + " (simulated seconds per real second), was " + speed);
    }
    if (!(durationMin >= 0 && durationMin <= MAX_DURATION_MIN)) {
      throw new IllegalArgumentException("duration must be a number of simulated minutes from 0 to "
          + (long) MAX_DURATION_MIN + " (0 = until stopped), was " + durationMin);
    }
  }

  /**
   * The slowest clock: one simulated second per 1,000 real seconds. Slower, a scenario's first
   * step alone would take longer than anyone watches; a smaller positive number is a typo.
   */
  public static final double MIN_SPEED = 0.001;

  /** The fastest clock: 100,000 simulated seconds per real second (a day in under a second). */
  public static final double MAX_SPEED = 100_000;

  /** The longest run: 1,000,000 simulated minutes (about 694 days); 0 means until stopped. */
  public static final double MAX_DURATION_MIN = 1_000_000;

  /** The actions that break something (the rest play an incident): what {@code --fault} is for. */
  public static final Set<String> FAULTS =
      Set.of("silence", "reconnect_storm", "backlog_burst", "duplicates", "out_of_order", "clock_skew",
          "garbage", "wrong_secret");

  /** Every action a timeline entry may name. */
  public static final Set<String> ACTIONS =
      Set.of("leak", "fire", "reset", "mains_fault", "mains_restored", "flood", "silence",
          "reconnect_storm", "backlog_burst", "duplicates", "out_of_order", "clock_skew",
          "garbage", "wrong_secret");

  /**
   * Reads and checks a scenario file.
   *
   * @throws IOException unreadable or not YAML
   * @throws IllegalArgumentException with the entry and the reason, e.g. an unknown action
   */
  public static ScenarioSpec read(Path file) throws IOException {
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
    if (root == null || !root.isObject()) {
      throw new IllegalArgumentException(file + ": not a YAML mapping");
    }
    Map<String, Transport> transports = new LinkedHashMap<>();
    transports.put("gas_alarm", Transport.V3);
    transports.put("fire_panel", Transport.V3);
    transports.put("river_gauge", Transport.COAP);
    root.path("transports").fields()
        .forEachRemaining(e -> transports.put(e.getKey(), Transport.parse(e.getValue().asText())));
    List<TimelineEntry> timeline = new ArrayList<>();
    for (JsonNode e : root.path("timeline")) {
      String action = e.path("action").asText(null);
      if (action == null || !ACTIONS.contains(action)) {
        throw new IllegalArgumentException(
            file + ": timeline entry " + e + ": unknown action '" + action + "' (one of " + ACTIONS + ")");
      }
      if (!e.path("at_min").isNumber() || e.path("at_min").asDouble() < 0) {
        throw new IllegalArgumentException(file + ": timeline entry " + e + ": at_min must be a number >= 0");
      }
      String device = e.path("device").asText(null);
      if (device == null && !action.equals("reconnect_storm")) {
        throw new IllegalArgumentException(file + ": timeline entry " + e + ": needs a device");
      }
      timeline.add(new TimelineEntry(e.get("at_min").asDouble(), action, device, e));
    }
    timeline.sort(Comparator.comparingDouble(TimelineEntry::atMin));
    try {
      return new ScenarioSpec(
          root.path("name").asText(file.getFileName().toString()),
          LocalTime.parse(root.path("start_time").asText("10:30")),
          root.path("duration_min").asDouble(120),
          root.path("speed").asDouble(60),
          root.path("qos").asInt(1),
          transports,
          root.has("signals") ? root.get("signals") : JsonNodeFactory.instance.objectNode(),
          List.copyOf(timeline));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * A fault given on the command line: {@code NAME[:DEVICE][@MINUTE]}, e.g. {@code
   * garbage:gas-001@2}; NAME may also be a timeline action ({@code leak}, {@code fire}, ...).
   *
   * @throws IllegalArgumentException on an unknown NAME or a MINUTE that is not a number >= 0
   */
  public static TimelineEntry parseFault(String spec, String defaultDevice) {
    String rest = spec;
    double at = 1;
    int atSign = rest.indexOf('@');
    if (atSign >= 0) {
      String minute = rest.substring(atSign + 1);
      try {
        at = Double.parseDouble(minute);
      } catch (NumberFormatException e) {
        at = Double.NaN;
      }
      if (!(at >= 0) || Double.isInfinite(at)) {
        throw new IllegalArgumentException("--fault " + spec + ": the minute after @ must be a number >= 0, was '"
            + minute + "'");
      }
      rest = rest.substring(0, atSign);
    }
    String device = defaultDevice;
    int colon = rest.indexOf(':');
    if (colon >= 0) {
      device = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
    }
    if (!ACTIONS.contains(rest)) {
      Set<String> incidents = new java.util.TreeSet<>(ACTIONS);
      incidents.removeAll(FAULTS);
      throw new IllegalArgumentException("--fault " + spec + ": unknown fault '" + rest + "' (faults: "
          + new java.util.TreeSet<>(FAULTS) + "; timeline actions: " + incidents + ")");
    }
    ObjectNode params = JsonNodeFactory.instance.objectNode();
    params.put("at_min", at).put("action", rest);
    if (!rest.equals("reconnect_storm")) {
      params.put("device", device);
    }
    return new TimelineEntry(at, rest, rest.equals("reconnect_storm") ? null : device, params);
  }

  /** A copy with more timeline entries (from {@code --fault}), kept sorted. */
  public ScenarioSpec withExtra(List<TimelineEntry> extra) {
    List<TimelineEntry> all = new ArrayList<>(timeline);
    all.addAll(extra);
    all.sort(Comparator.comparingDouble(TimelineEntry::atMin));
    return new ScenarioSpec(name, startTime, durationMin, speed, qos, transports, signals, List.copyOf(all));
  }

  /**
   * A copy with another speed-up factor.
   *
   * @throws IllegalArgumentException when {@code newSpeed} is not a finite number > 0
   */
  public ScenarioSpec withSpeed(double newSpeed) {
    return new ScenarioSpec(name, startTime, durationMin, newSpeed, qos, transports, signals, timeline);
  }

  /** A copy where devices of {@code type} use {@code transport}. */
  public ScenarioSpec withTransport(String type, Transport transport) {
    Map<String, Transport> t = new LinkedHashMap<>(transports);
    t.put(type, transport);
    return new ScenarioSpec(name, startTime, durationMin, speed, qos, Map.copyOf(t), signals, timeline);
  }

  /**
   * A copy with another duration (simulated minutes; 0 = until stopped).
   *
   * @throws IllegalArgumentException when {@code minutes} is negative or not finite
   */
  public ScenarioSpec withDuration(double minutes) {
    return new ScenarioSpec(name, startTime, minutes, speed, qos, transports, signals, timeline);
  }
}
