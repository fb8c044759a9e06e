package io.safegrid.rules.combination;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.rules.RuleContext;
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
   * clearedMillis} ({@link Long#MAX_VALUE} while open). {@code pastUntilMillis} is {@link
   * Long#MIN_VALUE} for an alarm of the present (raised in order, or on arrival); for a late raise
   * at its own past time (a reading from a cached backlog, evidence {@code late: true}) it is the
   * newest device time the late readings showed it at: such an alarm is known at those past times
   * only (its device's newer readings were below the setpoint, else it would not be late), so it
   * is open from {@code timeMillis} to {@code pastUntilMillis}, however long the ledger keeps it
   * open (review8 R8-2).
   */
  private record Contribution(String deviceId, String ruleId, long timeMillis, long clearedMillis,
      long pastUntilMillis) {
    Contribution(String deviceId, String ruleId, long timeMillis) {
      this(deviceId, ruleId, timeMillis, Long.MAX_VALUE, Long.MIN_VALUE);
    }

    boolean past() {
      return pastUntilMillis != Long.MIN_VALUE;
    }

    /** The end of its open interval, event time: its clear, the last late reading, or MAX. */
    long endMillis() {
      return past() ? Math.min(pastUntilMillis, clearedMillis) : clearedMillis;
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
        Contribution c = new Contribution(t.deviceId(), t.ruleId(), t.timeMillis(),
            Long.MAX_VALUE, pastUntil(t));
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
              t.timeMillis(), was.pastUntilMillis()));
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
   * An open alarm raised by a late reading at its own past time is held by a newer reading at
   * {@code atMillis} (event time, epoch ms): it is an alarm of the present from now on, and pairs
   * as one (see {@link RuleContext#held}); when it makes a pair, the combined alarm is raised at
   * {@code atMillis}. Nothing happens for an alarm not known here or already of the present.
   */
  public synchronized void onHeld(String deviceId, String ruleId, long atMillis) {
    for (CombinationRule r : rules) {
      if (!r.involves(ruleId)) {
        continue;
      }
      String key = places.apply(deviceId).key(r.scope());
      if (key == null) {
        continue;
      }
      Group g = groups.get(r.ruleId() + "@" + key);
      String ck = deviceId + "|" + ruleId;
      Contribution was = g == null ? null : g.open.get(ck);
      if (was == null || !was.past()) {
        continue;
      }
      Contribution now = new Contribution(deviceId, ruleId, was.timeMillis());
      g.open.put(ck, now);
      if (g.combinedDevice == null) {
        Contribution other = partner(r, g, new Contribution(deviceId, ruleId, atMillis), true);
        if (other != null) {
          Contribution anchor = anchor(r, now, other);
          Contribution partner = anchor == other ? now : other;
          g.combinedDevice = anchor.deviceId();
          out.accept(transition(r, key, Kind.RAISE, anchor, partner, atMillis));
        }
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
   * earliest raised, an open one before a cleared one. Every open alarm of the present pairs with
   * an alarm of the present (a fire burning for an hour is still "within 5 min" of a gas leak that
   * starts now: newcomer7 F6). With {@code inWindow} an alarm that cleared pairs too when {@code
   * c} was raised within the window of its being open: from {@code window} before its raise to
   * {@code window} after its clear (event times). When either of the two is a late raise at its
   * own past time ({@link Contribution#past()}), an open one pairs only the same way: within the
   * window of its open interval, which for a late raise ends at its last late reading (review8
   * R8-2: a 70 %LEL sample of a backlog 1 h 45 min old is no pair with a leak next door now).
   */
  private static Contribution partner(CombinationRule r, Group g, Contribution c, boolean inWindow) {
    Contribution best = partner(r, g.open.values(), c, null, r.windowMillis(), true);
    return inWindow && best == null
        ? partner(r, g.cleared.values(), c, null, r.windowMillis(), false)
        : best;
  }

  private static Contribution partner(CombinationRule r, Iterable<Contribution> among,
      Contribution c, Contribution best, long windowMillis, boolean open) {
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
      if (!(open && !c.past() && !o.past()) && !overlap(c, o, windowMillis)) {
        continue;
      }
      if (best == null || o.timeMillis() < best.timeMillis()) {
        best = o;
      }
    }
    return best;
  }

  /**
   * Whether the open intervals of {@code c} and {@code o} (event times) are at most {@code
   * windowMillis} apart. {@code c} is the alarm just raised: of the present, its interval is its
   * raise (its end is not known yet); a late raise, its late readings.
   */
  private static boolean overlap(Contribution c, Contribution o, long windowMillis) {
    long cEnd = c.past() ? c.endMillis() : c.timeMillis();
    return cEnd >= o.timeMillis() - windowMillis
        && c.timeMillis() <= satAdd(o.endMillis(), windowMillis);
  }

  private static long satAdd(long a, long b) {
    long s = a + b;
    return s < a ? Long.MAX_VALUE : s;
  }

  /**
   * For a late raise at its own past time (evidence {@code late: true}, time before its {@code
   * received_ms}): the newest device time its late readings showed ({@code held_until_ms}, else
   * {@code reading_time_ms}, at least the raise's time); {@link Long#MIN_VALUE} for any other
   * transition (in order, or raised on arrival: the present).
   */
  private static long pastUntil(AlarmTransition t) {
    Map<String, Object> ev = t.evidence();
    if (ev == null || !Boolean.TRUE.equals(ev.get("late"))
        || !(ev.get("received_ms") instanceof Number rec)
        || t.timeMillis() >= rec.longValue()) {
      return Long.MIN_VALUE;
    }
    long until = t.timeMillis();
    for (String k : List.of("reading_time_ms", "held_until_ms")) {
      if (ev.get(k) instanceof Number n) {
        until = Math.max(until, n.longValue());
      }
    }
    return until;
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
