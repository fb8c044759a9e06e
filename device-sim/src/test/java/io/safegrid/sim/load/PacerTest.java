package io.safegrid.sim.load;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pacer issues the target rate round-robin over its devices from one thread, passes over
 * devices that are not ready, and counts what it could not issue instead of making it up later.
 *
 * <p>The pacer's arithmetic is checked on a manual clock, ticked by the test: what is due after a
 * given time is then exact, whatever the machine is doing (on a real clock the counts depended on
 * how much CPU the pacer's thread got while the test slept, and failed on a loaded machine). One
 * test runs it on a real scheduled executor, with bounds that hold on any schedule.
 */
class PacerTest {

  private static final long MS = 1_000_000L;

  /** A device that counts what it was given. */
  static final class Dev {
    final AtomicInteger published = new AtomicInteger();
    volatile boolean ready = true;
  }

  /** Nanoseconds the test moves by hand. */
  static final class ManualClock {
    long nanos = 1_000 * MS; // not 0: the pacer must count from its start, not from 0
  }

  private final ManualClock clock = new ManualClock();
  private final ScheduledExecutorService executor = Executors.newSingleThreadScheduledExecutor();

  @AfterEach
  void stop() {
    executor.shutdownNow();
  }

  private static List<Dev> devices(int n) {
    List<Dev> list = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      list.add(new Dev());
    }
    return list;
  }

  private Pacer<Dev> manual(List<Dev> devs, java.util.function.Consumer<Dev> issue, double rate, long catchUpMs,
      int burst) {
    Pacer<Dev> pacer = new Pacer<>(devs, d -> d.ready, issue, rate, catchUpMs, burst, () -> clock.nanos);
    pacer.startAt();
    return pacer;
  }

  /** Moves the clock {@code ms} in ticks of {@code tickMs}, ticking the pacer after each step. */
  private void tick(Pacer<Dev> pacer, long ms, long tickMs) {
    for (long t = 0; t < ms; t += tickMs) {
      clock.nanos += tickMs * MS;
      pacer.run();
    }
  }

  @Test
  void issuesTheRateEvenlyOverTheDevices() {
    List<Dev> devs = devices(100);
    Pacer<Dev> pacer = manual(devs, d -> d.published.incrementAndGet(), 20_000, 60_000, 1);
    tick(pacer, 1_500, 1);

    assertThat(pacer.issued()).as("1.5 s x 20,000/s, no drift").isEqualTo(30_000);
    assertThat(pacer.skippedBusy()).isZero();
    assertThat(pacer.skippedLate()).isZero();
    assertThat(devs).as("round-robin: 300 each").allMatch(d -> d.published.get() == 300);

    tick(pacer, 7, 7); // one late tick: 7 ms of publishes at once, still one each per turn
    assertThat(pacer.issued()).isEqualTo(30_140);
    int min = devs.stream().mapToInt(d -> d.published.get()).min().orElseThrow();
    int max = devs.stream().mapToInt(d -> d.published.get()).max().orElseThrow();
    assertThat(max - min).as("round-robin: every device within one message of the others").isEqualTo(1);
  }

  @Test
  void passesOverBusyDevicesAndCountsWhatNoDeviceCouldTake() {
    List<Dev> devs = devices(10);
    for (int i = 0; i < 5; i++) {
      devs.get(i).ready = false;
    }
    Pacer<Dev> pacer = manual(devs, d -> d.published.incrementAndGet(), 2_000, 60_000, 1);
    tick(pacer, 600, 1);
    assertThat(devs.subList(0, 5)).allMatch(d -> d.published.get() == 0);
    assertThat(devs.subList(5, 10)).as("the ready half takes the whole rate").allMatch(d -> d.published.get() == 240);
    assertThat(pacer.skippedBusy()).isZero();

    devs.forEach(d -> d.ready = false);
    tick(pacer, 600, 1);
    assertThat(pacer.issued()).as("nothing issued with no device ready").isEqualTo(1_200);
    assertThat(pacer.skippedBusy()).as("600 ms x 2,000/s due with no device ready").isEqualTo(1_200);

    devs.forEach(d -> d.ready = true);
    tick(pacer, 100, 1);
    assertThat(pacer.issued()).as("what was skipped is not made up later").isEqualTo(1_400);
    assertThat(pacer.skippedBusy()).isEqualTo(1_200);
  }

  @Test
  void aBurstGivesEachDeviceSeveralPublishesPerTurnAndStillKeepsTheRate() {
    List<Dev> devs = devices(100);
    List<Integer> turns = new ArrayList<>();
    Pacer<Dev> pacer = manual(devs, d -> {
      d.published.incrementAndGet();
      turns.add(devs.indexOf(d));
    }, 10_000, 60_000, 4);
    tick(pacer, 1_000, 1);
    assertThat(pacer.issued()).as("1 s x 10,000/s").isEqualTo(10_000);
    // 10 due a tick: runs of 4, 4 and 2, each on the next device
    assertThat(turns.subList(0, 12)).containsExactly(0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 3, 3);
    int runs = 1;
    for (int i = 1; i < turns.size(); i++) {
      if (!turns.get(i).equals(turns.get(i - 1))) {
        runs++;
      }
    }
    assertThat((double) turns.size() / runs).isBetween(3.0, 4.0);

    Dev busy = devs.get(5);
    busy.ready = false;
    int busyBefore = busy.published.get();
    tick(pacer, 1_000, 1);
    assertThat(pacer.issued()).as("the others take its share").isEqualTo(20_000);
    assertThat(pacer.skippedBusy()).isZero();
    assertThat(busy.published.get()).isEqualTo(busyBefore);
  }

  @Test
  void aStalledTickDropsWhatIsBeyondTheCatchUpAllowance() {
    List<Dev> devs = devices(10);
    Pacer<Dev> pacer = manual(devs, d -> d.published.incrementAndGet(), 10_000, 100, 1);
    tick(pacer, 200, 1);
    assertThat(pacer.issued()).isEqualTo(2_000);
    tick(pacer, 1_000, 1_000); // the pacer's thread stalls for a second
    assertThat(pacer.skippedLate()).as("0.9 s x 10,000/s dropped, not burst").isEqualTo(9_000);
    assertThat(pacer.issued()).as("the catch-up allowance, 100 ms of publishes, is issued").isEqualTo(3_000);
    tick(pacer, 100, 1);
    assertThat(pacer.issued()).as("then the rate again").isEqualTo(4_000);
    assertThat(pacer.skippedLate()).isEqualTo(9_000);
  }

  @Test
  void onAScheduledExecutorItIssuesUntilStoppedAndNeverMoreThanDue() throws InterruptedException {
    List<Dev> devs = devices(100);
    Pacer<Dev> pacer = new Pacer<>(devs, d -> d.ready, d -> d.published.incrementAndGet(), 20_000, 60_000);
    long t0 = System.nanoTime();
    pacer.start(executor, 1000);
    // bounds that hold however little CPU the pacer's thread gets: it issues (eventually), never
    // more than due since the start, every device in turn, and nothing after it was stopped
    await().atMost(Duration.ofSeconds(60)).until(() -> pacer.issued() >= 2_000);
    pacer.stopAndWait();
    double elapsedS = (System.nanoTime() - t0) / 1e9;
    long issued = pacer.issued();
    assertThat(issued).isLessThanOrEqualTo((long) (20_000 * elapsedS));
    int min = devs.stream().mapToInt(d -> d.published.get()).min().orElseThrow();
    int max = devs.stream().mapToInt(d -> d.published.get()).max().orElseThrow();
    assertThat(max - min).isLessThanOrEqualTo(1);
    assertThat(pacer.skippedBusy() + pacer.skippedLate()).isZero();
    Thread.sleep(50);
    assertThat(pacer.issued()).as("stopped: no more ticks").isEqualTo(issued);
  }
}
