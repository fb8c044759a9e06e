package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A device whose clock is stopped (every reading the same {@code ts}: an RTC that no longer runs,
 * a firmware stamping its boot time) is judged on arrival: a same-time reading with another value
 * is no resend (review6 4). A true resend (same time, same value) stays a duplicate.
 */
class FrozenClockTest {

  private static final String GAS = "gas-lel-threshold";
  private static final long SEC = 1_000L;
  /** 2000-01-01T00:00:00Z: where a stopped RTC often sits. */
  private static final long Y2000 = Instant.parse("2000-01-01T00:00:00Z").toEpochMilli();

  private static void send(Fixture f, long arrivalOffset, long ts, double lel) {
    f.clock.set(Fixture.T0 + arrivalOffset);
    f.engine().onReadings(List.of(Reading.of("gas-301", "gas_lel", ts, lel)));
  }

  private static List<String> kindsAt(List<AlarmTransition> ts) {
    return ts.stream().map(t -> t.kind() + "@" + (t.timeMillis() - Fixture.T0)).toList();
  }

  private static Fixture gas() {
    return Fixture.dongnan().device("gas-301", DeviceType.GAS_ALARM);
  }

  @Test
  void frozenRtc_gasGoing0To60_raisesOnArrival_andIsFlagged() {
    Fixture f = gas();
    send(f, 0, Y2000, 0.0);
    send(f, 10 * SEC, Y2000, 60.0);
    send(f, 20 * SEC, Y2000, 60.0); // the same value again: nothing new either way
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@10000");
    AlarmTransition raise = f.of(GAS).get(0);
    assertThat(raise.severity()).isEqualTo(Severity.CRITICAL);
    assertThat(raise.evidence()).containsEntry("reading_time_ms", Y2000)
        .containsEntry("value", 60.0);
    assertThat(f.flags).extracting(fl -> fl.kind().reason()).containsExactly("clock_frozen");
    assertThat(f.flags.get(0).detail()).contains("60.0").contains("was 0.0");
  }

  @Test
  void frozenRtc_clearsAndRaisesAgain() {
    Fixture f = gas();
    send(f, 0, Y2000, 0.0);
    send(f, 10 * SEC, Y2000, 60.0);
    send(f, 20 * SEC, Y2000, 0.0); // a value seen before at that time: still no resend
    send(f, 30 * SEC, Y2000, 60.0);
    assertThat(kindsAt(f.of(GAS)))
        .containsExactly("RAISE@10000", "CLEAR@20000", "RAISE@30000");
    assertThat(f.flags).hasSize(3).allMatch(fl -> fl.kind() == Flag.Kind.CLOCK_FROZEN);
  }

  @Test
  void clockStoppedNearNow_raisesOnArrival() {
    Fixture f = gas();
    send(f, 0, Fixture.T0, 1.0);
    send(f, 60 * SEC, Fixture.T0, 30.0);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@60000");
    assertThat(f.of(GAS).get(0).severity()).isEqualTo(Severity.MAJOR);
  }

  @Test
  void frozenRtc_thatStartsRunningAgain_isJudgedOnArrival() {
    Fixture f = gas();
    send(f, 0, Y2000, 0.0);
    send(f, 10 * SEC, Y2000, 60.0);
    send(f, 20 * SEC, Y2000 + 1, 1.0); // running again, 26 years behind: a clock behind
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@10000", "CLEAR@20000");
    assertThat(f.flags).extracting(fl -> fl.kind().reason())
        .containsExactly("clock_frozen", "clock_behind");
  }

  @Test
  void trueResend_sameTimeSameValue_isADuplicate() {
    Fixture f = gas();
    send(f, 0, Fixture.T0, 60.0);
    send(f, 10 * SEC, Fixture.T0 + 10 * SEC, 1.0);
    f.clock.set(Fixture.T0 + 11 * SEC);
    assertThat(f.engine().onReading(Reading.of("gas-301", "gas_lel", Fixture.T0 + 10 * SEC, 1.0)))
        .isEqualTo(Outcome.DUPLICATE);
    assertThat(f.engine().onReading(Reading.of("gas-301", "gas_lel", Fixture.T0, 60.0)))
        .isEqualTo(Outcome.DUPLICATE);
    assertThat(kindsAt(f.of(GAS))).containsExactly("RAISE@0", "CLEAR@10000");
    assertThat(f.flags).isEmpty();
    assertThat(f.engine().stats().duplicates()).isEqualTo(2);
  }
}
