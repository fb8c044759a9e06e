package io.safegrid.sim.load;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/** The probes' clears never coincide with a crossing (a clear in the same ms queues a raise). */
class AlarmProbeScheduleTest {

  @Test
  void everyClearFallsHalfWayBetweenTwoCrossings() {
    for (long interval : new long[] {1500, 2000, 10_000}) {
      for (int n = 1; n <= 13; n++) {
        long phase = interval / n;
        for (int i = 0; i < n; i++) {
          long clear = (i * interval / n + AlarmProbe.clearDelay(n, interval)) % interval;
          for (int k = 0; k < n; k++) {
            long crossing = k * interval / n;
            long d = Math.abs(clear - crossing);
            d = Math.min(d, interval - d);
            assertThat(d).as("n=%d interval=%d probe %d's clear vs crossing %d", n, interval, i, k)
                .isGreaterThanOrEqualTo(phase / 2 - 1);
          }
        }
        assertThat(AlarmProbe.clearDelay(n, interval)).as("about half an interval, n=%d", n)
            .isBetween(interval / 2, interval / 2 + phase / 2 + 1);
      }
    }
  }
}
