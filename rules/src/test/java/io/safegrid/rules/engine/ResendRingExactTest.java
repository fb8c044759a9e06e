package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The resend ring compares the exact (time, value): a real late reading is never taken for a
 * resend. Round 6 kept a 32-bit mix of both, and a late 70 %LEL reading whose mix equalled that
 * of a judged normal reading was dropped as a duplicate (no alarm, no flag).
 */
class ResendRingExactTest {

  private static final String ID = "gas-330";

  /** Round 6's key (MetricState.key): {@code (int) t ^ (int) (b ^ (b >>> 32)) * 0x9E3779B9}. */
  private static int round6Key(long t, double v) {
    long b = Double.doubleToLongBits(v);
    return (int) t ^ (int) (b ^ (b >>> 32)) * 0x9E3779B9;
  }

  /** The inverse of an odd int modulo 2^32 (Newton's iteration). */
  private static int inverse(int a) {
    int x = a;
    for (int i = 0; i < 5; i++) {
      x *= 2 - a * x;
    }
    return x;
  }

  /** A value just above {@code near} whose round-6 key at time {@code t} is {@code key}. */
  private static double collidingValue(int key, long t, double near) {
    int folded = (key ^ (int) t) * inverse(0x9E3779B9);
    long high = Double.doubleToLongBits(near) >>> 32;
    long low = (folded ^ (int) high) & 0xFFFF_FFFFL;
    return Double.longBitsToDouble(high << 32 | low);
  }

  @Test
  void aLateReadingSharingRound6sKeyWithAJudgedOne_isJudged() {
    Fixture f = Fixture.dongnan().device(ID, DeviceType.GAS_ALARM);
    long t1 = Fixture.T0;
    f.clock.set(Fixture.T0 + 20_000);
    f.engine().onReadings(List.of(Reading.of(ID, "gas_lel", t1, 1.0),
        Reading.of(ID, "gas_lel", Fixture.T0 + 20_000, 1.0)));
    long late = Fixture.T0 + 10_000; // never sent before, between the two
    double lel = collidingValue(round6Key(t1, 1.0), late, 70.0);
    assertThat(round6Key(late, lel)).as("the collision is real").isEqualTo(round6Key(t1, 1.0));
    assertThat(lel).isBetween(70.0, 70.001);

    Outcome o = f.engine().onReading(Reading.of(ID, "gas_lel", late, lel));

    assertThat(o).isEqualTo(Outcome.LATE);
    List<AlarmTransition> raised = f.of("gas-lel-threshold");
    assertThat(raised).hasSize(1);
    assertThat(raised.get(0).severity()).isEqualTo(Severity.CRITICAL);
    assertThat(raised.get(0).timeMillis()).isEqualTo(late);
  }
}
