package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.rules.Fixture;
import org.junit.jupiter.api.Test;

/**
 * newcomer8 N5: a {@code fire} event from a gas alarm or a river gauge is read by no rule of
 * their types. It raises nothing (fire-panel-fire belongs to fire panels), but it is never
 * silently dropped: a flag {@code event_not_read} (the gateway counts it in {@code
 * safegrid.rules.flags} and logs the first per device) naming the event and the type.
 */
class EventNotReadTest {

  @Test
  void aFireFromAGasAlarmOrARiverGauge_isFlaggedNotDropped() {
    Fixture f = Fixture.dongnan().device("gas-032", DeviceType.GAS_ALARM)
        .device("river-xi-1", DeviceType.RIVER_GAUGE).device("fire-school-4", DeviceType.FIRE_PANEL);
    f.clock.set(Fixture.T0);
    assertThat(f.engine().onEvent(new DeviceEvent("gas-032", Fixture.T0, "fire", 1, null, null)))
        .isEqualTo(Outcome.NO_RULE);
    assertThat(f.engine().onEvent(new DeviceEvent("river-xi-1", Fixture.T0, "fire", 1, null, null)))
        .isEqualTo(Outcome.NO_RULE);
    assertThat(f.out).isEmpty();
    assertThat(f.flags).extracting(fl -> fl.kind().reason(), Flag::deviceId, Flag::subject)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("event_not_read", "gas-032", "fire"),
            org.assertj.core.groups.Tuple.tuple("event_not_read", "river-xi-1", "fire"));
    assertThat(f.flags.get(0).detail()).contains("device type gas_alarm", "no fire panel");
    assertThat(f.flags.get(1).detail()).contains("device type river_gauge");
    // a panel's fire is read: an alarm, no flag
    f.engine().onEvent(new DeviceEvent("fire-school-4", Fixture.T0, "fire", 1, null, null));
    assertThat(f.out).hasSize(1);
    assertThat(f.flags).hasSize(2);
  }

  @Test
  void anEventKnownToTheType_isNotFlagged() {
    Fixture f = Fixture.dongnan().device("gas-032", DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0);
    f.engine().onEvent(new DeviceEvent("gas-032", Fixture.T0, "fault", null, null, null));
    assertThat(f.flags).isEmpty();
  }
}
