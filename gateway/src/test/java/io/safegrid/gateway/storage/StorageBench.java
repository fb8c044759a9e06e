package io.safegrid.gateway.storage;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.distribution.ValueAtPercentile;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.model.Reading;
import io.safegrid.schema.SchemaMigrator;
import java.io.BufferedWriter;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * Benchmark (run by {@code bench/storage.sh}, not a test): rows/s through {@link
 * TimescaleReadingStore} against raw {@code COPY} of the same rows by psql into the same
 * hypertable, alternating, several rounds, plus the store's batch latency p50/p99.
 *
 * <p>Arguments: serverJdbcUrl user password rows rounds producers writers
 */
public final class StorageBench {
  public static void main(String[] args) throws Exception {
    String server = args[0];
    String user = args[1];
    String password = args[2];
    int rows = Integer.parseInt(args[3]);
    int rounds = Integer.parseInt(args[4]);
    int producers = Integer.parseInt(args[5]);
    int writers = Integer.parseInt(args[6]);
    String dbName = "storage_bench";
    try (Connection c = DriverManager.getConnection(server, user, password);
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
      st.execute("CREATE DATABASE " + dbName);
    }
    String url = server.substring(0, server.lastIndexOf('/') + 1) + dbName;
    PGSimpleDataSource ds = new PGSimpleDataSource();
    ds.setURL(url);
    ds.setUser(user);
    ds.setPassword(password);
    SchemaMigrator.migrate(ds);

    // 117 gas alarms x 2 metrics, one reading each per second (the Dongnan site, sped up)
    long base = Instant.parse("2026-11-29T00:00:00Z").toEpochMilli();
    List<Reading> data = new ArrayList<>(rows);
    for (int i = 0; data.size() < rows; i++) {
      int device = i % 117;
      long t = base + (i / 117) * 1000L;
      data.add(Reading.of("gas-" + String.format("%03d", device + 1), "gas_lel", t, (i % 1000) / 10.0));
      if (data.size() < rows) {
        data.add(Reading.of("gas-" + String.format("%03d", device + 1), "battery_pct", t, 87));
      }
    }
    Path csv = Files.createTempFile("storage-bench", ".csv");
    DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSSXXX")
        .withZone(ZoneOffset.UTC);
    try (BufferedWriter w = Files.newBufferedWriter(csv, StandardCharsets.UTF_8)) {
      for (Reading r : data) {
        w.write(f.format(Instant.ofEpochMilli(r.timeMillis())) + "," + r.deviceId() + ","
            + r.metric() + "," + r.value() + "\n");
      }
    }
    URI u = URI.create(url.substring("jdbc:".length()));
    double[] psqlRates = new double[rounds];
    double[] storeRates = new double[rounds];
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Path spool = Files.createTempDirectory("storage-bench-spool");
    StorageConfig cfg = StorageConfig.defaults(url, user, password, spool).withWriters(writers);
    for (int round = 0; round < rounds; round++) {
      truncate(url, user, password);
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder("psql", "-X", "-q", "-v", "ON_ERROR_STOP=1",
          "-h", u.getHost(), "-p", String.valueOf(u.getPort()), "-U", user, "-d", dbName,
          "-c", "\\copy readings (time, device_id, metric, value) FROM '" + csv
              + "' WITH (FORMAT csv)")
          .inheritIO().start();
      if (p.waitFor() != 0) throw new IllegalStateException("psql failed");
      psqlRates[round] = rows / ((System.nanoTime() - t0) / 1e9);
      check(url, user, password, rows);

      truncate(url, user, password);
      try (TimescaleReadingStore store = new TimescaleReadingStore(cfg, registry)) {
        store.submit(data.subList(0, 10)).get(); // pool warm: connection made before the clock
        truncate(url, user, password);
        long t1 = System.nanoTime();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        Thread[] threads = new Thread[producers];
        List<List<CompletableFuture<Void>>> per = new ArrayList<>();
        for (int k = 0; k < producers; k++) per.add(new ArrayList<>());
        for (int k = 0; k < producers; k++) {
          final int me = k;
          threads[k] = new Thread(() -> {
            // messages of 10 readings, each producer every producers-th message
            for (int i = me * 10; i < rows; i += producers * 10) {
              while (!store.acceptingMore()) Thread.onSpinWait();
              per.get(me).add(store.submit(data.subList(i, Math.min(rows, i + 10))));
            }
          });
          threads[k].start();
        }
        for (Thread t : threads) t.join();
        for (List<CompletableFuture<Void>> l : per) futures.addAll(l);
        CompletableFuture.allOf(futures.toArray(CompletableFuture[]::new)).get(10, TimeUnit.MINUTES);
        storeRates[round] = rows / ((System.nanoTime() - t1) / 1e9);
      }
      check(url, user, password, rows);
      System.out.printf("round %d: psql COPY %.0f rows/s, store %.0f rows/s%n", round + 1,
          psqlRates[round], storeRates[round]);
    }
    Files.delete(csv);
    double psql = median(psqlRates);
    double store = median(storeRates);
    Timer latency = registry.get("safegrid.storage.batch.latency").timer();
    double p50 = 0;
    double p99 = 0;
    for (ValueAtPercentile v : latency.takeSnapshot().percentileValues()) {
      if (v.percentile() == 0.5) p50 = v.value(TimeUnit.MILLISECONDS);
      if (v.percentile() == 0.99) p99 = v.value(TimeUnit.MILLISECONDS);
    }
    System.out.printf("rows=%d rounds=%d producers=%d writers=%d batchRows=%d window=%dms%n", rows,
        rounds, producers, writers, cfg.batchRows(), cfg.batchWindow().toMillis());
    System.out.printf("psql COPY (median): %.0f rows/s%n", psql);
    System.out.printf("store     (median): %.0f rows/s%n", store);
    System.out.printf("ratio store/COPY: %.2f%n", store / psql);
    System.out.printf("batch latency (COPY start to commit): p50 %.1f ms, p99 %.1f ms, mean %.1f ms,"
        + " batches %d, mean rows/batch %.0f%n", p50, p99, latency.mean(TimeUnit.MILLISECONDS),
        latency.count(), (double) rows * rounds / latency.count());
    try (Connection c = DriverManager.getConnection(server, user, password);
        Statement st = c.createStatement()) {
      st.execute("DROP DATABASE IF EXISTS " + dbName + " WITH (FORCE)");
    }
  }

  private static void truncate(String url, String user, String password) throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password);
        Statement st = c.createStatement()) {
      st.execute("TRUNCATE readings");
      st.execute("CHECKPOINT");
    }
  }

  private static void check(String url, String user, String password, int rows) throws Exception {
    try (Connection c = DriverManager.getConnection(url, user, password);
        Statement st = c.createStatement();
        var rs = st.executeQuery("SELECT count(*) FROM readings")) {
      rs.next();
      if (rs.getLong(1) != rows) throw new IllegalStateException("stored " + rs.getLong(1));
    }
  }

  private static double median(double[] v) {
    double[] s = v.clone();
    Arrays.sort(s);
    return s[s.length / 2];
  }
}
