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
    double speed = root.path("speed").asDouble(60);
    if (speed <= 0) {
      throw new IllegalArgumentException(file + ": speed must be > 0");
    }
    return new ScenarioSpec(
        root.path("name").asText(file.getFileName().toString()),
        LocalTime.parse(root.path("start_time").asText("10:30")),
        root.path("duration_min").asDouble(120),
        speed,
        root.path("qos").asInt(1),
        transports,
        root.has("signals") ? root.get("signals") : JsonNodeFactory.instance.objectNode(),
        List.copyOf(timeline));
  }

  /** A fault given on the command line: {@code NAME[:DEVICE][@MINUTE]}, e.g. {@code garbage:gas-001@2}. */
  public static TimelineEntry parseFault(String spec, String defaultDevice) {
    String rest = spec;
    double at = 1;
    int atSign = rest.indexOf('@');
    if (atSign >= 0) {
      at = Double.parseDouble(rest.substring(atSign + 1));
      rest = rest.substring(0, atSign);
    }
    String device = defaultDevice;
    int colon = rest.indexOf(':');
    if (colon >= 0) {
      device = rest.substring(colon + 1);
      rest = rest.substring(0, colon);
    }
    if (!ACTIONS.contains(rest)) {
      throw new IllegalArgumentException("unknown fault '" + rest + "' (one of " + ACTIONS + ")");
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

  /** A copy with another speed-up factor. */
  public ScenarioSpec withSpeed(double newSpeed) {
    if (newSpeed <= 0) {
      throw new IllegalArgumentException("speed must be > 0");
    }
    return new ScenarioSpec(name, startTime, durationMin, newSpeed, qos, transports, signals, timeline);
  }

  /** A copy where devices of {@code type} use {@code transport}. */
  public ScenarioSpec withTransport(String type, Transport transport) {
    Map<String, Transport> t = new LinkedHashMap<>(transports);
    t.put(type, transport);
    return new ScenarioSpec(name, startTime, durationMin, speed, qos, Map.copyOf(t), signals, timeline);
  }

  /** A copy with another duration (simulated minutes; 0 = until stopped). */
  public ScenarioSpec withDuration(double minutes) {
    return new ScenarioSpec(name, startTime, minutes, speed, qos, transports, signals, timeline);
  }
}
