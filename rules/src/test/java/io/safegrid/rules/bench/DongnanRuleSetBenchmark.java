package io.safegrid.rules.bench;

import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.rules.engine.FlagSink;
import io.safegrid.rules.engine.Outcome;
import io.safegrid.rules.engine.RuleEngine;
import java.util.HashMap;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * One engine shard (one core) evaluating the Dongnan site's readings with the Dongnan rule set:
 * 117 gas alarms (gas_lel, battery_pct, state), 20 fire panels (a metric no rule reads), 3 river
 * gauges (water_level_m: threshold and rate of rise). Event times rise by 1 ms per reading, so
 * every reading is the device's newest and is evaluated (no duplicate shortcut); about one
 * reading in 2,000 crosses a gas threshold (a raise or clear with its allocation). The deadline
 * queue is driven every 1,024 readings, as the gateway's timer would.
 *
 * <p>Each operation is one reading, including building the {@link Reading} record the gateway
 * would have decoded anyway. Run with {@code bench/rules.sh}.
 */
@State(Scope.Thread)
@BenchmarkMode({Mode.Throughput, Mode.SampleTime})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
@Fork(1)
public class DongnanRuleSetBenchmark {

  private static final int STREAM = 1 << 14;
  private static final long T0 = 1_764_403_200_000L;

  private RuleEngine engine;
  private String[] devices;
  private String[] metrics;
  private double[] values;
  private long now;
  private int i;
  private long transitions;
  private long ops;
  private long cpuAtStart;
  private long opsAtStart;
  private static final java.lang.management.ThreadMXBean CPU =
      java.lang.management.ManagementFactory.getThreadMXBean();

  @Setup
  public void setUp() {
    Map<String, DeviceProfile> profiles = new HashMap<>();
    String[] gas = new String[117];
    for (int k = 0; k < gas.length; k++) {
      gas[k] = String.format("gas-%03d", k + 1);
      profiles.put(gas[k], new DeviceProfile(gas[k], DeviceType.GAS_ALARM,
          new DevicePlace("c" + k % 4, "compound-" + k % 12, "b" + k % 3), 0, Map.of()));
    }
    String[] panels = new String[20];
    for (int k = 0; k < panels.length; k++) {
      panels[k] = "panel-" + (k + 1);
      profiles.put(panels[k], new DeviceProfile(panels[k], DeviceType.FIRE_PANEL,
          new DevicePlace("c" + k % 4, "compound-" + k % 12, null), 0, Map.of()));
    }
    String[] gauges = {"gauge-jialing-1", "gauge-jialing-2", "gauge-xi-1"};
    for (String g : gauges) {
      profiles.put(g, DeviceProfile.of(g, DeviceType.RIVER_GAUGE));
    }
    engine = new RuleEngine(RuleBook.dongnan(), DeviceDirectory.of(profiles), () -> now,
        t -> transitions++, FlagSink.ignore());

    SplittableRandom rnd = new SplittableRandom(42);
    devices = new String[STREAM];
    metrics = new String[STREAM];
    values = new double[STREAM];
    for (int k = 0; k < STREAM; k++) {
      int pick = rnd.nextInt(100);
      if (pick < 80) {
        devices[k] = gas[rnd.nextInt(gas.length)];
        metrics[k] = "gas_lel";
        values[k] = rnd.nextInt(2_000) == 0 ? 30.0 : rnd.nextDouble(0, 12);
      } else if (pick < 90) {
        devices[k] = gas[rnd.nextInt(gas.length)];
        metrics[k] = "battery_pct";
        values[k] = rnd.nextDouble(40, 100);
      } else if (pick < 95) {
        devices[k] = gas[rnd.nextInt(gas.length)];
        metrics[k] = "state";
        values[k] = 0;
      } else if (pick < 98) {
        devices[k] = gauges[rnd.nextInt(gauges.length)];
        metrics[k] = "water_level_m";
        values[k] = 265.0 + rnd.nextDouble(-0.05, 0.05);
      } else {
        devices[k] = panels[rnd.nextInt(panels.length)];
        metrics[k] = "loop_current_ma";
        values[k] = rnd.nextDouble(10, 20);
      }
    }
    now = T0;
    // first sight of every device outside the measurement
    for (int k = 0; k < STREAM; k++) {
      evaluate();
    }
  }

  /**
   * On a shared, oversubscribed machine wall-clock throughput says more about the neighbours
   * than about the engine; this prints readings per second of this thread's CPU time (one core),
   * per iteration, as a line starting with {@code cpu:}.
   */
  @Setup(Level.Iteration)
  public void startCpuClock() {
    cpuAtStart = CPU.getCurrentThreadCpuTime();
    opsAtStart = ops;
  }

  @TearDown(Level.Iteration)
  public void printCpuRate() {
    long cpu = CPU.getCurrentThreadCpuTime() - cpuAtStart;
    long n = ops - opsAtStart;
    if (cpu > 0) {
      System.out.printf(java.util.Locale.ROOT,
          "cpu: %,d readings in %.3f s of thread CPU = %,.0f readings per CPU-second%n",
          n, cpu / 1e9, n * 1e9 / cpu);
    }
  }

  /** One reading evaluated against the device's rules. */
  @Benchmark
  @OutputTimeUnit(TimeUnit.MICROSECONDS)
  public Outcome evaluate() {
    ops++;
    int k = i++ & (STREAM - 1);
    long t = ++now;
    Outcome o = engine.onReading(new Reading(devices[k], metrics[k], t, values[k], Reading.NO_SEQ));
    if ((k & 1023) == 0) {
      engine.advanceTo(t);
    }
    return o;
  }
}
