package io.safegrid.rules.event;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import org.junit.jupiter.api.Test;

class EventRuleTest {

  private static final String PANEL = "panel-nanmen-1";

  @Test
  void panelFireIsCriticalAndResetClearsFireAndFault() {
    Fixture f = Fixture.dongnan().device(PANEL, DeviceType.FIRE_PANEL);
    f.clock.set(Fixture.T0);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0, "fire", 10, 2, "3F kitchen smoke"));
    f.event(1_000, PANEL, "fault");
    f.event(2_000, PANEL, "fire"); // repeat while open: nothing new
    assertThat(f.out).extracting(AlarmTransition::ruleId, AlarmTransition::kind,
        AlarmTransition::severity).containsExactly(
            org.assertj.core.groups.Tuple.tuple("fire-panel-fire", Kind.RAISE, Severity.CRITICAL),
            org.assertj.core.groups.Tuple.tuple("fire-panel-fault", Kind.RAISE, Severity.MINOR));
    assertThat(f.out.get(0).message()).isEqualTo("fire alarm zone 10 point 2 (3F kitchen smoke)");
    assertThat(f.out.get(0).evidence()).containsEntry("zone", 10).containsEntry("point", 2);

    f.event(3_000, PANEL, "reset");
    assertThat(f.out).hasSize(4);
    assertThat(f.out.subList(2, 4)).extracting(AlarmTransition::ruleId, AlarmTransition::kind)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("fire-panel-fire", Kind.CLEAR),
            org.assertj.core.groups.Tuple.tuple("fire-panel-fault", Kind.CLEAR));
  }

  @Test
  void aLateFireFromBeforeTheResetStaysHistory() {
    Fixture f = Fixture.dongnan().device(PANEL, DeviceType.FIRE_PANEL);
    f.event(0, PANEL, "fire");
    f.event(10_000, PANEL, "reset");
    f.clock.set(Fixture.T0 + 11_000);
    f.engine().onEvent(new DeviceEvent(PANEL, Fixture.T0 + 5_000, "fire", null, null, null));
    assertThat(f.out).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
  }

  @Test
  void powerFaultsAreMinorAndClearOnRestore() {
    Fixture f = Fixture.dongnan().device(PANEL, DeviceType.FIRE_PANEL);
    f.event(0, PANEL, "mains_fault");
    f.event(1_000, PANEL, "backup_fault");
    f.event(2_000, PANEL, "reset"); // a reset does not bring the mains back
    f.event(3_000, PANEL, "mains_restored");
    assertThat(f.out).extracting(AlarmTransition::ruleId, AlarmTransition::kind).containsExactly(
        org.assertj.core.groups.Tuple.tuple("fire-panel-mains-fault", Kind.RAISE),
        org.assertj.core.groups.Tuple.tuple("fire-panel-backup-fault", Kind.RAISE),
        org.assertj.core.groups.Tuple.tuple("fire-panel-mains-fault", Kind.CLEAR));
    assertThat(f.out.get(0).severity()).isEqualTo(Severity.MINOR);
  }

  @Test
  void supervisoryIsLowerThanFire() {
    Fixture f = Fixture.dongnan().device(PANEL, DeviceType.FIRE_PANEL);
    f.event(0, PANEL, "supervisory");
    f.event(1_000, PANEL, "something_new"); // unknown events change nothing
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.ruleId()).isEqualTo("fire-panel-supervisory");
      assertThat(t.severity()).isLessThan(Severity.CRITICAL);
    });
  }

  @Test
  void gasAlarmStateCodesRaiseChangeAndClear() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.at(0, "gas-001", "state", 0);
    f.at(1_000, "gas-001", "state", 1);
    f.at(2_000, "gas-001", "state", 1);
    f.at(3_000, "gas-001", "state", 2);
    f.at(4_000, "gas-001", "state", 5); // preheating: neutral
    f.at(5_000, "gas-001", "state", 0);
    assertThat(f.of("gas-device-alarm")).extracting(AlarmTransition::kind,
        AlarmTransition::severity).containsExactly(
            org.assertj.core.groups.Tuple.tuple(Kind.RAISE, Severity.MAJOR),
            org.assertj.core.groups.Tuple.tuple(Kind.SEVERITY_CHANGE, Severity.CRITICAL),
            org.assertj.core.groups.Tuple.tuple(Kind.CLEAR, Severity.CRITICAL));
  }

  @Test
  void gasSensorFailureEventAndStateShareOneFaultAlarm() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.event(0, "gas-001", "sensor_failure");
    f.at(1_000, "gas-001", "state", 4);
    f.at(2_000, "gas-001", "state", 0);
    assertThat(f.of("gas-fault")).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR);
  }

  @Test
  void withFaultDebounceATransientPanelFaultWakesNobodyAndAStandingOneRaises() {
    Fixture f = new Fixture(io.safegrid.rules.config.RuleBook.fromParameters(
        java.util.Map.of("fire_panel", java.util.Map.of("fault_debounce_s", 10))))
        .device(PANEL, DeviceType.FIRE_PANEL);
    f.event(0, PANEL, "fault");
    f.event(4_000, PANEL, "fault_cleared");
    f.engine().advanceTo(Fixture.T0 + 60_000);
    assertThat(f.out).isEmpty();

    f.event(100_000, PANEL, "fault");
    f.event(105_000, PANEL, "fire"); // a fire is never delayed
    assertThat(f.out).extracting(AlarmTransition::ruleId).containsExactly("fire-panel-fire");
    f.engine().advanceTo(Fixture.T0 + 110_000);
    assertThat(f.out).extracting(AlarmTransition::ruleId).containsExactly("fire-panel-fire", "fire-panel-fault");
    assertThat(f.out.get(1).timeMillis()).isEqualTo(Fixture.T0 + 110_000);
    assertThat(f.out.get(1).evidence()).containsEntry("held_since_ms", Fixture.T0 + 100_000);
  }
}
