package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import org.junit.jupiter.api.Test;

class OrderingAndFlagsTest {

  @Test
  void theSameReadingTwiceWithin5MillisecondsGivesOneAlarm() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    Reading r = Reading.of("gas-001", "gas_lel", Fixture.T0, 31.0);
    f.clock.set(Fixture.T0 + 1);
    assertThat(f.engine().onReading(r)).isEqualTo(Outcome.EVALUATED);
    f.clock.set(Fixture.T0 + 5);
    assertThat(f.engine().onReading(r)).isEqualTo(Outcome.DUPLICATE);
    // a re-sent copy stamped with receive time 4 ms later is newer but still the same alarm
    assertThat(f.engine().onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + 4, 31.0)))
        .isEqualTo(Outcome.EVALUATED);
    assertThat(f.out).singleElement().extracting(t -> t.kind()).isEqualTo(Kind.RAISE);
    assertThat(f.engine().stats().duplicates()).isEqualTo(1);
  }

  @Test
  void aLateReadingNeverOverridesNewerStateButItsLeakIsRaisedWithItsOwnTime() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0 + 2_000);
    RuleEngine e = f.engine();
    assertThat(e.onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + 1000, 10.0)))
        .isEqualTo(Outcome.EVALUATED);
    assertThat(e.onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + 400, 40.0)))
        .isEqualTo(Outcome.LATE);
    assertThat(e.onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + 700, 70.0)))
        .isEqualTo(Outcome.LATE);
    assertThat(e.latest("gas-001", "gas_lel")).hasValueSatisfying(v -> {
      assertThat(v[0]).isEqualTo(Fixture.T0 + 1000);
      assertThat(v[1]).isEqualTo(10.0);
    });
    assertThat(f.out).as("late high readings raise (never silently ignored), with their own time")
        .extracting(t -> t.kind(), t -> t.timeMillis())
        .containsExactly(org.assertj.core.groups.Tuple.tuple(Kind.RAISE, Fixture.T0 + 400),
            org.assertj.core.groups.Tuple.tuple(Kind.SEVERITY_CHANGE, Fixture.T0 + 700));
    assertThat(f.flags).extracting(Flag::kind)
        .containsExactly(Flag.Kind.LATE_READING, Flag.Kind.LATE_READING);
    assertThat(e.stats().late()).isEqualTo(2);
  }

  @Test
  void aLateLowReadingDoesNotClearAnAlarm() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.at(10_000, "gas-001", "gas_lel", 30.0);
    f.engine().onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + 5_000, 0.0));
    assertThat(f.out).singleElement().extracting(t -> t.kind()).isEqualTo(Kind.RAISE);
  }

  @Test
  void futureTimestampsAreFlaggedJudgedOnArrivalNotTakenAsNewest() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0);
    Outcome o = f.engine().onReading(
        Reading.of("gas-001", "gas_lel", Fixture.T0 + RuleEngine.MAX_FUTURE_SKEW_MILLIS + 1, 60.0));
    assertThat(o).as("judged on arrival (newcomer7 F5)").isEqualTo(Outcome.EVALUATED);
    assertThat(f.flags).singleElement().satisfies(fl -> {
      assertThat(fl.kind()).isEqualTo(Flag.Kind.FUTURE_TIMESTAMP);
      assertThat(fl.kind().reason()).isEqualTo("future_timestamp");
      assertThat(fl.deviceId()).isEqualTo("gas-001");
      assertThat(fl.subject()).isEqualTo("gas_lel");
    });
    assertThat(f.out).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.timeMillis()).as("at its arrival").isEqualTo(Fixture.T0);
    });
    // exactly at the limit is accepted on its own time, in order: the flagged one was not newest
    assertThat(f.engine().onReading(
        Reading.of("gas-001", "gas_lel", Fixture.T0 + RuleEngine.MAX_FUTURE_SKEW_MILLIS, 1.0)))
        .isEqualTo(Outcome.EVALUATED);
    // and the flagged one did not become the newest: an earlier reading is still evaluated
    assertThat(f.engine().onReading(Reading.of("gas-001", "gas_lel", Fixture.T0 + 1, 1.0)))
        .isEqualTo(Outcome.LATE);
  }

  @Test
  void secondsSentAsMillisecondsAreFlagged() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.clock.set(Fixture.T0);
    assertThat(f.engine().onReading(Reading.of("gas-001", "gas_lel", 1_764_403_200L, 60.0)))
        .isEqualTo(Outcome.FLAGGED);
    assertThat(f.flags).singleElement().extracting(Flag::kind)
        .isEqualTo(Flag.Kind.SECONDS_AS_MILLIS);
    assertThat(f.out).isEmpty();
    assertThat(f.engine().stats().flagged()).isEqualTo(1);
  }

  @Test
  void unknownDevicesAreFlaggedOnceAndCounted() {
    Fixture f = Fixture.dongnan();
    f.clock.set(Fixture.T0);
    f.engine().onReading(Reading.of("ghost-1", "gas_lel", Fixture.T0, 60.0));
    f.engine().onReading(Reading.of("ghost-1", "gas_lel", Fixture.T0 + 1, 60.0));
    assertThat(f.flags).singleElement().extracting(Flag::kind).isEqualTo(Flag.Kind.UNKNOWN_DEVICE);
    assertThat(f.engine().stats().unknown()).isEqualTo(2);
    assertThat(f.out).isEmpty();
  }

  @Test
  void aMissingMetricNeverClearsAnAlarm() {
    Fixture f = Fixture.dongnan().device("gas-001", DeviceType.GAS_ALARM);
    f.at(0, "gas-001", "gas_lel", 30.0);
    // later messages without gas_lel (battery only) leave the alarm open
    for (int i = 1; i <= 10; i++) {
      f.at(i * 60_000L, "gas-001", "battery_pct", 80);
    }
    assertThat(f.out).singleElement().extracting(t -> t.kind()).isEqualTo(Kind.RAISE);
  }
}
