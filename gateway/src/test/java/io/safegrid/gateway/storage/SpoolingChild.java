package io.safegrid.gateway.storage;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.model.Reading;
import java.io.PrintStream;
import java.io.FileOutputStream;
import java.io.FileDescriptor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A gateway stand-in for {@link CrashRecoveryTest}, run in its own JVM: submits messages of 5
 * readings (message n: device gas-(n mod 117), times base + 5n .. 5n+4 ms, seq n) as fast as the
 * store takes them, and prints {@code ACK n} once message n's future completed. Runs until killed.
 *
 * <p>Arguments: jdbcUrl user password spoolDir baseMillis
 */
public final class SpoolingChild {
  public static void main(String[] args) throws Exception {
    PrintStream out = new PrintStream(new FileOutputStream(FileDescriptor.out), true, "UTF-8");
    long base = Long.parseLong(args[4]);
    StorageConfig cfg = StorageConfig.defaults(args[0], args[1], args[2], Path.of(args[3]))
        .withTimeouts(Duration.ofSeconds(1), Duration.ofMillis(300), Duration.ofMillis(200))
        .withSpool(1L << 30, 1L << 20); // 1 MiB segments: the replay crosses several
    TimescaleReadingStore store = new TimescaleReadingStore(cfg, new SimpleMeterRegistry());
    out.println("STARTED");
    for (long n = 0; ; n++) {
      while (!store.acceptingMore()) Thread.sleep(1);
      final long seq = n;
      store.submit(messages(seq, base)).whenComplete((ok, err) -> {
        if (err == null) {
          synchronized (out) {
            out.println("ACK " + seq);
          }
        }
      });
      if (n % 50 == 0) Thread.sleep(1);
    }
  }

  static List<Reading> messages(long n, long base) {
    String device = "gas-" + String.format("%03d", n % 117);
    Reading[] rs = new Reading[5];
    for (int k = 0; k < 5; k++) {
      rs[k] = new Reading(device, "gas_lel", base + 5 * n + k, n + k / 10.0, n);
    }
    return List.of(rs);
  }
}
