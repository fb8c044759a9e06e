package io.safegrid.rules.combination;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.rules.TransitionSink;
import io.safegrid.rules.config.DevicePlace;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Watches the transitions of all devices and raises or clears {@link CombinationRule} alarms.
 * Thread-safe (one lock; it sees only transitions, which are rare) and shared by all shards.
 *
 * <p>The combined alarm is filed on one device of the pair: for fire and gas on the fire panel,
 * for two gas alarms on the one that came first (the ledger keeps one open alarm per device and
 * rule; this detector keeps at most one per rule and place).
 * Its evidence names the place and both devices.
 */
public final class CombinationDetector {

  /**
   * One contributing alarm: raised at {@code timeMillis} (event time, epoch ms), cleared at {@code
   * clearedMillis} ({@link Long#MAX_VALUE} while open).
   */
  private record Contribution(String deviceId, String ruleId, long timeMillis, long clearedMillis) {
    Contribution(String deviceId, String ruleId, long timeMillis) {
      this(deviceId, ruleId, timeMillis, Long.MAX_VALUE);
    }
  }

  private static final class Group {
    final Map<String, Contribution> open = new LinkedHashMap<>();
    /** Alarms cleared within the window of the group's newest transition (they may still pair). */
    final Map<String, Contribution> cleared = new LinkedHashMap<>();
    String combinedDevice; // non-null while the combined alarm is open
  }

  private final List<CombinationRule> rules;
  private final Function<String, DevicePlace> places;
  private final TransitionSink out;
  private final Map<String, Group> groups = new HashMap<>();

  /**
   * @param rules the combination rules
   * @param places a device's place (never null; {@link DevicePlace#NOWHERE} when unknown)
   * @param out where combined transitions go
   */
  public CombinationDetector(List<CombinationRule> rules, Function<String, DevicePlace> places,
      TransitionSink out) {
    this.rules = List.copyOf(rules);
    this.places = Objects.requireNonNull(places);
    this.out = Objects.requireNonNull(out);
  }

  /** Whether a transition of this rule id can matter here (cheap, lock-free). */
  public boolean interestedIn(String ruleId) {
    for (CombinationRule r : rules) {
      if (r.involves(ruleId)) {
        return true;
      }
    }
    return false;
  }

  /** Feeds one transition of any device (combined ones are ignored). */
  public synchronized void onTransition(AlarmTransition t) {
    for (CombinationRule r : rules) {
      if (!r.involves(t.ruleId())) {
        continue;
      }
      String key = places.apply(t.deviceId()).key(r.scope());
      if (key == null) {
        continue;
      }
      String gk = r.ruleId() + "@" + key;
      Group g = groups.computeIfAbsent(gk, k -> new Group());
      String ck = t.deviceId() + "|" + t.ruleId();
      if (t.kind() == Kind.RAISE) {
        Contribution c = new Contribution(t.deviceId(), t.ruleId(), t.timeMillis());
        g.open.put(ck, c);
        g.cleared.remove(ck);
        if (g.combinedDevice == null) {
          Contribution other = partner(r, g, c, true);
          if (other != null) {
            Contribution anchor = anchor(r, c, other);
            Contribution partner = anchor == other ? c : other;
            g.combinedDevice = anchor.deviceId();
            out.accept(transition(r, key, Kind.RAISE, anchor, partner, t.timeMillis()));
          }
        }
      } else if (t.kind() == Kind.CLEAR) {
        Contribution was = g.open.remove(ck);
        if (was != null) {
          g.cleared.put(ck, new Contribution(was.deviceId(), was.ruleId(), was.timeMillis(),
              t.timeMillis()));
        }
        if (g.combinedDevice != null && !anyPair(r, g)) {
          Contribution gone = new Contribution(t.deviceId(), t.ruleId(), t.timeMillis());
          String dev = g.combinedDevice;
          g.combinedDevice = null;
          out.accept(transition(r, key, Kind.CLEAR,
              new Contribution(dev, r.ruleId(), t.timeMillis()), gone, t.timeMillis()));
        }
      }
      // a cleared alarm pairs for one window after its clear, then it is forgotten
      g.cleared.values().removeIf(o -> o.clearedMillis() < t.timeMillis() - r.windowMillis());
      if (g.open.isEmpty() && g.combinedDevice == null && g.cleared.isEmpty()) {
        groups.remove(gk);
      }
    }
  }

