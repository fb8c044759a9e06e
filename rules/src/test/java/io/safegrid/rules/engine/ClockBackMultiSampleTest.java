package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * review8 R8-7: a gas unit that uploads 6 samples (10 s apart) per 60 s message comes back from
 * a power cut with its RTC 90 minutes behind (the demo's {@code clock_skew}); its previous leak
 * cleared in order 40 minutes ago. Its first message, 70 %LEL x 6, must raise at once: its
 * device times lie before that clear, and the history check used to drop it (raised only by
 * the next message, if any).
 */
class ClockBackMultiSampleTest {

  private static final String GAS = "gas-lel-threshold";
  private static final String ID = "gas-330";
  private static final long MIN = 60_000L;
  private static final long NOW = 180 * MIN;

  private static Fixture unit(int debounceSeconds) {
    return Fixture.dongnan().device(new DeviceProfile(ID, DeviceType.GAS_ALARM,
        DevicePlace.NOWHERE, 60, Map.of("debounce_s", debounceSeconds)));
  }

  /** One message: 6 samples 10 s apart from device time {@code T0 + from}, arriving at {@code T0 + at}. */
  private static void message(Fixture f, long at, long from, double lel) {
    f.clock.set(Fixture.T0 + at);
    List<Reading> l = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      l.add(Reading.of(ID, "gas_lel", Fixture.T0 + from + i * 10_000L, lel));
    }
    f.engine().onReadings(l);
  }

  /** A leak 50-40 min ago, cleared in order; normal since; the power cut; 70 %LEL, clock 90 min behind. */
  private static void story(Fixture f) {
    for (long t = NOW - 60 * MIN; t <= NOW - 2 * MIN; t += MIN) {
      boolean leak = t >= NOW - 50 * MIN && t < NOW - 40 * MIN;
      message(f, t + 60_000 - 1, t, leak ? 70.0 : 1.0);
    }
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR);
    message(f, NOW, NOW - 90 * MIN, 70.0);
  }

  @Test
  void withoutDebounce_theFirstMessageAfterTheClockWentBack_raises() {
    Fixture f = unit(0);
    story(f);
    assertThat(f.of(GAS)).as("raised by the first message, not held as history")
        .extracting(AlarmTransition::kind).containsExactly(Kind.RAISE, Kind.CLEAR, Kind.RAISE);
    AlarmTransition raise = f.of(GAS).get(2);
    assertThat(raise.severity().name()).isEqualTo("CRITICAL");
    assertThat(raise.evidence()).containsEntry("late", true)
        .containsEntry("received_ms", Fixture.T0 + NOW);
    // the next message confirms the clock behind: the alarm stays one, open
    message(f, NOW + MIN, NOW - 89 * MIN, 70.0);
    assertThat(f.of(GAS)).hasSize(3);
    assertThat(f.flags).anyMatch(fl -> fl.kind() == Flag.Kind.CLOCK_BEHIND);
    // and its normal values clear it, on arrival
    message(f, NOW + 2 * MIN, NOW - 88 * MIN, 1.0);
    assertThat(f.of(GAS)).last().extracting(AlarmTransition::kind).isEqualTo(Kind.CLEAR);
  }

  @Test
  void withADebounce_theFirstMessageHoldingItRaises() {
    Fixture f = unit(30);
    story(f);
    assertThat(f.of(GAS)).extracting(AlarmTransition::kind)
        .containsExactly(Kind.RAISE, Kind.CLEAR, Kind.RAISE);
    assertThat(f.of(GAS).get(2).evidence()).containsEntry("late", true)
        .containsEntry("held_since_ms", Fixture.T0 + NOW - 90 * MIN)
        .containsEntry("debounce_ms", 30_000L);
  }
}
