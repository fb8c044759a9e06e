package io.safegrid.sim.load;

import io.safegrid.sim.link.DeviceLink;
import java.io.PrintStream;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Connects many device links with a bounded number of handshakes in flight, as a fleet coming
 * back after an outage would, without SYN-flooding the far end or queueing thousands of first
 * CONNECTs behind the gateway's password check.
 */
public final class Connector {

  /** What connecting gave: devices connected and failed, and the wall time taken, s. */
  public record Result(int connected, int failed, double seconds) {}

  private Connector() {}

  /**
   * Connects every link; prints the first five failures.
   *
   * @param ids the device id of each link, for messages
   * @param concurrency most handshakes at a time, >= 1
   * @param budgetS stop starting new handshakes after this many seconds (the rest count as failed)
   */
  public static Result connectAll(List<? extends DeviceLink> links, List<String> ids, int concurrency,
      int budgetS, PrintStream out) throws InterruptedException {
    Semaphore window = new Semaphore(concurrency);
    AtomicInteger ok = new AtomicInteger();
    AtomicInteger failed = new AtomicInteger();
    long start = System.nanoTime();
    long deadline = start + TimeUnit.SECONDS.toNanos(budgetS);
    int started = 0;
    for (int i = 0; i < links.size(); i++) {
      if (!window.tryAcquire(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS)) {
        break;
      }
      String id = ids.get(i);
      CompletableFuture<Void> attempt;
      try {
        attempt = links.get(i).connect();
      } catch (RuntimeException e) {
        attempt = CompletableFuture.failedFuture(e);
      }
      started++;
      attempt.whenComplete((v, e) -> {
        if (e == null) {
          ok.incrementAndGet();
        } else if (failed.incrementAndGet() <= 5) {
          Throwable why = e.getCause() != null && e instanceof java.util.concurrent.CompletionException ? e.getCause() : e;
          out.printf("  %s could not connect: %s%n", id, why.getMessage() == null ? why : why.getMessage());
        }
        window.release();
      });
    }
    // wait for the handshakes started (each bounded by the link's own connect / CONNACK timeout)
    window.tryAcquire(concurrency, Math.max(TimeUnit.SECONDS.toNanos(45), deadline - System.nanoTime()),
        TimeUnit.NANOSECONDS);
    int notStarted = links.size() - started;
    if (notStarted > 0) {
      out.printf("  connect budget of %d s spent: %d devices not tried%n", budgetS, notStarted);
    }
    return new Result(ok.get(), failed.get() + notStarted, (System.nanoTime() - start) / 1e9);
  }
}
