package io.safegrid.rules;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.rules.engine.Flag;
import io.safegrid.rules.engine.RuleEngine;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** A single-shard engine with a settable clock and recording sinks, for tests. */
public final class Fixture {

  /** 2026-11-29T08:00:00Z, the contract's example time. */
  public static final long T0 = 1_764_403_200_000L;

  public final AtomicLong clock = new AtomicLong(T0);
  public final List<AlarmTransition> out = new CopyOnWriteArrayList<>();
  public final List<Flag> flags = new CopyOnWriteArrayList<>();
  public final Map<String, DeviceProfile> profiles = new HashMap<>();
  public RuleBook book;
  public RuleEngine engine;

  public Fixture(RuleBook book) {
    this.book = book;
  }

  public static Fixture dongnan() {
    return new Fixture(RuleBook.dongnan());
  }

  public Fixture device(String id, DeviceType type) {
    return device(new DeviceProfile(id, type, DevicePlace.NOWHERE, 0, Map.of()));
  }

  public Fixture device(DeviceProfile p) {
    profiles.put(p.deviceId(), p);
    return this;
  }

  public RuleEngine engine() {
    if (engine == null) {
      engine = new RuleEngine(book, DeviceDirectory.of(profiles), clock::get, out::add, flags::add);
    }
    return engine;
  }

  /** Sets the clock to T0 + offset ms and feeds a reading stamped with that time. */
  public void at(long offsetMillis, String device, String metric, double value) {
    clock.set(T0 + offsetMillis);
    engine().onReading(Reading.of(device, metric, T0 + offsetMillis, value));
  }

  public void event(long offsetMillis, String device, String event) {
    clock.set(T0 + offsetMillis);
    engine().onEvent(new DeviceEvent(device, T0 + offsetMillis, event, null, null, null));
  }

  /** Transitions of one rule. */
  public List<AlarmTransition> of(String ruleId) {
    List<AlarmTransition> l = new ArrayList<>();
    for (AlarmTransition t : out) {
      if (t.ruleId().equals(ruleId)) {
        l.add(t);
      }
    }
    return l;
  }
}
