package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RestoreTest {

  private static final long HOUR = 3_600_000;
  private static final long TIMEOUT = 180_000; // gas: 3 x 60 s

  @Test
  void lastSeenAnHourAgoGivesExactlyOneOfflineAlarm() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    long now = Fixture.T0 + HOUR;
    f.clock.set(now);
    f.engine().restore(new RestoreSnapshot(List.of(), Map.of("gas-001", Fixture.T0), List.of()));
    for (long t = now; t <= now + HOUR; t += 1_000) {
      f.clock.set(t);
      f.engine().advanceTo(t);
    }
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.ruleId()).isEqualTo("device-offline");
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      // one full timeout after the restart, not at once: the gateway was the one away
      assertThat(t.timeMillis()).isEqualTo(now + TIMEOUT + 1);
      assertThat(t.evidence()).containsEntry("last_seen_ms", Fixture.T0);
    });
  }

  @Test
  void devicesSeenJustBeforeARestartGetAFullTimeoutToReport() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM)
        .device("gas-002", DeviceType.GAS_ALARM);
    long now = Fixture.T0 + 10 * 60_000; // gateway down 10 min
    f.clock.set(now);
    f.engine().restore(new RestoreSnapshot(List.of(),
        Map.of("gas-001", Fixture.T0, "gas-002", Fixture.T0), List.of()));
    f.engine().advanceTo(now);
    f.at(10 * 60_000 + 30_000, "gas-001", "gas_lel", 1.0);
    f.at(10 * 60_000 + 45_000, "gas-002", "gas_lel", 1.0);
    f.engine().advanceTo(now + TIMEOUT);
    assertThat(f.out).isEmpty();
  }

  @Test
  void aDeviceWhoseOfflineAlarmIsOpenGetsNoNewOne() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    long now = Fixture.T0 + HOUR;
    f.clock.set(now);
    f.engine().restore(new RestoreSnapshot(
        List.of(new OpenAlarm("gas-001", "device-offline", Severity.MINOR, Fixture.T0 + TIMEOUT)),
        Map.of("gas-001", Fixture.T0), List.of()));
    f.engine().advanceTo(now + 2 * HOUR);
    assertThat(f.out).isEmpty();
    f.at(HOUR + 5_000, "gas-001", "gas_lel", 1.0);
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.ruleId()).isEqualTo("device-offline");
      assertThat(t.kind()).isEqualTo(Kind.CLEAR);
    });
  }

  @Test
  void anOpenGasAlarmIsNotRaisedAgainAndClearsWhenTheLevelFalls() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    long now = Fixture.T0 + 60_000;
    f.clock.set(now);
    int replayed = f.engine().restore(new RestoreSnapshot(
        List.of(new OpenAlarm("gas-001", "gas-lel-threshold", Severity.CRITICAL, Fixture.T0)),
        Map.of("gas-001", Fixture.T0 + 30_000),
        List.of(Reading.of("gas-001", "gas_lel", Fixture.T0 + 30_000, 55.0),
            Reading.of("gas-001", "gas_lel", Fixture.T0, 52.0))));
    assertThat(replayed).isZero();
    f.at(70_000, "gas-001", "gas_lel", 55.0);
    assertThat(f.out).isEmpty();
    f.at(80_000, "gas-001", "gas_lel", 30.0);
    f.at(90_000, "gas-001", "gas_lel", 3.0);
    assertThat(f.out).extracting(AlarmTransition::kind, AlarmTransition::severity).containsExactly(
        org.assertj.core.groups.Tuple.tuple(Kind.SEVERITY_CHANGE, Severity.MAJOR),
        org.assertj.core.groups.Tuple.tuple(Kind.CLEAR, Severity.MAJOR));
  }

  @Test
  void recentReadingsThatDisagreeWithTheLedgerAreReconciled() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM)
        .device("gas-002", DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0 + 60_000);
    int n = f.engine().restore(new RestoreSnapshot(
        List.of(new OpenAlarm("gas-001", "gas-lel-threshold", Severity.MAJOR, Fixture.T0)),
        Map.of(),
        List.of(Reading.of("gas-001", "gas_lel", Fixture.T0 + 20_000, 2.0), // fell while down
            Reading.of("gas-002", "gas_lel", Fixture.T0 + 20_000, 27.0)))); // rose, never filed
    assertThat(n).isEqualTo(2);
    assertThat(f.out).extracting(AlarmTransition::deviceId, AlarmTransition::kind)
        .containsExactlyInAnyOrder(
            org.assertj.core.groups.Tuple.tuple("gas-001", Kind.CLEAR),
            org.assertj.core.groups.Tuple.tuple("gas-002", Kind.RAISE));
  }

  @Test
  void anOpenPanelFireIsKeptAndResetClearsIt() {
    Fixture f = Fixture.dongnan().device("panel-1", DeviceType.FIRE_PANEL);
    f.clock.set(Fixture.T0);
    f.engine().restore(new RestoreSnapshot(
        List.of(new OpenAlarm("panel-1", "fire-panel-fire", Severity.CRITICAL, Fixture.T0 - 60_000)),
        Map.of("panel-1", Fixture.T0 - 1_000), List.of()));
    f.event(1_000, "panel-1", "fire");
    assertThat(f.out).isEmpty();
    f.event(2_000, "panel-1", "reset");
    assertThat(f.out).singleElement().extracting(AlarmTransition::kind).isEqualTo(Kind.CLEAR);
  }

  @Test
  void aSiteDeviceThatNeverReportedGetsOneOfflineAlarmATimeoutAfterTheRestart() {
    Fixture f = Fixture.dongnan().device("gas-117", DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0);
    f.engine().restore(
        new RestoreSnapshot(List.of(), Map.of("gas-117", Long.MIN_VALUE), List.of()));
    f.engine().advanceTo(Fixture.T0 + TIMEOUT);
    assertThat(f.out).isEmpty();
    f.engine().advanceTo(Fixture.T0 + 10 * TIMEOUT);
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.ruleId()).isEqualTo("device-offline");
      assertThat(t.evidence()).containsEntry("last_seen_ms", "never");
      assertThat(t.message()).startsWith("no message since the gateway started");
    });
  }

  /**
   * newcomer7 F25 across a restart: the open fire alarm's evidence lists zones 1 and 2; a fire
   * again in zone 2 is no spread, one in zone 4 is.
   */
  @Test
  void anOpenFireKeepsItsZonesAcrossARestart() {
    Fixture f = Fixture.dongnan().device("panel-1", DeviceType.FIRE_PANEL);
    f.clock.set(Fixture.T0);
    f.engine().restore(new RestoreSnapshot(
        List.of(new OpenAlarm("panel-1", "fire-panel-fire", Severity.CRITICAL, Fixture.T0 - 60_000,
            OpenAlarm.zonesOf(Map.of("zone", 2, "zones", List.of(1, 2))))),
        Map.of("panel-1", Fixture.T0 - 1_000), List.of()));
    f.clock.set(Fixture.T0 + 1_000);
    f.engine().onEvent(new io.safegrid.model.DeviceEvent("panel-1", Fixture.T0 + 1_000, "fire", 2, 7, null));
    assertThat(f.out).isEmpty();
    f.clock.set(Fixture.T0 + 2_000);
    f.engine().onEvent(new io.safegrid.model.DeviceEvent("panel-1", Fixture.T0 + 2_000, "fire", 4, 1, null));
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.evidence()).containsEntry("zones", List.of(1, 2, 4));
    });
  }
}
