package io.safegrid.rules.rate;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.AlarmTransition.Kind;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Severity;
import io.safegrid.rules.Fixture;
import org.junit.jupiter.api.Test;

class RateOfChangeRuleTest {

  private static final String GAUGE = "gauge-jialing-1";
  private static final long FIVE_MIN = 300_000;

  /** Feeds a level every 5 min rising at {@code mPerHour}, from 260.00 m, for {@code steps}. */
  private static void rise(Fixture f, double mPerHour, int steps) {
    for (int i = 0; i <= steps; i++) {
      f.at(i * FIVE_MIN, GAUGE, "water_level_m", 260.0 + mPerHour * i / 12.0);
    }
  }

  @Test
  void riverRising0point6MetresPerHourRaisesAgainstA0point5Limit() {
    Fixture f = Fixture.dongnan().device(GAUGE, DeviceType.RIVER_GAUGE);
    rise(f, 0.6, 12);
    assertThat(f.of("river-rise-rate")).singleElement().satisfies(t -> {
      assertThat(t.kind()).isEqualTo(Kind.RAISE);
      assertThat(t.severity()).isEqualTo(Severity.WARNING);
      // first judged once the samples span 15 min (3 x 5 min)
      assertThat(t.timeMillis()).isEqualTo(Fixture.T0 + 3 * FIVE_MIN);
      assertThat((Double) t.evidence().get("rate_per_h")).isCloseTo(0.6, org.assertj.core.data.Offset.offset(1e-9));
      assertThat(t.evidence()).containsEntry("limit_per_h", 0.5);
    });
  }

  @Test
  void riverRising0point4MetresPerHourDoesNotRaise() {
    Fixture f = Fixture.dongnan().device(GAUGE, DeviceType.RIVER_GAUGE);
    rise(f, 0.4, 24);
    assertThat(f.of("river-rise-rate")).isEmpty();
  }

  @Test
  void aQuickJumpBetweenTwoCloseSamplesIsNotARate() {
    Fixture f = Fixture.dongnan().device(GAUGE, DeviceType.RIVER_GAUGE);
    f.at(0, GAUGE, "water_level_m", 260.0);
    f.at(60_000, GAUGE, "water_level_m", 260.2); // 12 m/h over one minute: noise, span < 15 min
    assertThat(f.of("river-rise-rate")).isEmpty();
  }

  @Test
  void clearsWhenTheRiverLevelsOff() {
    Fixture f = Fixture.dongnan().device(GAUGE, DeviceType.RIVER_GAUGE);
    rise(f, 0.6, 12);
    double top = 260.6;
    for (int i = 13; i <= 30; i++) {
      f.at(i * FIVE_MIN, GAUGE, "water_level_m", top);
    }
    assertThat(f.of("river-rise-rate")).extracting(t -> t.kind()).containsExactly(Kind.RAISE, Kind.CLEAR);
  }
}
