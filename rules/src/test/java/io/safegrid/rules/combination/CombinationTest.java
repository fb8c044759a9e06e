package io.safegrid.rules.combination;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CombinationTest {

  private static Fixture site() {
    Fixture f = Fixture.dongnan();
    DevicePlace b1 = new DevicePlace("dongnan-c1", "nanmen-1", "b1");
    DevicePlace b2 = new DevicePlace("dongnan-c1", "nanmen-1", "b2");
    DevicePlace other = new DevicePlace("dongnan-c1", "yuefu", "b1");
    f.device(new DeviceProfile("gas-001", DeviceType.GAS_ALARM, b1, 0, Map.of()));
    f.device(new DeviceProfile("gas-002", DeviceType.GAS_ALARM, b1, 0, Map.of()));
    f.device(new DeviceProfile("gas-003", DeviceType.GAS_ALARM, b2, 0, Map.of()));
    f.device(new DeviceProfile("gas-004", DeviceType.GAS_ALARM, other, 0, Map.of()));
    f.device(new DeviceProfile("panel-nanmen-1", DeviceType.FIRE_PANEL,
        new DevicePlace("dongnan-c1", "nanmen-1", null), 0, Map.of()));
    return f;
  }

  @Test
  void twoGasAlarmsInOneBuildingWithinFiveMinutesGiveACriticalCombinedAlarm() {
    Fixture f = site();
    f.at(0, "gas-001", "gas_lel", 30);
    f.at(240_000, "gas-002", "gas_lel", 26);
    assertThat(f.of("gas-combo-building")).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
      assertThat(t.deviceId()).isEqualTo("gas-001");
      assertThat(t.evidence()).containsEntry("place", "dongnan-c1/nanmen-1/b1")
          .containsEntry("second_device", "gas-002");
    });
    // a clear of one of them ends the combination
    f.at(300_000, "gas-002", "gas_lel", 0);
    assertThat(f.of("gas-combo-building")).hasSize(2).last()
        .extracting(AlarmTransition::kind).isEqualTo(Kind.CLEAR);
  }

  @Test
  void gasAlarmsFurtherApartOrInOtherBuildingsDoNotCombine() {
    Fixture f = site();
    f.at(0, "gas-001", "gas_lel", 30);
    f.at(10_000, "gas-001", "gas_lel", 0); // cleared
    f.at(310_001, "gas-002", "gas_lel", 30); // 5 min + 1 ms after that clear
    f.at(310_002, "gas-003", "gas_lel", 30); // other building
    f.at(310_003, "gas-004", "gas_lel", 30); // other compound
    assertThat(f.out).extracting(AlarmTransition::ruleId).containsOnly("gas-lel-threshold");
  }

  @Test
  void fireAndGasInOneCompoundCombine() {
    Fixture f = site();
    f.at(0, "gas-003", "gas_lel", 30);
    f.event(60_000, "panel-nanmen-1", "fire");
    assertThat(f.of("fire-gas-combo-compound")).singleElement().satisfies(t -> {
      assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
      assertThat(t.deviceId()).as("filed on the panel, though the gas came first")
          .isEqualTo("panel-nanmen-1");
      assertThat(t.evidence()).containsEntry("place", "dongnan-c1/nanmen-1")
          .containsEntry("second_device", "gas-003");
    });
    f.at(61_000, "gas-004", "gas_lel", 30); // other compound, no second combination
    assertThat(f.of("fire-gas-combo-compound")).hasSize(1);
  }
}
