package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * review7 R15: the engine keeps state (newest value, the 32-reading resend ring: 528 bytes and
 * more) only for metrics some rule of the device's type reads. Names no rule reads, up to
 * ingest's per-device budget (16 others), cost nothing here, however many devices send them; the
 * names the rules read are judged as before.
 */
class UnreadMetricsTest {

  @Test
  void namesNoRuleReads_keepNoStateAndRaiseNothing() {
    Fixture f = Fixture.dongnan().device("gas-077", DeviceType.GAS_ALARM);
    List<Reading> message = new ArrayList<>();
    for (int i = 0; i < 2_000; i++) {
      message.add(Reading.of("gas-077", String.format("m%05d", i), Fixture.T0, 1.0));
    }
    message.add(Reading.of("gas-077", "gas_lel", Fixture.T0, 70.0));
    f.engine().onReadings(message);
    assertThat(f.engine().latest("gas-077", "m00000")).as("no state for an unread name").isEmpty();
    assertThat(f.engine().latest("gas-077", "m01999")).isEmpty();
    assertThat(f.engine().latest("gas-077", "gas_lel")).isPresent();
    assertThat(f.of("gas-lel-threshold")).hasSize(1);
    assertThat(f.engine().onReading(Reading.of("gas-077", "m00001", Fixture.T0 + 1, 2.0)))
        .isEqualTo(Outcome.NO_RULE);
    assertThat(f.engine().latest("gas-077", "m00001")).isEmpty();
  }
}
