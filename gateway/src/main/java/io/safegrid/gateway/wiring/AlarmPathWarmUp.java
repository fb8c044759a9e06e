package io.safegrid.gateway.wiring;

import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.dashboard.live.LiveFeed;
import io.safegrid.dashboard.live.LiveWarmUp;
import io.safegrid.model.AlarmTransition;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.DeviceType;
import io.safegrid.model.Reading;
import io.safegrid.rules.config.DeviceDirectory;
import io.safegrid.rules.config.DevicePlace;
import io.safegrid.rules.config.DeviceProfile;
import io.safegrid.rules.config.RuleBook;
import io.safegrid.rules.engine.RuleEngine;
import io.vertx.core.Vertx;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Warms the gateway's alarm path outside the ledger at start, before the transports listen, so
 * that the first real alarm after a start reaches {@code /api/live} about as fast as the ones
 * after it. Nothing it does reaches a user: no alarm, ledger row, outbox row, notification, live
 * frame or meter of the gateway's registry.
 *
 * <p>The ledger warms its own JDBC part ({@code JdbcAlarmLedger.warmUpInBackground}: rolled-back
 * transactions). This warms the rest, in path order, with synthetic devices ({@value
 * LiveWarmUp#DEVICE}{@code -gas-a}, {@code -gas-b}, {@code -fire}, in one synthetic building) that
 * are in no site:
 *
 * <ol>
 *   <li><b>Rule transitions</b>: a throwaway {@link RuleEngine} with the site's {@link RuleBook}
 *       (the same rule classes, parameters and combination rules as the real shards) takes, per
 *       cycle, both gas alarms up through level 1 and level 2 to clear, and a fire and reset on the
 *       fire panel (so the gas pair and fire-and-gas combinations raise and clear too); at the end
 *       the inactivity timeout of all three. The transitions (threshold messages formatted,
 *       {@code AlarmTransition}, evidence maps) go to a list.
 *   <li><b>The alarm writer</b>: a throwaway {@link AlarmWriter} (own thread, own {@link
 *       PrometheusMeterRegistry}, never scraped) takes those transitions (both lanes, group
 *       commit, outcomes) into a ledger stand-in that stores nothing; its hazard raises are
 *       annunciated, on this thread, to a throwaway {@link LiveFeed} without clients (the
 *       annunciation's JSON, kept frames, meters), and settle.
 *   <li><b>The live feed</b>: {@link LiveWarmUp} (dashboard-api): the alarm events' and
 *       annunciations' JSON and SSE frames into a throwaway client on the dashboard's Vert.x event
 *       loop.
 * </ol>
 *
 * <p>Why: {@code -Xlog:class+load} of the first alarm after a start showed the threshold message's
 * float formatting and rule engine lambdas on the MQTT event loop, the writer's outcome switch,
 * {@code AlarmJson}, Jackson's map serialisers, the SSE client's drain lambda and Vert.x's context
 * task all loaded or linked on the alarm itself (docs/performance.md "Round 5: the first alarm
 * after a start"). A few hundred cycles also get the code C1-compiled (the launcher's JVM runs C1
 * only, which compiles a method after about 200 calls).
 *
 * <p>It logs one INFO line with what it did and how long it took.
 */
final class AlarmPathWarmUp {

  private static final Logger log = LoggerFactory.getLogger(AlarmPathWarmUp.class);

  /** Cycles the gateway runs at start: 0.4-0.6 s of the main thread on the 2-core bench machine (docs/performance.md "Round 5"). */
  static final int CYCLES = 300;

  private static final String GAS_A = LiveWarmUp.DEVICE + "-gas-a";
  private static final String GAS_B = LiveWarmUp.DEVICE + "-gas-b";
  private static final String FIRE = LiveWarmUp.DEVICE + "-fire";

  /**
   * What a run did.
   *
   * @param transitions rule transitions decided by the throwaway engine
   * @param written of them, taken by the throwaway writer's ledger stand-in
   * @param live the live feed part
   * @param nanos the whole run, ns
   */
  record Result(int transitions, int written, LiveWarmUp.Result live, long nanos) {}

  private AlarmPathWarmUp() {}

  /**
   * Runs the warm-up on the calling thread (the writer and the live drains on their own threads)
   * and logs one INFO line. Never throws for a failure of its own: it logs it at WARN and returns
   * (the gateway runs as well without it, only its first alarm is slower).
   *
   * @param book the site's rules
   * @param vertx the dashboard's Vert.x
   * @param cycles alarm lives per part, >= 1
   * @return what it did, or null when it failed
   */
  static Result run(RuleBook book, Vertx vertx, int cycles) {
    long t0 = System.nanoTime();
    try {
      List<AlarmTransition> transitions = decide(book, cycles);
      long t1 = System.nanoTime();
      int written = write(transitions);
      long t2 = System.nanoTime();
      LiveWarmUp.Result live = LiveWarmUp.run(vertx, cycles, Duration.ofSeconds(2));
      long t3 = System.nanoTime();
      Result r = new Result(transitions.size(), written, live, t3 - t0);
      log.info("first-alarm warm-up in {} ms ({} cycles; nothing stored or sent): rules {} transitions in {} ms,"
              + " throwaway alarm writer {} in {} ms, live feed {} frames into a throwaway SSE client in {} ms",
          ms(t3 - t0), cycles, r.transitions(), ms(t1 - t0), r.written(), ms(t2 - t1), live.frames(), ms(t3 - t2));
      return r;
    } catch (RuntimeException | LinkageError e) {
      log.warn("first-alarm warm-up failed after {} ms (the first alarm will load its classes itself): {}",
          TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0), e.toString());
      return null;
    }
  }

  private static long ms(long nanos) {
    return TimeUnit.NANOSECONDS.toMillis(nanos);
  }

  /** The rule part: a throwaway engine on synthetic devices; returns every transition it decided. */
  static List<AlarmTransition> decide(RuleBook book, int cycles) {
    DevicePlace building = new DevicePlace(LiveWarmUp.DEVICE, LiveWarmUp.DEVICE, LiveWarmUp.DEVICE);
    DeviceDirectory directory = DeviceDirectory.of(Map.of(
        GAS_A, new DeviceProfile(GAS_A, DeviceType.GAS_ALARM, building, 60_000, Map.of()),
        GAS_B, new DeviceProfile(GAS_B, DeviceType.GAS_ALARM, building, 60_000, Map.of()),
        FIRE, new DeviceProfile(FIRE, DeviceType.FIRE_PANEL, building, 60_000, Map.of())));
    long now = System.currentTimeMillis();
    long[] clock = {now};
    List<AlarmTransition> out = new ArrayList<>();
    RuleEngine engine = new RuleEngine(book, directory, () -> clock[0], out::add, flag -> {});
    long t = now - cycles * 20L; // readings of the last seconds, each newer than the last
    double[] lel = {0.0, 30.0, 60.0, 0.0};
    for (int c = 0; c < cycles; c++) {
      for (double v : lel) {
        engine.onReading(Reading.of(GAS_A, "gas_lel", ++t, v));
        engine.onReading(new Reading(GAS_B, "gas_lel", ++t, v, c));
      }
      engine.onReading(Reading.of(GAS_A, "battery_pct", ++t, 87));
      engine.onEvent(new DeviceEvent(FIRE, ++t, "fire", 3, 12, "warm-up"));
      engine.onEvent(new DeviceEvent(FIRE, ++t, "reset", null, null, null));
      engine.advanceTo(clock[0]); // debounce confirmations, if the site has any
    }
    clock[0] = now + Duration.ofDays(1).toMillis();
    engine.advanceTo(clock[0]); // inactivity timeouts: the maintenance lane
    return out;
  }

  /**
   * The writer part: every transition through a throwaway {@link AlarmWriter}, which is then
   * drained and stopped; returns how many its ledger stand-in took.
   */
  static int write(List<AlarmTransition> transitions) {
    AtomicInteger applied = new AtomicInteger();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    LiveFeed annunciations = new LiveFeed(); // throwaway: no client; the gateway's is not touched
    annunciations.recordAnnunciations(registry);
    AlarmWriter writer = new AlarmWriter(new DiscardingLedger(applied::incrementAndGet), registry,
        AlarmWriter.FIRST_BACKOFF, null, AlarmWriter.UNCONFIRMED_HOLD, annunciations);
    try {
      for (AlarmTransition t : transitions) {
        writer.accept(t);
      }
    } finally {
      writer.drain(Duration.ofSeconds(5)); // applies what is queued, then stops its thread
      registry.close();
    }
    return applied.get();
  }

  /** A ledger stand-in for the throwaway writer: applies nothing, keeps nothing, tells nobody. */
  private static final class DiscardingLedger implements AlarmService {
    private final Runnable onApplied;

    DiscardingLedger(Runnable onApplied) {
      this.onApplied = onApplied;
    }

    @Override
    public Optional<Alarm> apply(AlarmTransition transition) {
      onApplied.run();
      return Optional.empty();
    }

    @Override
    public Alarm acknowledge(long alarmId, String actor, String note) {
      throw new UnsupportedOperationException("warm-up ledger");
    }

    @Override
    public Alarm close(long alarmId, String actor, String note) {
      throw new UnsupportedOperationException("warm-up ledger");
    }

    @Override
    public Optional<Alarm> find(long alarmId) {
      return Optional.empty();
    }

    @Override
    public List<AlarmEvent> history(long alarmId) {
      return List.of();
    }

    @Override
    public List<Alarm> list(Set<AlarmState> states, int limit, int offset) {
      return List.of();
    }

    @Override
    public List<AlarmEvent> eventsAfter(long afterEventId, int limit) {
      return List.of();
    }

    @Override
    public void addListener(Consumer<AlarmEvent> listener) {
      // tells nobody
    }
  }
}
