package io.safegrid.gateway.storage;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of {@link TimescaleReadingStore}. Build one with {@link #defaults} and adjust with the
 * {@code with...} methods; the gateway's YAML config (section {@code storage}) maps onto these.
 *
 * @param jdbcUrl JDBC URL of the TimescaleDB, e.g. {@code jdbc:postgresql://127.0.0.1:55432/safegrid}
 * @param user database user
 * @param password database password
 * @param batchRows a batch closes when it holds this many readings (default 5,000)
 * @param batchWindow a batch closes this long after its first reading was submitted (default 10 ms)
 * @param queueRows readings that may wait for the writer in memory; beyond this submissions fail
 *     with {@link StoreOverloadedException} (default 200,000)
 * @param spoolDir directory of the local spool (created if missing); one store per directory
 * @param spoolMaxBytes bound of the spool on disk in bytes; when full, submissions fail with
 *     {@link StoreOverloadedException} (default 1 GiB)
 * @param spoolSegmentBytes a spool segment file is closed once it reaches this size (default 16 MiB)
 * @param dbTimeout a database write slower than this counts as an outage: the batch goes to the
 *     spool (socket timeout of the connection; whole seconds, at least 1 s; default 5 s)
 * @param connectTimeout longest wait for a database connection (at least 250 ms; default 1 s)
 * @param probeInterval while spooling, how often the database is probed (default 500 ms)
 * @param poolSize connections of the store's own HikariCP pool (default 3; at least writers + 1)
 * @param writers writer threads, each with its own connection, so one batch is sent while another
 *     commits (default 2)
 */
public record StorageConfig(
    String jdbcUrl,
    String user,
    String password,
    int batchRows,
    Duration batchWindow,
    int queueRows,
    Path spoolDir,
    long spoolMaxBytes,
    long spoolSegmentBytes,
    Duration dbTimeout,
    Duration connectTimeout,
    Duration probeInterval,
    int poolSize,
    int writers) {

  public StorageConfig {
    Objects.requireNonNull(jdbcUrl, "jdbcUrl");
    Objects.requireNonNull(spoolDir, "spoolDir");
    if (batchRows < 1) throw new IllegalArgumentException("batchRows must be >= 1: " + batchRows);
    if (queueRows < batchRows) {
      throw new IllegalArgumentException("queueRows must be >= batchRows: " + queueRows);
    }
    if (batchWindow.isNegative()) throw new IllegalArgumentException("batchWindow < 0");
    if (spoolSegmentBytes < 1024) throw new IllegalArgumentException("spoolSegmentBytes < 1 KiB");
    if (spoolMaxBytes < spoolSegmentBytes) {
      throw new IllegalArgumentException("spoolMaxBytes must be >= spoolSegmentBytes");
    }
    if (writers < 1) throw new IllegalArgumentException("writers must be >= 1: " + writers);
    if (poolSize < writers + 1) {
      throw new IllegalArgumentException("poolSize must be >= writers + 1: " + poolSize);
    }
  }

  /** The defaults named on each component, for the given database and spool directory. */
  public static StorageConfig defaults(String jdbcUrl, String user, String password, Path spoolDir) {
    return new StorageConfig(jdbcUrl, user, password, 5_000, Duration.ofMillis(10), 200_000,
        spoolDir, 1L << 30, 16L << 20, Duration.ofSeconds(5), Duration.ofSeconds(1),
        Duration.ofMillis(500), 3, 2);
  }

  public StorageConfig withBatch(int rows, Duration window) {
    return new StorageConfig(jdbcUrl, user, password, rows, window, Math.max(queueRows, rows),
        spoolDir, spoolMaxBytes, spoolSegmentBytes, dbTimeout, connectTimeout, probeInterval,
        poolSize, writers);
  }

  public StorageConfig withQueueRows(int rows) {
    return new StorageConfig(jdbcUrl, user, password, batchRows, batchWindow, rows, spoolDir,
        spoolMaxBytes, spoolSegmentBytes, dbTimeout, connectTimeout, probeInterval, poolSize, writers);
  }

  public StorageConfig withSpool(long maxBytes, long segmentBytes) {
    return new StorageConfig(jdbcUrl, user, password, batchRows, batchWindow, queueRows, spoolDir,
        maxBytes, segmentBytes, dbTimeout, connectTimeout, probeInterval, poolSize, writers);
  }

  public StorageConfig withTimeouts(Duration db, Duration connect, Duration probe) {
    return new StorageConfig(jdbcUrl, user, password, batchRows, batchWindow, queueRows, spoolDir,
        spoolMaxBytes, spoolSegmentBytes, db, connect, probe, poolSize, writers);
  }

  /** Sets the writer threads, and the pool to one connection more. */
  public StorageConfig withWriters(int n) {
    return new StorageConfig(jdbcUrl, user, password, batchRows, batchWindow, queueRows, spoolDir,
        spoolMaxBytes, spoolSegmentBytes, dbTimeout, connectTimeout, probeInterval,
        Math.max(poolSize, n + 1), n);
  }
}
