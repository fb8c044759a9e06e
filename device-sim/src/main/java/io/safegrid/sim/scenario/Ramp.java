package io.safegrid.sim.scenario;

/**
 * A rise, hold and fall over simulated time, added to a signal: a gas leak (%LEL) or a flood
 * (metres).
 *
 * @param startS simulated second the rise starts
 * @param peak height at the top (%LEL or metres)
 * @param riseS seconds to reach the peak
 * @param holdS seconds at the peak
 * @param fallS seconds back to zero
 */
public record Ramp(double startS, double peak, double riseS, double holdS, double fallS) {

  /** The overlay at simulated second {@code s}: 0 before and after, linear in between. */
  public double at(double s) {
    double t = s - startS;
    if (t <= 0) {
      return 0;
    }
    if (t < riseS) {
      return peak * t / riseS;
    }
    t -= riseS;
    if (t < holdS) {
      return peak;
    }
    t -= holdS;
    if (t < fallS) {
      return peak * (1 - t / fallS);
    }
    return 0;
  }
}
