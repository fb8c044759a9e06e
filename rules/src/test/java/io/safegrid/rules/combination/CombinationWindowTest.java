package io.safegrid.rules.combination;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * newcomer7 F6: the 5 min window of a combined alarm is between one alarm and the other's being
 * open, not between the two raises: a gas leak that starts while a fire has been burning for an
 * hour in the same compound is the case {@code fire-gas-combo-compound} exists for. An alarm that
 * cleared pairs for one window after its clear. docs/rules.md "Rule ids".
 */
class CombinationWindowTest {

  private static final String FIRE_GAS = "fire-gas-combo-compound";
  private static final String GAS_GAS = "gas-combo-building";
  private static final long MIN = 60_000L;

  private static Fixture site() {
    Fixture f = Fixture.dongnan();
    DevicePlace b1 = new DevicePlace("nanmenba", "nanmen-1", "b1");
    DevicePlace b2 = new DevicePlace("nanmenba", "nanmen-1", "b2");
    f.device(new DeviceProfile("gas-901", DeviceType.GAS_ALARM, b1, 0, Map.of()));
    f.device(new DeviceProfile("gas-902", DeviceType.GAS_ALARM, b1, 0, Map.of()));
    f.device(new DeviceProfile("gas-903", DeviceType.GAS_ALARM, b2, 0, Map.of()));
    f.device(new DeviceProfile("fire-nanmen-1", DeviceType.FIRE_PANEL,
        new DevicePlace("nanmenba", "nanmen-1", null), 0, Map.of()));
    return f;
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  @Test
  void aGasLeakStartingWhileAFireHasBurnedForAnHour_combines() {
    Fixture f = site();
    f.event(0, "fire-nanmen-1", "fire");
    f.at(60 * MIN, "gas-903", "gas_lel", 65);
    assertThat(kindsAt(f.of(FIRE_GAS))).containsExactly("RAISE@3600000");
    assertThat(f.of(FIRE_GAS).get(0).deviceId()).isEqualTo("fire-nanmen-1");
    assertThat(f.of(FIRE_GAS).get(0).evidence()).containsEntry("second_device", "gas-903")
        .containsEntry("first_time_ms", Fixture.T0);
  }

  /** The newcomer's steps: the pair clears when the gas clears, a new leak under the fire reopens it. */
  @Test
  void theFireStillOpen_pairsWithEachNewGasAlarm() {
    Fixture f = site();
    f.event(0, "fire-nanmen-1", "fire");
    f.at(MIN, "gas-901", "gas_lel", 30);
    f.at(8 * MIN, "gas-901", "gas_lel", 0);
    assertThat(kindsAt(f.of(FIRE_GAS))).containsExactly("RAISE@60000", "CLEAR@480000");
    f.at(20 * MIN, "gas-903", "gas_lel", 65);
    assertThat(kindsAt(f.of(FIRE_GAS)))
        .containsExactly("RAISE@60000", "CLEAR@480000", "RAISE@1200000");
    // the panel's reset ends it
    f.event(25 * MIN, "fire-nanmen-1", "reset");
    assertThat(kindsAt(f.of(FIRE_GAS))).last().isEqualTo("CLEAR@1500000");
  }

  @Test
  void twoGasAlarmsOpenTogetherInOneBuilding_combineHoweverFarApartTheirRaises() {
    Fixture f = site();
    f.at(0, "gas-901", "gas_lel", 30);
    f.at(20 * MIN, "gas-902", "gas_lel", 30);
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@1200000");
    assertThat(f.of(GAS_GAS).get(0).deviceId()).as("filed on the earlier one").isEqualTo("gas-901");
    f.at(21 * MIN, "gas-901", "gas_lel", 0);
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@1200000", "CLEAR@1260000");
  }

  @Test
  void anAlarmClearedLessThanTheWindowBefore_stillPairs() {
    Fixture f = site();
    f.at(0, "gas-901", "gas_lel", 30);
    f.at(MIN, "gas-901", "gas_lel", 0);
    f.at(MIN + 5 * MIN, "gas-902", "gas_lel", 30); // exactly 5 min after the clear
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@360000");
    assertThat(f.of(GAS_GAS).get(0).evidence()).containsEntry("first_device", "gas-901")
        .containsEntry("first_cleared_ms", Fixture.T0 + MIN);
    // it stays open while the later alarm is, and clears with it
    f.at(7 * MIN, "gas-902", "gas_lel", 0);
    assertThat(kindsAt(f.of(GAS_GAS))).containsExactly("RAISE@360000", "CLEAR@420000");
  }

  @Test
  void anAlarmClearedMoreThanTheWindowBefore_doesNotPair() {
    Fixture f = site();
    f.at(0, "gas-901", "gas_lel", 30);
    f.at(MIN, "gas-901", "gas_lel", 0);
    f.at(MIN + 5 * MIN + 1, "gas-902", "gas_lel", 30);
    f.at(MIN + 5 * MIN + 2, "gas-903", "gas_lel", 30); // open, but in another building
    assertThat(f.of(GAS_GAS)).isEmpty();
    assertThat(f.of(FIRE_GAS)).isEmpty();
  }
}