  /**
   * Restart: an alarm open in the ledger. Contributing alarms are remembered (no transition);
   * an open combined alarm (rule id of a combination) is marked open for its device's place.
   */
  public synchronized void restoreOpen(String deviceId, String ruleId, long sinceMillis) {
    for (CombinationRule r : rules) {
      boolean combined = r.ruleId().equals(ruleId);
      if (!combined && !r.involves(ruleId)) {
        continue;
      }
      String key = places.apply(deviceId).key(r.scope());
      if (key == null) {
        continue;
      }
      Group g = groups.computeIfAbsent(r.ruleId() + "@" + key, k -> new Group());
      if (combined) {
        g.combinedDevice = deviceId;
      } else {
        g.open.put(deviceId + "|" + ruleId, new Contribution(deviceId, ruleId, sinceMillis));
      }
    }
  }

  /** Number of combined alarms open now. */
  public synchronized int openCombined() {
    int n = 0;
    for (Group g : groups.values()) {
      if (g.combinedDevice != null) {
        n++;
      }
    }
    return n;
  }

  /**
   * The device the combined alarm is filed on: for two sides of different rules (fire and gas) the
   * one of the first side (the fire panel, so fire responders are routed); for a pair of like
   * alarms the earlier one.
   */
  private static Contribution anchor(CombinationRule r, Contribution c, Contribution other) {
    if (!r.first().equals(r.second())) {
      return r.first().contains(c.ruleId()) ? c : other;
    }
    return other.timeMillis() <= c.timeMillis() ? other : c;
  }

  /**
   * The partner of {@code c} in the group: an alarm of the other side on another device, the
   * earliest raised, an open one before a cleared one. Every open one pairs (a fire burning for an hour is still "within 5 min" of a
   * gas leak that starts now: newcomer7 F6). With {@code inWindow} an alarm that cleared pairs too
   * when {@code c} was raised within the window of its being open: from {@code window} before its
   * raise to {@code window} after its clear (event times).
   */
  private static Contribution partner(CombinationRule r, Group g, Contribution c, boolean inWindow) {
    Contribution best = partner(r, g.open.values(), c, null, 0);
    return inWindow && best == null ? partner(r, g.cleared.values(), c, null, r.windowMillis())
        : best;
  }

  private static Contribution partner(CombinationRule r, Iterable<Contribution> among,
      Contribution c, Contribution best, long windowMillis) {
    boolean cFirst = r.first().contains(c.ruleId());
    boolean cSecond = r.second().contains(c.ruleId());
    for (Contribution o : among) {
      if (o.deviceId().equals(c.deviceId())) {
        continue;
      }
      boolean pairs = (cFirst && r.second().contains(o.ruleId()))
          || (cSecond && r.first().contains(o.ruleId()));
      if (!pairs) {
        continue;
      }
      if (o.clearedMillis() != Long.MAX_VALUE
          && (c.timeMillis() < o.timeMillis() - windowMillis
              || c.timeMillis() > o.clearedMillis() + windowMillis)) {
        continue;
      }
      if (best == null || o.timeMillis() < best.timeMillis()) {
        best = o;
      }
    }
    return best;
  }

  private static boolean anyPair(CombinationRule r, Group g) {
    for (Contribution c : g.open.values()) {
      if (partner(r, g, c, false) != null) {
        return true;
      }
    }
    return false;
  }

  private AlarmTransition transition(CombinationRule r, String key, Kind kind, Contribution a,
      Contribution b, long timeMillis) {
    Map<String, Object> ev = new LinkedHashMap<>();
    ev.put("place_level", r.scope().name().toLowerCase(java.util.Locale.ROOT));
    ev.put("place", key);
    ev.put("window_ms", r.windowMillis());
    List<String> devs = new ArrayList<>();
    if (kind == Kind.RAISE) {
      ev.put("first_device", a.deviceId());
      ev.put("first_rule", a.ruleId());
      ev.put("first_time_ms", a.timeMillis());
      ev.put("second_device", b.deviceId());
      ev.put("second_rule", b.ruleId());
      ev.put("second_time_ms", b.timeMillis());
      for (Contribution x : List.of(a, b)) {
        if (x.clearedMillis() != Long.MAX_VALUE) {
          ev.put((x == a ? "first" : "second") + "_cleared_ms", x.clearedMillis());
        }
      }
      devs.add(a.deviceId());
      devs.add(b.deviceId());
    } else {
      ev.put("cleared_by_device", b.deviceId());
      ev.put("cleared_by_rule", b.ruleId());
    }
    String msg = kind == Kind.RAISE
        ? r.label() + " (" + key + "): " + String.join(", ", devs)
        : r.label() + " (" + key + "): no longer two open alarms";
    return new AlarmTransition(a.deviceId(), r.ruleId(), kind, r.severity(), timeMillis, msg, ev);
  }
}
