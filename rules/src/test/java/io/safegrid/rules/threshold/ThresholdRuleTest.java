package io.safegrid.rules.threshold;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.RuleBook;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ThresholdRuleTest {

  @Test
  void gasLevelsRaiseChangeSeverityAndClearBelowHysteresis() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.at(0, "gas-001", "gas_lel", 24.9);
    assertThat(f.out).isEmpty();

    f.at(1_000, "gas-001", "gas_lel", 25.0);
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.MAJOR);
      assertThat(t.ruleId()).isEqualTo("gas-lel-threshold");
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 + 1_000);
      assertThat(t.message()).isEqualTo("gas 25.0 %LEL at or above level 1 (25.0 %LEL)");
      assertThat(t.evidence()).containsEntry("value", 25.0).containsEntry("setpoint", 25.0)
          .containsEntry("level", 1);
    });

    f.at(2_000, "gas-001", "gas_lel", 50.0);
    assertThat(f.out).hasSize(2);
    assertThat(f.out.get(1).kind()).isEqualTo(Kind.SEVERITY_CHANGE);
    assertThat(f.out.get(1).severity()).isEqualTo(Severity.CRITICAL);

    f.at(3_000, "gas-001", "gas_lel", 48.5); // within 2 %LEL hysteresis of level 2
    f.at(4_000, "gas-001", "gas_lel", 47.9);
    assertThat(f.out).hasSize(3);
    assertThat(f.out.get(2).kind()).isEqualTo(Kind.SEVERITY_CHANGE);
    assertThat(f.out.get(2).severity()).isEqualTo(Severity.MAJOR);

    f.at(5_000, "gas-001", "gas_lel", 23.0); // 25 - 2: still held
    assertThat(f.out).hasSize(3);
    f.at(6_000, "gas-001", "gas_lel", 22.9);
    assertThat(f.out).hasSize(4);
    AlarmTransition clear = f.out.get(3);
    assertThat(clear.kind()).isEqualTo(Kind.CLEAR);
    assertThat(clear.severity()).isEqualTo(Severity.MAJOR);
    assertThat(clear.evidence()).containsEntry("value", 22.9).containsEntry("hysteresis", 2.0);
  }

  @Test
  void jumpStraightToLevelTwoRaisesCritical() {
    Fixture f = Fixture.dongnan().device("gas-002", DeviceType.GAS_ALARM);
    f.at(0, "gas-002", "gas_lel", 63.0);
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
    });
    f.at(1_000, "gas-002", "gas_lel", 0.0);
    assertThat(f.out).hasSize(2);
    assertThat(f.out.get(1).kind()).isEqualTo(Kind.CLEAR);
    assertThat(f.out.get(1).severity()).isEqualTo(Severity.CRITICAL);
  }

  private static Fixture debounced() {
    RuleBook book = RuleBook.fromParameters(Map.of("gas_alarm",
        Map.of("level1_lel", 30, "level2_lel", 60, "debounce_s", 10)));
    return new Fixture(book).device("gas-010", DeviceType.GAS_ALARM);
  }

  @Test
  void hoveringAroundTheThresholdForTwoMinutesWithTenSecondDurationNeverRaises() {
    Fixture f = debounced();
    for (int s = 0; s < 120; s++) {
      f.at(s * 1_000L, "gas-010", "gas_lel", s % 2 == 0 ? 30.1 : 29.9); // ends on 29.9
      f.engine().advanceTo(f.clock.get());
    }
    f.clock.set(Fixture.T0 + 200_000);
    f.engine().advanceTo(f.clock.get());
    assertThat(f.of("gas-lel-threshold")).isEmpty();
  }

  @Test
  void aConditionHeldForTheDurationRaisesOnTheDeadlineWithoutAnotherReading() {
    Fixture f = debounced();
    f.at(0, "gas-010", "gas_lel", 30.1);
    f.engine().advanceTo(Fixture.T0 + 9_999);
    assertThat(f.out).isEmpty();
    assertThat(f.engine().nextDeadline()).isEqualTo(Fixture.T0 + 10_000);
    f.engine().advanceTo(Fixture.T0 + 10_000);
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 + 10_000);
      assertThat(t.evidence()).containsEntry("held_since_ms", Fixture.T0)
          .containsEntry("debounce_ms", 10_000L);
    });
  }

  @Test
  void aConditionHeldForTheDurationRaisesOnALaterReading() {
    Fixture f = debounced();
    f.at(0, "gas-010", "gas_lel", 31);
    f.at(5_000, "gas-010", "gas_lel", 32);
    assertThat(f.out).isEmpty();
    f.at(10_000, "gas-010", "gas_lel", 33);
    assertThat(f.out).singleElement().extracting(AlarmTransition::kind).isEqualTo(Kind.RAISE);
    f.engine().advanceTo(Fixture.T0 + 60_000); // stale deadline does nothing more
    assertThat(f.out).hasSize(1);
  }

  @Test
  void clearIsDebouncedToo() {
    Fixture f = debounced();
    f.at(0, "gas-010", "gas_lel", 35);
    f.at(10_000, "gas-010", "gas_lel", 35);
    assertThat(f.out).hasSize(1);
    f.at(11_000, "gas-010", "gas_lel", 5); // below 30 - 2
    f.at(15_000, "gas-010", "gas_lel", 31); // back: cancels the pending clear
    f.engine().advanceTo(Fixture.T0 + 30_000);
    assertThat(f.out).hasSize(1);
    f.at(31_000, "gas-010", "gas_lel", 5);
    f.engine().advanceTo(Fixture.T0 + 41_000);
    assertThat(f.out).hasSize(2);
    assertThat(f.out.get(1).kind()).isEqualTo(Kind.CLEAR);
  }

  @Test
  void lowBatteryIsABelowThreshold() {
    Fixture f = Fixture.dongnan().device("gas-003", DeviceType.GAS_ALARM);
    f.at(0, "gas-003", "battery_pct", 21);
    f.at(500, "gas-003", "battery_pct", 20.0); // low battery is below 20 %, not at it
    assertThat(f.of("low-battery")).isEmpty();
    f.at(1_000, "gas-003", "battery_pct", 19.5);
    assertThat(f.of("low-battery")).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.WARNING);
    });
    f.at(2_000, "gas-003", "battery_pct", 21.9); // within 2 % hysteresis
    f.at(3_000, "gas-003", "battery_pct", 22.0);
    assertThat(f.of("low-battery")).hasSize(2).last()
        .extracting(AlarmTransition::kind).isEqualTo(Kind.CLEAR);
  }

  @Test
  void riverAboveWarningLevelRaisesMajor() {
    Fixture f = Fixture.dongnan().device("gauge-jialing-1", DeviceType.RIVER_GAUGE);
    f.at(0, "gauge-jialing-1", "water_level_m", 270.79);
    f.at(300_000, "gauge-jialing-1", "water_level_m", 270.80);
    assertThat(f.of("river-level-threshold")).singleElement().satisfies(t -> {
      assertThat(t.severity()).isEqualTo(Severity.MAJOR);
      assertThat(t.message()).contains("270.8 m");
    });
  }

  @Test
  void unorderedSetpointsAreRejected() {
    assertThatThrownBy(() -> RuleBook.fromParameters(
        Map.of("gas_alarm", Map.of("level1_lel", 50, "level2_lel", 25))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("setpoints");
  }
}
