package io.safegrid.rules.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.Fixture;
import java.lang.management.ManagementFactory;
import org.junit.jupiter.api.Test;

/**
 * The hot path (a reading that changes no alarm) allocates nothing: measured with the thread's
 * allocated-bytes counter, not with time.
 */
class HotPathAllocationTest {

  @Test
  void evaluatingReadingsThatChangeNoAlarmAllocatesNothing() {
    com.sun.management.ThreadMXBean mx =
        (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    Fixture f = Fixture.dongnan()
        .device("gas-001", DeviceType.GAS_ALARM)
        .device("gauge-jialing-1", DeviceType.RIVER_GAUGE);
    RuleEngine e = f.engine();
    int n = 200_000;
    Reading[] readings = new Reading[n];
    for (int i = 0; i < n; i++) {
      readings[i] = switch (i % 4) {
        case 0 -> Reading.of("gas-001", "gas_lel", Fixture.T0 + i, (i % 100) / 10.0);
        case 1 -> Reading.of("gas-001", "battery_pct", Fixture.T0 + i, 80);
        case 2 -> Reading.of("gas-001", "state", Fixture.T0 + i, 0);
        default -> Reading.of("gauge-jialing-1", "water_level_m", Fixture.T0 + i, 265.0);
      };
    }
    f.clock.set(Fixture.T0 + n);
    for (int i = 0; i < 1_000; i++) {
      e.onReading(readings[i]); // first sight of devices and metrics allocates their state
    }
    long tid = Thread.currentThread().getId();
    long before = mx.getThreadAllocatedBytes(tid);
    for (int i = 1_000; i < n; i++) {
      e.onReading(readings[i]);
    }
    long allocated = mx.getThreadAllocatedBytes(tid) - before;
    assertThat(f.out).isEmpty();
    assertThat(e.stats().evaluated()).isEqualTo(n);
    // one object per reading would be >= 3 MB; allow a few KB of one-off noise (the counter
    // itself, JIT bookkeeping): under 0.1 byte per reading
    assertThat(allocated).isLessThan(16_000);
  }
}
