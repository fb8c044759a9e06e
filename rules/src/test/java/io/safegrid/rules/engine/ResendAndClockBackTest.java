package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The reviewer's round 6 findings on the clock-behind handling (review6.md 1, 1b, 2, 3, 5): a
 * QoS 1 resend, however late, is never judged twice (no false alarm, no fire alarm its own reset
 * cannot clear); a clock that went back raises on the first hazardous reading even after an
 * earlier clear; a unit sending several samples per message is judged by its newest sample; a
 * backlog sent newest-first is judged oldest-first. Times are the gateway clock {@code f.clock}.
 */
class ResendAndClockBackTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String FIRE = "fire-panel-fire";
  private static final long MIN = 60_000L;
  /** 2000-01-01T00:00:00Z: an RTC's default after a power cut. */
  private static final long Y2000 = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();

  private static Fixture gas(String id) {
    return Fixture.dongnan().device(id, DeviceType.GAS_ALARM);
  }

  /** One single-reading message, arriving at T0 + arrivalOffset. */
  private static void send(Fixture f, long arrivalOffset, String device, long ts, double lel) {
    f.clock.set(Fixture.T0 + arrivalOffset);
    f.engine().onReadings(List.of(Reading.of(device, "gas_lel", ts, lel)));
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  /** review6 1: a gas unit resends its in-flight PUBLISH after a 10 min link loss. */
  @Test
  void resendsTenMinutesLater_neverReopenAClearedGasAlarm() {
    Fixture f = gas("gas-201");
    send(f, 0, "gas-201", Fixture.T0, 60.0);
    send(f, 10_000, "gas-201", Fixture.T0 + 10_000, 61.0);
    send(f, 20_000, "gas-201", Fixture.T0 + 20_000, 1.0);
    send(f, 30_000, "gas-201", Fixture.T0 + 30_000, 1.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@20000");
    send(f, 10 * MIN, "gas-201", Fixture.T0, 60.0);
    send(f, 10 * MIN + 5, "gas-201", Fixture.T0 + 10_000, 61.0);
    send(f, 10 * MIN + 10, "gas-201", Fixture.T0 + 20_000, 1.0);
    send(f, 10 * MIN + 15, "gas-201", Fixture.T0 + 30_000, 1.0);
    assertThat(kindsAt(f.of(GAS))).as("the resends are duplicates: nothing reopens")
        .containsExactly("RAISE@0", "CLEAR@20000");
    assertThat(f.flags).isEmpty();
    assertThat(f.engine().stats().duplicates()).isEqualTo(4);
    assertThat(f.engine().latest("gas-201", "gas_lel").orElseThrow()[0])
        .as("the device's newest does not go back").isEqualTo((double) (Fixture.T0 + 30_000));
    // and the unit goes on as before: its next reading is in order and raises on its own time
    send(f, 10 * MIN + 20, "gas-201", Fixture.T0 + 10 * MIN, 70.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@20000", "RAISE@600000");
  }

  /** review6 1, as a multi-sample message resent later. */
  @Test
  void aMultiSampleMessageResentLater_isADuplicate() {
    Fixture f = gas("gas-202");
    f.clock.set(Fixture.T0);
    List<Reading> msg = List.of(Reading.of("gas-202", "gas_lel", Fixture.T0 - 30_000, 60.0),
        Reading.of("gas-202", "gas_lel", Fixture.T0, 1.0));
    f.engine().onReadings(msg);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@-30000", "CLEAR@0");
    f.clock.set(Fixture.T0 + 20 * MIN);
    f.engine().onReadings(msg);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@-30000", "CLEAR@0");
    assertThat(f.flags).isEmpty();
  }

  /** review6 1b: a fire panel's fire and reset, both resent 10 min later (QoS 1 session). */
  @Test
  void aFireAndItsResetResentLater_neverOpenAFireAlarm() {
    Fixture f = Fixture.dongnan().device("fp-201", DeviceType.FIRE_PANEL);
    RuleEngine e = f.engine();
    f.clock.set(Fixture.T0);
    e.onEvent(new DeviceEvent("fp-201", Fixture.T0, "fire", 10, 2, "x"));
    f.clock.set(Fixture.T0 + 2 * MIN);
    e.onEvent(new DeviceEvent("fp-201", Fixture.T0 + 2 * MIN, "reset", 10, 2, "x"));
    f.clock.set(Fixture.T0 + 10 * MIN);
    assertThat(e.onEvent(new DeviceEvent("fp-201", Fixture.T0, "fire", 10, 2, "x")))
        .isEqualTo(Outcome.DUPLICATE);
    f.clock.set(Fixture.T0 + 10 * MIN + 5);
    assertThat(e.onEvent(new DeviceEvent("fp-201", Fixture.T0 + 2 * MIN, "reset", 10, 2, "x")))
        .isEqualTo(Outcome.DUPLICATE);
    assertThat(kindsAt(f.of(FIRE))).containsExactly("RAISE@0", "CLEAR@120000");
    // a different fire at the same millisecond (another zone) is no resend
    f.clock.set(Fixture.T0 + 11 * MIN);
    e.onEvent(new DeviceEvent("fp-201", Fixture.T0 + 11 * MIN, "fire", 3, 1, null));
    e.onEvent(new DeviceEvent("fp-201", Fixture.T0 + 11 * MIN, "fire", 4, 1, null));
    assertThat(e.stats().duplicates()).isEqualTo(2);
  }

  /** review6 1b, second half: after a clock reset, the panel's own reset clears its late fire. */
  @Test
  void aPanelWhoseClockWentBack_clearsItsLateFireWithItsOwnReset() {
    Fixture f = Fixture.dongnan().device("fp-202", DeviceType.FIRE_PANEL);
    RuleEngine e = f.engine();
    f.clock.set(Fixture.T0);
    e.onEvent(new DeviceEvent("fp-202", Fixture.T0, "fire", 1, 1, null));
    f.clock.set(Fixture.T0 + MIN);
    e.onEvent(new DeviceEvent("fp-202", Fixture.T0 + MIN, "reset", null, null, null));
    // power cut: clock back to 2000, a fire, then the panel's reset
    f.clock.set(Fixture.T0 + 30 * MIN);
    e.onEvent(new DeviceEvent("fp-202", Y2000 + 5_000, "fire", 2, 7, null));
    f.clock.set(Fixture.T0 + 33 * MIN);
    e.onEvent(new DeviceEvent("fp-202", Y2000 + 185_000, "reset", null, null, null));
    assertThat(kindsAt(f.of(FIRE)))
        .containsExactly("RAISE@0", "CLEAR@60000", "RAISE@1800000", "CLEAR@1980000");
    assertThat(f.of(FIRE).get(3).evidence()).containsEntry("late", true)
        .containsEntry("event_time_ms", Y2000 + 185_000);
    // a reset older than the late fire (by the device's clock) does not clear it
    f.clock.set(Fixture.T0 + 40 * MIN);
    e.onEvent(new DeviceEvent("fp-202", Y2000 + 600_000, "fire", 2, 8, null));
    f.clock.set(Fixture.T0 + 41 * MIN);
    e.onEvent(new DeviceEvent("fp-202", Y2000 + 500_000, "reset", null, null, null));
    assertThat(f.of(FIRE)).hasSize(5).last().extracting(AlarmTransition::kind)
        .isEqualTo(Kind.RAISE);
  }

  /** review6 2: the first hazardous reading after a clock reset, after an earlier clear. */
  @Test
  void theFirstHazardousReadingAfterAClockReset_raisesEvenAfterAnEarlierClear() {
    Fixture f = gas("gas-203");
    send(f, 0, "gas-203", Fixture.T0, 60.0);
    send(f, MIN, "gas-203", Fixture.T0 + MIN, 1.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@60000");
    send(f, 30 * MIN, "gas-203", Y2000 + 30_000, 70.0);
    assertThat(f.of(GAS)).as("raised on arrival, not history").hasSize(3);
    AlarmTransition raise = f.of(GAS).get(2);
    assertThat(raise.kind()).isEqualTo(Kind.RAISE);
    assertThat(raise.severity()).isEqualTo(Severity.CRITICAL);
    assertThat(raise.timeMillis()).isEqualTo(Fixture.T0 + 30 * MIN);
    assertThat(raise.evidence()).containsEntry("late", true)
        .containsEntry("reading_time_ms", Y2000 + 30_000);
    send(f, 35 * MIN, "gas-203", Y2000 + 5 * MIN + 30_000, 70.0);
    send(f, 40 * MIN, "gas-203", Y2000 + 10 * MIN + 30_000, 1.0);
    assertThat(kindsAt(f.of(GAS)))
        .containsExactly("RAISE@0", "CLEAR@60000", "RAISE@1800000", "CLEAR@2400000");
  }

  /** review6 3: a unit that sends two samples per message, clock back to 2000. */
  @Test
  void aUnitSendingTwoSamplesPerMessage_whoseClockWentBack_raisesAndClears() {
    Fixture f = gas("gas-204");
    f.clock.set(Fixture.T0);
    f.engine().onReadings(List.of(Reading.of("gas-204", "gas_lel", Fixture.T0 - 30_000, 60.0),
        Reading.of("gas-204", "gas_lel", Fixture.T0, 60.0)));
    f.clock.set(Fixture.T0 + MIN);
    f.engine().onReadings(List.of(Reading.of("gas-204", "gas_lel", Fixture.T0 + 30_000, 1.0),
        Reading.of("gas-204", "gas_lel", Fixture.T0 + MIN, 1.0)));
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    for (int i = 1; i <= 10; i++) {
      f.clock.set(Fixture.T0 + 30 * MIN + i * MIN);
      double v = i >= 3 && i < 6 ? 70.0 : 1.0;
      f.engine().onReadings(List.of(Reading.of("gas-204", "gas_lel", Y2000 + i * MIN - 30_000, v),
          Reading.of("gas-204", "gas_lel", Y2000 + i * MIN, v)));
    }
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@-30000", "CLEAR@30000",
        "RAISE@" + (33 * MIN), "CLEAR@" + (36 * MIN));
    assertThat(f.of(GAS).get(2).severity()).isEqualTo(Severity.CRITICAL);
    assertThat(f.flags).extracting(Flag::kind).contains(Flag.Kind.CLOCK_BEHIND);
  }

  /**
   * A backlog uploaded in parts right after a current reading (oldest part first) is never taken
   * for a clock that went back: the parts come in a burst, the device time jumps minutes in
   * milliseconds; so they never clear an alarm the current reading opened.
   */
  @Test
  void aBacklogUploadedInParts_isNeverTakenForAClockThatWentBack() {
    Fixture f = gas("gas-205");
    send(f, 0, "gas-205", Fixture.T0, 70.0);
    for (int part = 0; part < 4; part++) {
      f.clock.set(Fixture.T0 + 1_000 + part * 50);
      long from = Fixture.T0 - 120 * MIN + part * 3 * MIN;
      f.engine().onReadings(List.of(Reading.of("gas-205", "gas_lel", from, 1.0),
          Reading.of("gas-205", "gas_lel", from + MIN, 1.0),
          Reading.of("gas-205", "gas_lel", from + 2 * MIN, 1.0)));
    }
    assertThat(f.of(GAS)).singleElement().extracting(AlarmTransition::kind).isEqualTo(Kind.RAISE);
    assertThat(f.flags).isEmpty();
  }

  /**
   * A clock reset to 2000 is confirmed by the next message even in a burst (a queue flushed at
   * reconnect): no backlog is 26 years old.
   */
  @Test
  void aClockResetTo2000_isConfirmedEvenByABurst() {
    Fixture f = gas("gas-207");
    send(f, 0, "gas-207", Fixture.T0, 1.0);
    send(f, MIN, "gas-207", Y2000 + 5_000, 70.0);
    send(f, MIN + 10, "gas-207", Y2000 + 65_000, 72.0);
    send(f, MIN + 20, "gas-207", Y2000 + 125_000, 1.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@60000", "CLEAR@60020");
  }

  /**
   * A clock reset to 2000 twice (power flapping) gives the same device time again; a hazardous
   * value at it is no resend of the normal one seen before at that time.
   */
  @Test
  void aClockResetTwice_aHazardousReadingAtATimeSeenBefore_stillRaises() {
    Fixture f = gas("gas-208");
    send(f, 0, "gas-208", Fixture.T0, 1.0);
    send(f, MIN, "gas-208", Y2000 + 5_000, 1.0);
    send(f, 2 * MIN, "gas-208", Y2000 + 65_000, 1.0);
    // power cut again: the unit boots and reports at 2000-01-01T00:00:05Z again
    send(f, 5 * MIN, "gas-208", Y2000 + 5_000, 70.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@" + 5 * MIN);
    // and the same message resent is a duplicate
    send(f, 5 * MIN + 10, "gas-208", Y2000 + 5_000, 70.0);
    assertThat(f.of(GAS)).hasSize(1);
  }

  /** review6 5: a backlog sent newest-first is judged oldest-first, so its own clear counts. */
  @Test
  void aBacklogSentNewestFirst_isJudgedOldestFirst() {
    Fixture f = gas("gas-206");
    f.clock.set(Fixture.T0);
    f.engine().onReadings(List.of(Reading.of("gas-206", "gas_lel", Fixture.T0, 1.0),
        Reading.of("gas-206", "gas_lel", Fixture.T0 - 30 * MIN, 70.0),
        Reading.of("gas-206", "gas_lel", Fixture.T0 - 29 * MIN, 1.0)));
    f.clock.set(Fixture.T0 + 10 * MIN);
    f.engine().advanceTo(Fixture.T0 + 10 * MIN);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@" + (-30 * MIN), "CLEAR@" + (-29 * MIN));
  }
}
