package io.safegrid.sim.scenario;

import com.fasterxml.jackson.databind.JsonNode;
import io.safegrid.sim.site.SimDevice;
import java.time.LocalTime;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * The everyday signals of the site, as functions of simulated time:
 *
 * <ul>
 *   <li>gas: a small sensor offset with Gaussian noise, a little more during kitchen hours at
 *       kitchens; never below 0 %LEL. A leak {@link Ramp} adds on top.
 *   <li>river: a base level per river with a daily sine (peak mid-afternoon) and noise, metres
 *       above datum; a flood {@link Ramp} adds on top. Jialing warning level 270.80 m.
 *   <li>panel: mains and backup battery voltages with a little noise; mains 0 V during a fault.
 * </ul>
 */
public final class Signals {

  private final LocalTime start;
  private final double gasBaseline;
  private final double gasNoise;
  private final double kitchenExtra;
  private final List<LocalTime[]> kitchenHours = new ArrayList<>();
  private final Set<String> kitchenPremises = new HashSet<>();
  private final double jialingBase;
  private final double xiBase;
  private final double dailyAmplitude;
  private final double riverNoise;
  private final double mainsV;
  private final double backupV;

  public Signals(JsonNode signals, LocalTime start) {
    this.start = start;
    JsonNode gas = signals.path("gas");
    gasBaseline = gas.path("baseline_lel").asDouble(0.3);
    gasNoise = gas.path("noise_lel").asDouble(0.4);
    kitchenExtra = gas.path("kitchen_extra_lel").asDouble(1.5);
    for (JsonNode h : gas.path("kitchen_hours")) {
      String[] parts = h.asText().split("-");
      kitchenHours.add(new LocalTime[] {LocalTime.parse(parts[0].trim()), LocalTime.parse(parts[1].trim())});
    }
    gas.path("kitchen_premises").forEach(p -> kitchenPremises.add(p.asText()));
    JsonNode river = signals.path("river");
    jialingBase = river.path("jialing_base_m").asDouble(269.20);
    xiBase = river.path("xi_base_m").asDouble(269.90);
    dailyAmplitude = river.path("daily_amplitude_m").asDouble(0.15);
    riverNoise = river.path("noise_m").asDouble(0.01);
    JsonNode panel = signals.path("panel");
    mainsV = panel.path("mains_v").asDouble(220);
    backupV = panel.path("backup_v").asDouble(27.1);
  }

  /** Simulated time of day after {@code simS} seconds. */
  public LocalTime timeOfDay(double simS) {
    return start.plusSeconds((long) simS);
  }

  /** True during the configured kitchen hours. */
  public boolean kitchenHours(LocalTime t) {
    for (LocalTime[] h : kitchenHours) {
      if (!t.isBefore(h[0]) && t.isBefore(h[1])) {
        return true;
      }
    }
    return false;
  }

  /** Gas concentration, %LEL, one decimal. */
  public double gasLel(SimDevice d, double simS, Random rnd, Ramp leak) {
    double v = gasBaseline + gasNoise * rnd.nextGaussian();
    if (d.premises() != null && kitchenPremises.contains(d.premises()) && kitchenHours(timeOfDay(simS))) {
      v += kitchenExtra * (0.5 + rnd.nextDouble());
    }
    if (leak != null) {
      v += leak.at(simS);
    }
    return round(Math.max(0, Math.min(100, v)), 10);
  }

  /** River level, metres above datum, two decimals. Gauges whose id contains "xi" are on the Xi River. */
  public double riverLevelM(SimDevice d, double simS, Random rnd, Ramp flood) {
    double base = d.id().contains("-xi-") ? xiBase : jialingBase;
    double hours = timeOfDay(simS).toSecondOfDay() / 3600.0;
    double v = base + dailyAmplitude * Math.sin(2 * Math.PI * (hours - 9) / 24) + riverNoise * rnd.nextGaussian();
    if (flood != null) {
      v += flood.at(simS);
    }
    return round(v, 100);
  }

  /** Mains voltage, V (0 during a mains fault). */
  public double mainsV(Random rnd, boolean fault) {
    return fault ? 0.0 : round(mainsV + 2 * rnd.nextGaussian(), 10);
  }

  /** Backup battery voltage, V. */
  public double backupV(Random rnd) {
    return round(backupV + 0.1 * rnd.nextGaussian(), 10);
  }

  private static double round(double v, int scale) {
    return Math.round(v * scale) / (double) scale;
  }
}
