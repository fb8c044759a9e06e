package io.safegrid.sim.load;

import com.fasterxml.jackson.annotation.JsonProperty;
import org.HdrHistogram.Histogram;

/**
 * Latency percentiles in milliseconds from an HdrHistogram recorded in microseconds.
 *
 * @param count number of samples
 */
public record Percentiles(
    long count,
    double p50,
    double p90,
    double p99,
    @JsonProperty("p99_9") double p999,
    double max,
    double mean) {

  /** From a histogram of microseconds; all zero when empty. */
  public static Percentiles of(Histogram micros) {
    if (micros.getTotalCount() == 0) {
      return new Percentiles(0, 0, 0, 0, 0, 0, 0);
    }
    return new Percentiles(
        micros.getTotalCount(),
        ms(micros.getValueAtPercentile(50)),
        ms(micros.getValueAtPercentile(90)),
        ms(micros.getValueAtPercentile(99)),
        ms(micros.getValueAtPercentile(99.9)),
        ms(micros.getMaxValue()),
        Math.round(micros.getMean()) / 1000.0);
  }

  private static double ms(long micros) {
    return micros / 1000.0;
  }
}
