package io.safegrid.rules.combination;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * review8 R8-2 (newcomer8 N2's second half): on the Dongnan defaults ({@code debounce_s: 0}) a
 * 70 %LEL sample in a cached backlog 1 h 45 min old raises its device's alarm late, at its own
 * time, and must not pair with a leak open next door now: they were not simultaneous. A late
 * alarm pairs only within the window of its own readings' times; an alarm of the present still
 * pairs with every open one (newcomer7 F6).
 */
class LateCombinationTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String GAS_GAS = "gas-combo-building";
  private static final long MIN = 60_000L;
  /** "Now" of these tests: 3 h after T0. */
  private static final long NOW = 180 * MIN;

  private static Fixture site() {
    Fixture f = Fixture.dongnan();
    DevicePlace b1 = new DevicePlace("nanmenba", "nanmen-1", "b1");
    f.device(new DeviceProfile("gas-901", DeviceType.GAS_ALARM, b1, 0, Map.of()));
    f.device(new DeviceProfile("gas-902", DeviceType.GAS_ALARM, b1, 0, Map.of()));
    return f;
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  /** N2's payload: 30 records a minute apart from {@code startOffset}, all 1.0 %LEL but the 16th at 70. */
  private static List<Reading> backlog(String device, long startOffset) {
    List<Reading> l = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      l.add(Reading.of(device, "gas_lel", Fixture.T0 + startOffset + i * MIN, i == 15 ? 70.0 : 1.0));
    }
    return l;
  }

  @Test
  void anOldBacklogsSpike_raisesLateButMakesNoPairWithALeakOpenNow() {
    Fixture f = site();
    f.at(NOW - 2 * MIN, "gas-901", "gas_lel", 1.0); // reports in order, normal
    f.at(NOW - MIN, "gas-902", "gas_lel", 70.0); // a real leak next door, open now
    f.clock.set(Fixture.T0 + NOW);
    f.engine().onReadings(backlog("gas-901", NOW - 120 * MIN)); // spike at NOW - 105 min
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@" + (NOW - MIN), "RAISE@" + (NOW - 105 * MIN));
    assertThat(f.of(GAS).get(1).deviceId()).isEqualTo("gas-901");
    assertThat(f.of(GAS).get(1).evidence()).containsEntry("late", true);
    assertThat(f.of(GAS_GAS)).as("1 h 45 min apart: no pair").isEmpty();
    // gas-901's next in-order reading clears its late alarm; still nothing combined
    f.at(NOW + MIN, "gas-901", "gas_lel", 1.0);
    assertThat(f.of(GAS)).last().extracting(AlarmTransition::kind).isEqualTo(AlarmTransition.Kind.CLEAR);
    assertThat(f.of(GAS_GAS)).isEmpty();
  }

  @Test
  void theSameSpikeArrivingFirst_makesNoPairWithALeakRaisedLater() {
    Fixture f = site();
    f.at(NOW - 2 * MIN, "gas-901", "gas_lel", 1.0);
    f.clock.set(Fixture.T0 + NOW);
    f.engine().onReadings(backlog("gas-901", NOW - 120 * MIN));
    f.at(NOW + 10_000, "gas-902", "gas_lel", 70.0); // the leak next door starts now
    assertThat(f.of(GAS)).hasSize(2);
    assertThat(f.of(GAS_GAS)).as("the late alarm is no leak of the present").isEmpty();
  }

  @Test
  void twoLeaksOfThePresent_stillCombine() {
    Fixture f = site();
    f.at(NOW, "gas-902", "gas_lel", 70.0);
    f.at(NOW + 20_000, "gas-901", "gas_lel", 30.0);
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@" + (NOW + 20_000));
  }

  @Test
  void aLateSpikeWhileTheLeakNextDoorWasOpen_combines() {
    Fixture f = site();
    f.at(0, "gas-902", "gas_lel", 70.0); // open since T0, three hours: open at the spike's time
    f.at(NOW - 2 * MIN, "gas-902", "gas_lel", 70.0);
    f.at(NOW - 2 * MIN, "gas-901", "gas_lel", 1.0);
    f.clock.set(Fixture.T0 + NOW);
    f.engine().onReadings(backlog("gas-901", NOW - 120 * MIN));
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@" + (NOW - 105 * MIN));
    assertThat(f.of(GAS_GAS).get(0).deviceId()).as("filed on the earlier").isEqualTo("gas-902");
  }

  @Test
  void aLateSpikeWithinTheWindowOfALeakThatCleared_combines() {
    Fixture f = site();
    f.at(NOW - 110 * MIN, "gas-902", "gas_lel", 40.0);
    f.at(NOW - 108 * MIN, "gas-902", "gas_lel", 0.0); // cleared 3 min before the late spike
    f.at(NOW - 2 * MIN, "gas-901", "gas_lel", 1.0);
    f.clock.set(Fixture.T0 + NOW);
    f.engine().onReadings(backlog("gas-901", NOW - 120 * MIN));
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@" + (NOW - 105 * MIN));
  }

  /** The unit's own alarm state (metric {@code state}, 2 = high alarm) goes the same way. */
  @Test
  void aLateDeviceAlarmState_pairsOnlyOnceANewerStateHoldsIt() {
    Fixture f = site();
    f.at(NOW - 2 * MIN, "gas-901", "state", 0);
    f.at(NOW - MIN, "gas-902", "gas_lel", 70.0);
    f.clock.set(Fixture.T0 + NOW);
    List<Reading> l = new ArrayList<>();
    for (int i = 0; i < 30; i++) {
      l.add(Reading.of("gas-901", "state", Fixture.T0 + NOW - 120 * MIN + i * MIN, i == 15 ? 2 : 0));
    }
    f.engine().onReadings(l);
    assertThat(kindsAt(f.of("gas-device-alarm"))).containsExactly("RAISE@" + (NOW - 105 * MIN));
    assertThat(f.of(GAS_GAS)).isEmpty();
    f.at(NOW + MIN, "gas-901", "state", 2); // the unit says high alarm now too
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@" + (NOW + MIN));
  }

  /** A late alarm that a newer reading then holds is a leak of the present: it pairs from then. */
  @Test
  void aLateAlarmHeldByANewerReading_pairsAsOneOfThePresent() {
    Fixture f = site();
    f.at(NOW - 2 * MIN, "gas-901", "gas_lel", 1.0);
    f.at(NOW - MIN, "gas-902", "gas_lel", 70.0);
    f.clock.set(Fixture.T0 + NOW);
    f.engine().onReadings(backlog("gas-901", NOW - 120 * MIN));
    assertThat(f.of(GAS_GAS)).isEmpty();
    f.at(NOW + MIN, "gas-901", "gas_lel", 55.0); // gas-901 leaks now too: the alarm stays open
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@" + (NOW + MIN));
  }
}
