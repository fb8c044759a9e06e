package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Readings older than the device's newest one (newcomer6 finding 1): a wrong device clock or a
 * late backlog must never hide a hazardous reading, a wrong clock must still raise and clear, and
 * what is right today stays (event time for in-order streams, one alarm per resend, durations).
 * Each case is the newcomer's repro on the engine: the gateway clock is {@code f.clock}.
 */
class ClockAndLateReadingsTest {

  private static final String GAS = "gas-lel-threshold";
  private static final long MIN = 60_000L;
  /** 2000-01-01T00:00:00Z: an RTC's default after a power cut. */
  private static final long Y2000 = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();

  private static Fixture gas(String id) {
    return Fixture.dongnan().device(id, DeviceType.GAS_ALARM);
  }

  /** Feeds one single-reading message as the gateway does, arriving at T0 + arrivalOffset. */
  private static void send(Fixture f, long arrivalOffset, String device, long ts, double lel) {
    f.clock.set(Fixture.T0 + arrivalOffset);
    f.engine().onReadings(List.of(Reading.of(device, "gas_lel", ts, lel)));
  }

  @Test
  void a_clockResetTo2000_stillRaisesAndClearsOnArrivalTime() {
    Fixture f = gas("gas-109");
    send(f, 0, "gas-109", Fixture.T0, 1.0);
    send(f, 60_000, "gas-109", Y2000 + 5_000, 70.0);
    assertThat(f.of(GAS)).as("the first hazardous reading after the reset raises at once")
        .singleElement().satisfies(t -> {
          assertThat(t.kind()).isEqualTo(Kind.RAISE);
          assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
          assertThat(t.timeMillis()).as("a time from 2000 is no alarm time: arrival")
              .isEqualTo(Fixture.T0 + 60_000);
          assertThat(t.evidence()).containsEntry("reading_time_ms", Y2000 + 5_000)
              .containsEntry("late", true);
        });
    send(f, 120_000, "gas-109", Y2000 + 65_000, 72.0);
    assertThat(f.flags).extracting(Flag::kind).contains(Flag.Kind.CLOCK_BEHIND);
    send(f, 180_000, "gas-109", Y2000 + 125_000, 1.0);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    AlarmTransition clear = f.of(GAS).get(1);
    assertThat(clear.timeMillis()).isEqualTo(Fixture.T0 + 180_000);
    assertThat(clear.evidence()).containsEntry("device_clock", "behind")
        .containsEntry("reading_time_ms", Y2000 + 125_000);
    assertThat(clear.message()).contains("device clock wrong (sent 2000-01-01T00:02:05Z)");
    // and for good: hours later the device raises and clears again
    send(f, 3 * 3_600_000L, "gas-109", Y2000 + 3 * 3_600_000L, 60.0);
    send(f, 3 * 3_600_000L + MIN, "gas-109", Y2000 + 3 * 3_600_000L + MIN, 0.5);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR, Kind.RAISE, Kind.CLEAR);
    assertThat(f.engine().isOffline("gas-109")).isFalse();
  }

  @Test
  void b_clock90MinutesBehind_raisesAndClears_andDebounceRunsOnArrivalTime() {
    Fixture f = Fixture.dongnan().device(new DeviceProfile("gas-110", DeviceType.GAS_ALARM,
        DevicePlace.NOWHERE, 0, Map.of("debounce_s", 30)));
    long skew = 90 * MIN;
    send(f, 0, "gas-110", Fixture.T0, 1.0);
    send(f, 1_000, "gas-110", Fixture.T0 - skew + 1_000, 65.0);
    assertThat(f.of(GAS)).as("late: raises at once, debounce cannot be judged")
        .singleElement().extracting(AlarmTransition::severity).isEqualTo(Severity.CRITICAL);
    // the clock stays behind: a second reading confirms it; from then on real durations
    send(f, 61_000, "gas-110", Fixture.T0 - skew + 61_000, 1.0);
    assertThat(f.of(GAS)).as("the clear waits for its 30 s debounce").hasSize(1);
    f.engine().advanceTo(Fixture.T0 + 61_000 + 29_999);
    assertThat(f.of(GAS)).hasSize(1);
    f.engine().advanceTo(Fixture.T0 + 61_000 + 30_000);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    assertThat(f.of(GAS).get(1).timeMillis()).isEqualTo(Fixture.T0 + 91_000);
    // a rise that holds 30 s of arrival time raises again; one that does not, does not
    send(f, 121_000, "gas-110", Fixture.T0 - skew + 121_000, 40.0);
    send(f, 131_000, "gas-110", Fixture.T0 - skew + 131_000, 2.0);
    f.engine().advanceTo(Fixture.T0 + 200_000);
    assertThat(f.of(GAS)).hasSize(2);
    send(f, 241_000, "gas-110", Fixture.T0 - skew + 241_000, 40.0);
    send(f, 271_000, "gas-110", Fixture.T0 - skew + 271_000, 41.0);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR, Kind.RAISE);
    assertThat(f.flags).filteredOn(fl -> fl.kind() == Flag.Kind.CLOCK_BEHIND).hasSize(5);
  }

  @Test
  void c_afterOneReadingStampedAhead_correctReadingsStillRaise() {
    Fixture f = gas("gas-111");
    send(f, 0, "gas-111", Fixture.T0 + 4 * MIN, 1.0); // within the 5 min future tolerance
    send(f, 1_000, "gas-111", Fixture.T0 + 1_000, 66.0); // no ts: receive time
    assertThat(f.of(GAS)).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 + 1_000);
      assertThat(t.message()).contains("late reading");
    });
    assertThat(f.flags).singleElement().satisfies(fl -> {
      assertThat(fl.kind()).isEqualTo(Flag.Kind.LATE_READING);
      assertThat(fl.kind().reason()).isEqualTo("late_reading");
    });
    // a late low reading does not clear (a newer one decided); once in order again, it clears
    send(f, 61_000, "gas-111", Fixture.T0 + 61_000, 1.0);
    assertThat(f.of(GAS)).hasSize(1);
    send(f, 4 * MIN + 60_000, "gas-111", Fixture.T0 + 5 * MIN, 1.0);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
  }

  @Test
  void d_aBacklogAfterTheCurrentReading_raisesThePastLeakWithItsOwnTime() {
    Fixture f = gas("gas-113");
    send(f, 0, "gas-113", Fixture.T0, 1.0);
    f.engine().onReadings(List.of(
        Reading.of("gas-113", "gas_lel", Fixture.T0 - 5 * MIN, 55.0),
        Reading.of("gas-113", "gas_lel", Fixture.T0 - 4 * MIN, 58.0)));
    assertThat(f.of(GAS)).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 - 5 * MIN);
      assertThat(t.evidence()).containsEntry("value", 55.0)
          .containsEntry("reading_time_ms", Fixture.T0 - 5 * MIN)
          .containsEntry("received_ms", Fixture.T0).containsEntry("late", true);
    });
    // the same backlog again (resent) changes nothing; the next current reading clears
    f.engine().onReadings(List.of(
        Reading.of("gas-113", "gas_lel", Fixture.T0 - 5 * MIN, 55.0),
        Reading.of("gas-113", "gas_lel", Fixture.T0 - 4 * MIN, 58.0)));
    send(f, 60_000, "gas-113", Fixture.T0 + 60_000, 1.0);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
  }

  @Test
  void d_theUnitsOwnHighAlarmStateInALateBacklogIsRaisedToo_andALateNormalStateClearsNothing() {
    Fixture f = gas("gas-118");
    f.clock.set(Fixture.T0);
    f.engine().onReadings(List.of(Reading.of("gas-118", "state", Fixture.T0, 0)));
    f.engine().onReadings(List.of(
        Reading.of("gas-118", "state", Fixture.T0 - 3 * MIN, 2),
        Reading.of("gas-118", "state", Fixture.T0 - 2 * MIN, 0)));
    assertThat(f.of("gas-device-alarm")).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.CRITICAL);
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 - 3 * MIN);
      assertThat(t.evidence()).containsEntry("late", true).containsEntry("state", "high_alarm");
    });
    f.clock.set(Fixture.T0 + MIN);
    f.engine().onReadings(List.of(Reading.of("gas-118", "state", Fixture.T0 + MIN, 0)));
    assertThat(f.of("gas-device-alarm")).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR);
  }

  @Test
  void aFirePanelWhoseClockWentBackStillRaisesAFire_butAResendNeverReopensOne() {
    Fixture f = Fixture.dongnan().device("fire-1", DeviceType.FIRE_PANEL);
    RuleEngine e = f.engine();
    f.clock.set(Fixture.T0);
    e.onEvent(new DeviceEvent("fire-1", Fixture.T0, "fire", 3, 12, null));
    f.clock.set(Fixture.T0 + MIN);
    e.onEvent(new DeviceEvent("fire-1", Fixture.T0 + MIN, "reset", null, null, null));
    f.clock.set(Fixture.T0 + 90_000);
    e.onEvent(new DeviceEvent("fire-1", Fixture.T0, "fire", 3, 12, null)); // QoS 1 resend
    assertThat(f.of("fire-panel-fire")).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR);
    // power cut: the panel's clock restarts at 2000 and it reports a fire
    f.clock.set(Fixture.T0 + 2 * MIN);
    e.onEvent(new DeviceEvent("fire-1", Y2000 + 5_000, "fire", 4, 1, null));
    assertThat(f.of("fire-panel-fire")).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR, Kind.RAISE);
    AlarmTransition fire = f.of("fire-panel-fire").get(2);
    assertThat(fire.severity()).isEqualTo(Severity.CRITICAL);
    assertThat(fire.timeMillis()).isEqualTo(Fixture.T0 + 2 * MIN);
    assertThat(fire.evidence()).containsEntry("late", true)
        .containsEntry("event_time_ms", Y2000 + 5_000).containsEntry("zone", 4);
  }

  @Test
  void anOldBacklogAfterACurrentAlarm_neitherClearsItNorIsTakenForAClockJump() {
    Fixture f = gas("gas-114");
    send(f, 0, "gas-114", Fixture.T0, 70.0);
    f.clock.set(Fixture.T0 + 1_000);
    f.engine().onReadings(List.of(
        Reading.of("gas-114", "gas_lel", Fixture.T0 - 120 * MIN, 1.0),
        Reading.of("gas-114", "gas_lel", Fixture.T0 - 119 * MIN, 1.0),
        Reading.of("gas-114", "gas_lel", Fixture.T0 - 118 * MIN, 1.0)));
    assertThat(f.of(GAS)).singleElement().extracting(AlarmTransition::kind).isEqualTo(Kind.RAISE);
    assertThat(f.flags).isEmpty();
  }

  @Test
  void aResendNeverGivesASecondAlarmNorReopensAClearedOne_evenWithAClockBehind() {
    Fixture f = gas("gas-115");
    send(f, 0, "gas-115", Fixture.T0, 1.0);
    send(f, 10_000, "gas-115", Y2000, 1.0); // clock reset: first reading far behind
    send(f, 70_000, "gas-115", Y2000 + 60_000, 70.0); // confirms it: judged on arrival
    send(f, 75_000, "gas-115", Y2000 + 60_000, 70.0); // QoS 1 resend: same ts
    send(f, 130_000, "gas-115", Y2000 + 120_000, 1.0);
    send(f, 135_000, "gas-115", Y2000 + 60_000, 70.0); // resent again after the clear
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    // both resends carry a device time judged already: duplicates, not late readings
    assertThat(f.flags).filteredOn(fl -> fl.kind() == Flag.Kind.LATE_READING).isEmpty();
    assertThat(f.engine().stats().duplicates()).isEqualTo(2);
    // and with a correct clock: the same message twice, and a resend after the clear
    Fixture g = gas("gas-116");
    send(g, 0, "gas-116", Fixture.T0, 70.0);
    send(g, 5, "gas-116", Fixture.T0, 70.0);
    send(g, 60_000, "gas-116", Fixture.T0 + 60_000, 1.0);
    send(g, 61_000, "gas-116", Fixture.T0, 70.0);
    assertThat(g.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    assertThat(g.engine().stats().duplicates()).isEqualTo(2);
  }

  @Test
  void aNormalDevice_keepsEventTimeForDebounceAndTransitions() {
    Fixture f = Fixture.dongnan().device(new DeviceProfile("gas-117", DeviceType.GAS_ALARM,
        DevicePlace.NOWHERE, 0, Map.of("debounce_s", 10)));
    // readings arrive 2 s after their time, as over a real network
    send(f, 2_000, "gas-117", Fixture.T0, 30.0);
    send(f, 7_000, "gas-117", Fixture.T0 + 5_000, 31.0);
    f.engine().advanceTo(Fixture.T0 + 9_999);
    assertThat(f.out).isEmpty();
    f.engine().advanceTo(Fixture.T0 + 10_000);
    assertThat(f.of(GAS)).singleElement().satisfies(t -> {
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 + 10_000);
      assertThat(t.evidence()).containsEntry("held_since_ms", Fixture.T0)
          .doesNotContainKey("device_clock").doesNotContainKey("late");
    });
    // a clear confirmed by a reading at least the debounce later, at that reading's time
    send(f, 22_000, "gas-117", Fixture.T0 + 20_000, 1.0);
    send(f, 32_000, "gas-117", Fixture.T0 + 30_000, 1.0);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    assertThat(f.of(GAS).get(1).timeMillis()).isEqualTo(Fixture.T0 + 30_000);
    // an hour-old backlog sent oldest-first after an outage is judged on its own times
    f.clock.set(Fixture.T0 + 3 * 3_600_000L);
    f.engine().onReadings(List.of(
        Reading.of("gas-117", "gas_lel", Fixture.T0 + 3_600_000L, 60.0),
        Reading.of("gas-117", "gas_lel", Fixture.T0 + 3_600_000L + 10_000, 60.0),
        Reading.of("gas-117", "gas_lel", Fixture.T0 + 3_600_000L + 20_000, 0.0),
        Reading.of("gas-117", "gas_lel", Fixture.T0 + 3_600_000L + 30_000, 0.0)));
    assertThat(f.of(GAS)).extracting(AlarmTransition::timeMillis).containsExactly(
        Fixture.T0 + 10_000, Fixture.T0 + 30_000,
        Fixture.T0 + 3_600_000L + 10_000, Fixture.T0 + 3_600_000L + 30_000);
    assertThat(f.flags).isEmpty();
  }
}
