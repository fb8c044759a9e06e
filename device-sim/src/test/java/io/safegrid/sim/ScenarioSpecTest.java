package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.sim.link.Transport;
import io.safegrid.sim.scenario.Ramp;
import io.safegrid.sim.scenario.ScenarioSpec;
import io.safegrid.sim.scenario.Signals;
import io.safegrid.sim.scenario.TimelineEntry;
import io.safegrid.sim.site.SimDevice;
import io.safegrid.sim.site.SiteFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalTime;
import java.util.List;
import java.util.Random;
import java.util.stream.DoubleStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shipped scenario and site files parse, and the signals look like the site. */
class ScenarioSpecTest {

  static final Path SCENARIO = Path.of("..", "config", "scenario-dongnan.yaml");
  static final Path SITE = Path.of("..", "config", "dongnan.yaml");

  @Test
  void shippedDongnanScenarioParses() throws Exception {
    ScenarioSpec spec = ScenarioSpec.read(SCENARIO);

    assertThat(spec.name()).isEqualTo("dongnan");
    assertThat(spec.speed()).isEqualTo(60);
    assertThat(spec.startTime()).isEqualTo(LocalTime.of(10, 30));
    assertThat(spec.transports()).containsEntry("river_gauge", Transport.COAP);
    assertThat(spec.timeline()).extracting(TimelineEntry::action)
        .contains("leak", "fire", "mains_fault", "flood", "silence", "reconnect_storm",
            "backlog_burst", "duplicates", "out_of_order", "clock_skew", "garbage", "wrong_secret");
    assertThat(spec.timeline()).extracting(TimelineEntry::atMin).isSorted();
    TimelineEntry fire = spec.timeline().stream().filter(e -> e.action().equals("fire")).findFirst().orElseThrow();
    assertThat(fire.device()).isEqualTo("fire-languang-xiangjiang");
    assertThat(fire.num("zone", -1)).isEqualTo(3);
  }

  @Test
  void everyTimelineDeviceIsInTheShippedSite() throws Exception {
    List<String> ids = SiteFile.devices(SITE).stream().map(SimDevice::id).toList();
    assertThat(ids).hasSizeGreaterThan(117).contains("gas-001", "gas-117");
    for (TimelineEntry e : ScenarioSpec.read(SCENARIO).timeline()) {
      if (e.device() != null) {
        assertThat(ids).as("device of %s at minute %s", e.action(), e.atMin()).contains(e.device());
      }
    }
  }

  @Test
  void unknownActionIsRefusedWithTheEntry(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("bad.yaml");
    Files.writeString(file, "name: bad\ntimeline:\n  - {at_min: 3, action: meteor, device: gas-001}\n");
    assertThatThrownBy(() -> ScenarioSpec.read(file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("meteor");
  }

  @Test
  void faultFlagsParse() {
    TimelineEntry e = ScenarioSpec.parseFault("garbage:gas-007@2.5", "gas-001");
    assertThat(e.action()).isEqualTo("garbage");
    assertThat(e.device()).isEqualTo("gas-007");
    assertThat(e.atMin()).isEqualTo(2.5);
    assertThat(ScenarioSpec.parseFault("reconnect_storm", "gas-001").device()).isNull();
    assertThat(ScenarioSpec.parseFault("silence", "gas-001").device()).isEqualTo("gas-001");
    assertThatThrownBy(() -> ScenarioSpec.parseFault("teleport", "gas-001"))
        .hasMessageContaining("teleport");
  }

  @Test
  void leakRampCrosses25Then50PercentLel() {
    // the shipped leak: peak 62 %LEL over 12 simulated minutes
    Ramp leak = new Ramp(600, 62, 12 * 60, 5 * 60, 6 * 60);
    double cross25 = firstAbove(leak, 25);
    double cross50 = firstAbove(leak, 50);
    assertThat(cross25).isBetween(600 + 4.5 * 60, 600 + 5.0 * 60);
    assertThat(cross50).isBetween(600 + 9.5 * 60, 600 + 10.0 * 60);
    assertThat(leak.at(600 + 30 * 60)).isZero();
  }

  @Test
  void gasIsNearZeroAndRiverBelowWarningWithoutIncidents() throws Exception {
    ScenarioSpec spec = ScenarioSpec.read(SCENARIO);
    Signals signals = new Signals(spec.signals(), spec.startTime());
    SimDevice kitchen = new SimDevice("gas-022", "gas_alarm", "s", "Restaurant 01", "restaurant", null, 60);
    SimDevice gauge = new SimDevice("river-jialing-1", "river_gauge", "s", "g", "river", null, 300);
    Random rnd = new Random(1);
    double[] gas = DoubleStream.iterate(0, s -> s + 60).limit(24 * 60)
        .map(s -> signals.gasLel(kitchen, s, rnd, null)).toArray();
    assertThat(DoubleStream.of(gas).max().orElseThrow()).isLessThan(10);
    assertThat(DoubleStream.of(gas).min().orElseThrow()).isGreaterThanOrEqualTo(0);
    double[] level = DoubleStream.iterate(0, s -> s + 300).limit(24 * 12)
        .map(s -> signals.riverLevelM(gauge, s, rnd, null)).toArray();
    assertThat(DoubleStream.of(level).max().orElseThrow()).isLessThan(270.80);
    assertThat(DoubleStream.of(level).max().orElseThrow() - DoubleStream.of(level).min().orElseThrow())
        .as("a daily curve").isGreaterThan(0.2);
  }

  private static double firstAbove(Ramp ramp, double level) {
    for (double s = 0; s < 10_000; s += 1) {
      if (ramp.at(s) > level) {
        return s;
      }
    }
    return Double.NaN;
  }
}
