package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * newcomer7 F5: a device whose clock is more than 5 minutes ahead (a unit keeping Beijing time but
 * writing {@code Z}: 8 h) used to raise nothing at all until the wall clock caught up: every
 * reading and event was flagged {@code future_timestamp} and dropped. Now it is judged on its
 * arrival time (raises and clears, {@code device_clock: ahead}), still flagged and counted, a
 * resend of it is still judged once, and its future time never becomes the device's newest, so
 * the device's correct readings after its clock is put right are in order. Times are the gateway
 * clock {@code f.clock}; {@code kindsAt} shows alarm times as offsets from {@link Fixture#T0}.
 */
class ClockAheadTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String FIRE = "fire-panel-fire";
  private static final long MIN = 60_000L;
  /** Beijing time (UTC+8) sent as UTC. */
  private static final long EIGHT_HOURS = 8 * 3_600_000L;

  private static Fixture gas(String id) {
    return Fixture.dongnan().device(id, DeviceType.GAS_ALARM);
  }

  /** One single-reading message, arriving at T0 + arrivalOffset. */
  private static Outcome send(Fixture f, long arrivalOffset, String device, long ts, double lel) {
    f.clock.set(Fixture.T0 + arrivalOffset);
    return f.engine().onReading(Reading.of(device, "gas_lel", ts, lel));
  }

  private static Outcome event(Fixture f, long arrivalOffset, String device, long ts, String name,
      Integer zone) {
    f.clock.set(Fixture.T0 + arrivalOffset);
    return f.engine().onEvent(new DeviceEvent(device, ts, name, zone, zone == null ? null : 1, null));
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  @Test
  void aGasUnitEightHoursAhead_raisesAndClearsOnArrival() {
    Fixture f = gas("gas-030");
    long fast = Fixture.T0 + EIGHT_HOURS;
    assertThat(send(f, 0, "gas-030", fast, 1.0)).isEqualTo(Outcome.EVALUATED);
    assertThat(send(f, MIN, "gas-030", fast + MIN, 70.0)).isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(GAS))).as("raised when it arrived").containsExactly("RAISE@60000");
    AlarmTransition raise = f.of(GAS).get(0);
    assertThat(raise.severity()).isEqualTo(Severity.CRITICAL);
    assertThat(raise.evidence()).containsEntry("device_clock", "ahead")
        .containsEntry("reading_time_ms", fast + MIN)
        .containsEntry("rule_time_ms", Fixture.T0 + MIN);
    assertThat(raise.message()).contains("device clock wrong");
    send(f, 2 * MIN, "gas-030", fast + 2 * MIN, 1.0);
    assertThat(kindsAt(f.of(GAS))).as("its later normal reading clears it")
        .containsExactly("RAISE@60000", "CLEAR@120000");
    assertThat(f.flags).as("each one still flagged and counted").hasSize(3)
        .extracting(Flag::kind).containsOnly(Flag.Kind.FUTURE_TIMESTAMP);
    assertThat(f.engine().stats().flagged()).isEqualTo(3);
    assertThat(f.engine().latest("gas-030", "gas_lel"))
        .as("a future time never becomes the device's newest").isEmpty();
  }

  @Test
  void tenMinutesAhead_raisesAtOnce() {
    Fixture f = gas("gas-031");
    assertThat(send(f, 0, "gas-031", Fixture.T0 + 10 * MIN, 70.0)).isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0");
  }

  @Test
  void onceTheClockIsPutRight_itsCorrectReadingsAreInOrderNotLate() {
    Fixture f = gas("gas-033");
    send(f, 0, "gas-033", Fixture.T0, 1.0); // a correct reading first
    send(f, MIN, "gas-033", Fixture.T0 + MIN + EIGHT_HOURS, 70.0); // clock set 8 h ahead
    send(f, 2 * MIN, "gas-033", Fixture.T0 + 2 * MIN + EIGHT_HOURS, 72.0);
    // NTP puts the clock right: the next readings are newer than the newest correct one (T0)
    assertThat(send(f, 3 * MIN, "gas-033", Fixture.T0 + 3 * MIN, 1.0))
        .as("in order, not late behind the future time").isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@60000", "CLEAR@180000");
    assertThat(f.of(GAS).get(1).evidence()).doesNotContainKey("device_clock");
    assertThat(send(f, 4 * MIN, "gas-033", Fixture.T0 + 4 * MIN, 60.0))
        .isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@60000", "CLEAR@180000", "RAISE@240000");
    assertThat(f.engine().latest("gas-033", "gas_lel").orElseThrow()[0])
        .isEqualTo((double) (Fixture.T0 + 4 * MIN));
    assertThat(f.engine().stats().late()).isZero();
  }

  @Test
  void aResendOfAFutureStampedReading_isJudgedOnce() {
    Fixture f = gas("gas-034");
    long fast = Fixture.T0 + EIGHT_HOURS;
    send(f, 0, "gas-034", fast, 70.0);
    send(f, 30_000, "gas-034", fast + 30_000, 1.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@30000");
    // the unit's QoS 1 session resumed 10 minutes later resends both
    assertThat(send(f, 10 * MIN, "gas-034", fast, 70.0)).isEqualTo(Outcome.DUPLICATE);
    assertThat(send(f, 10 * MIN + 5, "gas-034", fast + 30_000, 1.0)).isEqualTo(Outcome.DUPLICATE);
    assertThat(kindsAt(f.of(GAS))).as("the resend never reopens the cleared alarm")
        .containsExactly("RAISE@0", "CLEAR@30000");
    assertThat(f.engine().stats().duplicates()).isEqualTo(2);
  }

  @Test
  void anOlderAheadReading_raisesButNeverClears() {
    Fixture f = gas("gas-035");
    long fast = Fixture.T0 + EIGHT_HOURS;
    send(f, 0, "gas-035", fast, 30.0); // level 1
    assertThat(send(f, 10_000, "gas-035", fast - 20_000, 1.0))
        .as("older than the newest ahead reading: late").isEqualTo(Outcome.LATE);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0");
    send(f, 20_000, "gas-035", fast - 10_000, 60.0);
    assertThat(f.of(GAS)).as("a late one past level 2 escalates, on arrival").hasSize(2);
    assertThat(f.of(GAS).get(1).kind()).isEqualTo(Kind.SEVERITY_CHANGE);
    assertThat(f.of(GAS).get(1).timeMillis()).isEqualTo(Fixture.T0 + 20_000);
  }

  @Test
  void aClockStoppedAhead_stillRaisesAndClears() {
    Fixture f = gas("gas-037");
    long stuck = Fixture.T0 + 2 * 3_600_000L;
    send(f, 0, "gas-037", stuck, 70.0);
    assertThat(send(f, MIN, "gas-037", stuck, 1.0)).isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@60000");
  }

  @Test
  void aFirePanelEightHoursAhead_raisesItsFireAndItsResetClearsIt() {
    Fixture f = Fixture.dongnan().device("fire-henghe-waitan", DeviceType.FIRE_PANEL);
    long fast = Fixture.T0 + EIGHT_HOURS;
    assertThat(event(f, 0, "fire-henghe-waitan", fast, "fire", 1)).isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(FIRE))).containsExactly("RAISE@0");
    AlarmTransition raise = f.of(FIRE).get(0);
    assertThat(raise.severity()).isEqualTo(Severity.CRITICAL);
    assertThat(raise.evidence()).containsEntry("device_clock", "ahead")
        .containsEntry("event_time_ms", fast).containsEntry("received_ms", Fixture.T0);
    assertThat(f.flags).singleElement().extracting(Flag::kind)
        .isEqualTo(Flag.Kind.FUTURE_TIMESTAMP);
    // a reset older than the fire by the panel's clock (sent before it) does not clear it
    event(f, MIN, "fire-henghe-waitan", fast - 5_000, "reset", null);
    assertThat(kindsAt(f.of(FIRE))).containsExactly("RAISE@0");
    // the resend of the fire is a duplicate; the panel's own reset after it clears
    assertThat(event(f, 2 * MIN, "fire-henghe-waitan", fast, "fire", 1))
        .isEqualTo(Outcome.DUPLICATE);
    event(f, 3 * MIN, "fire-henghe-waitan", fast + 3 * MIN, "reset", null);
    assertThat(kindsAt(f.of(FIRE))).containsExactly("RAISE@0", "CLEAR@180000");
    // clock put right: its next fire is in order, not history behind the future times
    assertThat(event(f, 4 * MIN, "fire-henghe-waitan", Fixture.T0 + 4 * MIN, "fire", 2))
        .isEqualTo(Outcome.EVALUATED);
    assertThat(kindsAt(f.of(FIRE))).containsExactly("RAISE@0", "CLEAR@180000", "RAISE@240000");
    assertThat(f.of(FIRE).get(2).evidence()).doesNotContainKey("device_clock");
  }

  @Test
  void secondsSentAsMillisecondsAreStillNotJudged() {
    Fixture f = gas("gas-036");
    assertThat(send(f, 0, "gas-036", 1_764_403_200L, 70.0)).isEqualTo(Outcome.FLAGGED);
    assertThat(f.out).isEmpty();
  }

  /**
   * review7 R8: a clear judged with the clock ahead happened when it arrived, not 8 h from now:
   * once NTP puts the clock right, a late 70 %LEL between two in-order readings still raises.
   */
  @Test
  void afterAnAheadClearAndNtp_aLateLeakStillRaises() {
    Fixture f = gas("gas-036");
    send(f, 0, "gas-036", Fixture.T0 + EIGHT_HOURS, 70.0);
    send(f, MIN, "gas-036", Fixture.T0 + EIGHT_HOURS + MIN, 1.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@60000");
    send(f, 2 * MIN, "gas-036", Fixture.T0 + 2 * MIN, 1.0); // NTP: right again
    send(f, 3 * MIN, "gas-036", Fixture.T0 + 3 * MIN, 1.0);
    send(f, 3 * MIN + 1_000, "gas-036", Fixture.T0 + 2 * MIN + 30_000, 70.0); // late, reordered
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@60000", "RAISE@150000");
    assertThat(f.of(GAS).get(2).evidence()).containsEntry("late", true);
  }
}
