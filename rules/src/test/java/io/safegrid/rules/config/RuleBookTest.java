package io.safegrid.rules.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RuleBookTest {

  @Test
  void dongnanDefaults() {
    RuleBook b = RuleBook.dongnan();
    RuleSet gas = b.ruleSet(DeviceType.GAS_ALARM);
    assertThat(gas.thresholds().get(0).setpoint(1)).isEqualTo(25.0);
    assertThat(gas.thresholds().get(0).setpoint(2)).isEqualTo(50.0);
    assertThat(gas.thresholds().get(0).severity(2)).isEqualTo(Severity.CRITICAL);
    assertThat(gas.inactivity(0).timeoutMillis()).isEqualTo(180_000);
    RuleSet river = b.ruleSet(DeviceType.RIVER_GAUGE);
    assertThat(river.thresholds().get(0).setpoint(1)).isEqualTo(270.80);
    assertThat(river.rates().get(0).limitPerHour()).isEqualTo(0.5);
    assertThat(river.inactivity(0).timeoutMillis()).isEqualTo(900_000);
    assertThat(b.ruleSet(DeviceType.FIRE_PANEL).events().action("fire").severity())
        .isEqualTo(Severity.CRITICAL);
    assertThat(b.unknownParameters()).isEmpty();
  }

  @Test
  void parametersPerTypeAndPerDeviceOverrides() {
    RuleBook b = RuleBook.fromParameters(Map.of(
        "river_gauge", Map.of("warning_level_m", "271.5", "rise_rate_m_per_h", 0.3),
        "combination", Map.of("window_s", 120, "gas_pair_scope", "compound")));
    assertThat(b.ruleSet(DeviceType.RIVER_GAUGE).thresholds().get(0).setpoint(1)).isEqualTo(271.5);
    DeviceProfile xi = new DeviceProfile("gauge-xi-1", DeviceType.RIVER_GAUGE, null, 0,
        Map.of("warning_level_m", 268.0));
    RuleSet xiRules = b.ruleSetFor(xi);
    assertThat(xiRules.thresholds().get(0).setpoint(1)).isEqualTo(268.0);
    assertThat(xiRules.rates().get(0).limitPerHour()).isEqualTo(0.3);
    assertThat(b.ruleSetFor(xi)).isSameAs(xiRules);
    assertThat(b.combinations()).extracting(c -> c.ruleId())
        .containsExactly("gas-combo-compound", "fire-gas-combo-compound");
    assertThat(b.combinations().get(0).windowMillis()).isEqualTo(120_000);
  }

  @Test
  void badValuesAreClearErrorsAndUnknownKeysAreListed() {
    assertThatThrownBy(() -> RuleBook.fromParameters(
        Map.of("gas_alarm", Map.of("level1_lel", "lots"))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("gas_alarm.level1_lel");
    assertThatThrownBy(() -> RuleBook.fromParameters(Map.of("lift", Map.of())))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lift");
    RuleBook b = RuleBook.fromParameters(Map.of("fire_panel", Map.of("colour", "red")));
    assertThat(b.unknownParameters()).containsExactly("fire_panel.colour");
  }
}
