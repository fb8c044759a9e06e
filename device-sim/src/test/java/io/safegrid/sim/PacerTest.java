package io.safegrid.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.sim.load.Pacer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The pacer issues the target rate round-robin over its devices from one thread, passes over
 * devices that are not ready, and counts what it could not issue instead of making it up later.
 * Bounds are loose: the machine is shared.
 */
class PacerTest {

  /** A device that takes publishes until its in-flight count reaches the limit. */
  static final class Dev {
    final AtomicInteger published = new AtomicInteger();
    volatile boolean ready = true;
  }

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

  @Test
  void issuesTheRateEvenlyOverTheDevices() throws Exception {
    List<Dev> devs = devices(100);
    Pacer<Dev> pacer = new Pacer<>(devs, d -> d.ready, d -> d.published.incrementAndGet(), 20_000, 60_000);
    long t0 = System.nanoTime();
    pacer.start(executor, 1000);
    Thread.sleep(1500);
    pacer.stopAndWait();
    double elapsedS = (System.nanoTime() - t0) / 1e9;

    assertThat(pacer.skippedBusy()).isZero();
    assertThat(pacer.skippedLate()).as("catch-up allowance of 60 s: nothing dropped").isZero();
    // token bucket: what was due at the last tick, never more than due by now
    assertThat(pacer.issued()).isLessThanOrEqualTo((long) (20_000 * elapsedS)).isGreaterThan(20_000);
    int min = devs.stream().mapToInt(d -> d.published.get()).min().orElseThrow();
    int max = devs.stream().mapToInt(d -> d.published.get()).max().orElseThrow();
    assertThat(max - min).as("round-robin: every device within one message of the others").isLessThanOrEqualTo(1);
  }

  @Test
  void passesOverBusyDevicesAndCountsWhatNoDeviceCouldTake() throws Exception {
    List<Dev> devs = devices(10);
    for (int i = 0; i < 5; i++) {
      devs.get(i).ready = false;
    }
    Pacer<Dev> pacer = new Pacer<>(devs, d -> d.ready, d -> d.published.incrementAndGet(), 2_000, 60_000);
    pacer.start(executor, 1000);
    Thread.sleep(600);
    assertThat(devs.subList(0, 5)).allMatch(d -> d.published.get() == 0);
    assertThat(devs.subList(5, 10)).allMatch(d -> d.published.get() > 0);
    assertThat(pacer.skippedBusy()).as("the ready half takes the whole rate").isZero();

    devs.forEach(d -> d.ready = false);
    long issuedBefore = pacer.issued();
    Thread.sleep(600);
    pacer.stopAndWait();
    assertThat(pacer.issued()).isEqualTo(issuedBefore);
    assertThat(pacer.skippedBusy()).as("about 600 ms x 2,000/s due with no device ready").isBetween(600L, 1300L);
  }

  @Test
  void aBurstGivesEachDeviceSeveralPublishesPerTurnAndStillKeepsTheRate() throws Exception {
    List<Dev> devs = devices(100);
    List<Integer> turns = new java.util.concurrent.CopyOnWriteArrayList<>();
    Pacer<Dev> pacer = new Pacer<>(devs, d -> d.ready, d -> {
      d.published.incrementAndGet();
      turns.add(devs.indexOf(d));
    }, 10_000, 60_000, 4);
    long t0 = System.nanoTime();
    pacer.start(executor, 1000);
    Thread.sleep(1000);
    pacer.stopAndWait();
    double elapsedS = (System.nanoTime() - t0) / 1e9;
    assertThat(pacer.issued()).isLessThanOrEqualTo((long) (10_000 * elapsedS)).isGreaterThan(8_000);
    // publishes come in runs of (mostly) 4 on one device
    int runs = 1;
    for (int i = 1; i < turns.size(); i++) {
      if (!turns.get(i).equals(turns.get(i - 1))) {
        runs++;
      }
    }
    assertThat((double) turns.size() / runs).isBetween(3.0, 4.0);
  }

  @Test
  void aStalledTickDropsWhatIsBeyondTheCatchUpAllowance() throws Exception {
    List<Dev> devs = devices(10);
    Pacer<Dev> pacer = new Pacer<>(devs, d -> true, d -> d.published.incrementAndGet(), 10_000, 100);
    pacer.start(executor, 1000);
    Thread.sleep(200);
    executor.execute(() -> {
      try {
        Thread.sleep(1000); // the pacer's thread stalls for a second
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
    Thread.sleep(1500);
    pacer.stopAndWait();
    assertThat(pacer.skippedLate()).as("about 0.9 s x 10,000/s dropped, not burst").isBetween(6_000L, 12_000L);
  }
}
