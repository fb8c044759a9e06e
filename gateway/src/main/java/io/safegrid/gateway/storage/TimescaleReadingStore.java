package io.safegrid.gateway.storage;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@link ReadingStore} on TimescaleDB, with a local spool for database outages.
 *
 * <p><b>Live path.</b> Producers enqueue (no blocking, no thread hop per reading); a writer
 * thread ({@link StorageConfig#writers()} of them, each with its own connection, so one batch is
 * sent while another commits) closes a batch at {@link StorageConfig#batchRows()} readings or {@link
 * StorageConfig#batchWindow()} after its first submission, writes it in one transaction ({@link
 * BatchWriter}: binary COPY into a staging table, then INSERT ... ON CONFLICT DO NOTHING; refused
 * rows to dead_letters) and completes the batch's futures after the commit, on one completion
 * thread (one task per batch).
 *
 * <p><b>Outage.</b> When a batch cannot be written (connection refused or lost, slower than
 * {@link StorageConfig#dbTimeout()}), it and everything after it go to the {@link Spool}: appended
 * in groups, fsync'd once per group, futures completed after the fsync. A probe checks the
 * database every {@link StorageConfig#probeInterval()}; once it answers, the writer replays the
 * spool in order, one batch per loop turn between spooling new submissions, deleting segments only
 * after commit, and returns to the live path when the spool is drained. Replay is exactly once per
 * reading identity thanks to ON CONFLICT. A spool left by a previous process (even one killed with
 * kill -9) is replayed at start.
 *
 * <p><b>Bounds.</b> At most {@link StorageConfig#queueRows()} readings wait in memory and at most
 * {@link StorageConfig#spoolMaxBytes()} bytes in the spool; beyond, futures fail with {@link
 * StoreOverloadedException}, {@link #acceptingMore()} is false, {@link #spoolFull()} is true and
 * the gauge {@code safegrid.storage.spool.full} is 1. Nothing is dropped silently.
 *
 * <p>A future of readings the database refuses (e.g. a NUL byte in the metric name) completes
 * normally: the refused rows are durable in {@code dead_letters} with the reason, and resending
 * would not help. Times are sent as binary {@code timestamptz} (UTC microseconds) and the
 * sessions use {@code TimeZone=UTC}: JVM and database time zones do not change what is stored.
 */
public final class TimescaleReadingStore implements ReadingStore {
  private static final Logger log = LoggerFactory.getLogger(TimescaleReadingStore.class);

  private final StorageConfig config;
  private final HikariDataSource dataSource;
  private final StorageMetrics metrics;
  private final LinkedBlockingQueue<Submission> queue = new LinkedBlockingQueue<>();
  private final AtomicLong queuedRows = new AtomicLong();
  /** Guards the spool, the codec and the switches between live and spooling. */
  private final Object spoolLock = new Object();
  private final SpoolCodec codec = new SpoolCodec();
  private final Spool spool;
  private final List<Thread> writerThreads = new ArrayList<>();
  private final ExecutorService completer;
  private final ScheduledExecutorService prober;
  private final long windowNanos;
  /** Held by the writer collecting the next batch (see {@link #collect}). */
  private final ReentrantLock collecting = new ReentrantLock();

  private volatile boolean running = true;
  private volatile boolean spooling;
  private volatile boolean databaseReachable;
  private volatile boolean spoolFull;
  /** Asked before each replay batch: see {@link #TimescaleReadingStore(StorageConfig, MeterRegistry, BooleanSupplier)}. */
  private final BooleanSupplier replayGate;

  /**
   * Opens the store: its own HikariCP pool on {@code config.jdbcUrl()} (created even while the
   * database is down), the spool in {@code config.spoolDir()} (replayed first if not empty), and
   * the writer thread.
   *
   * @param config settings; see {@link StorageConfig#defaults}
   * @param registry where the {@code safegrid.storage.*} meters go (see {@link StorageMetrics})
   * @throws UncheckedIOException when the spool directory cannot be opened or is locked by another
   *     process
   */
  public TimescaleReadingStore(StorageConfig config, MeterRegistry registry) {
    this(config, registry, () -> true);
  }

  /**
   * As {@link #TimescaleReadingStore(StorageConfig, MeterRegistry)}, with a gate for the spool's
   * replay: a batch is replayed only while {@code replayGate} says true (asked on the writer
   * thread before each batch, at least every 100 ms while the spool waits; live submissions go on
   * to the spool meanwhile). The gateway's gate holds the replay until its alarm writer has
   * applied the transitions decided from what is spooled (review7 R2: a stored row is taken for
   * judged after a restart).
   *
   * @param replayGate true when the spool may be replayed now; must be cheap and never block
   */
  public TimescaleReadingStore(StorageConfig config, MeterRegistry registry,
      BooleanSupplier replayGate) {
    this.replayGate = java.util.Objects.requireNonNull(replayGate, "replayGate");
    this.config = config;
    this.windowNanos = config.batchWindow().toNanos();
    this.metrics = new StorageMetrics(registry);
    try {
      this.spool = Spool.open(config.spoolDir(), config.spoolMaxBytes(), config.spoolSegmentBytes());
    } catch (IOException e) {
      // the cause says why (e.g. another gateway holds the directory's lock): the launcher prints
      // only this message
      throw new UncheckedIOException(
          "cannot open the spool in " + config.spoolDir() + ": " + e.getMessage(), e);
    }
    this.dataSource = new HikariDataSource(hikari(config));
    StorageMetrics.gauge(registry, "safegrid.storage.spool.bytes", "bytes", this,
        () -> spool.unreplayedBytes());
    StorageMetrics.gauge(registry, "safegrid.storage.spool.age", "seconds", this, () -> {
      long oldest = spool.oldestUnreplayedMillis();
      return oldest == 0 ? 0 : Math.max(0, System.currentTimeMillis() - oldest) / 1000.0;
    });
    StorageMetrics.gauge(registry, "safegrid.storage.spool.full", null, this,
        () -> spoolFull ? 1 : 0);
    StorageMetrics.gauge(registry, "safegrid.storage.spooling", null, this,
        () -> spooling ? 1 : 0);
    StorageMetrics.gauge(registry, "safegrid.storage.queue.rows", "rows", this,
        () -> queuedRows.get());
    if (!spool.isDrained()) {
      log.info("spool {} holds {} bytes from before: replaying them first", config.spoolDir(),
          spool.unreplayedBytes());
      spooling = true;
    }
    completer = Executors.newSingleThreadExecutor(daemon("safegrid-storage-completer"));
    prober = Executors.newSingleThreadScheduledExecutor(daemon("safegrid-storage-probe"));
    long probe = config.probeInterval().toMillis();
    prober.scheduleWithFixedDelay(this::probe, 0, probe, TimeUnit.MILLISECONDS);
    for (int i = 0; i < config.writers(); i++) {
      Thread t = new Thread(this::runWriter, "safegrid-storage-writer-" + i);
      writerThreads.add(t);
      t.start();
    }
  }

  private static HikariConfig hikari(StorageConfig c) {
    HikariConfig h = new HikariConfig();
    h.setPoolName("safegrid-storage");
    h.setJdbcUrl(c.jdbcUrl());
    h.setUsername(c.user());
    h.setPassword(c.password());
    h.setMaximumPoolSize(c.poolSize());
    h.setMinimumIdle(1);
    h.setConnectionTimeout(Math.max(250, c.connectTimeout().toMillis()));
    h.setValidationTimeout(Math.max(250, Math.min(c.connectTimeout().toMillis(), 1000)));
    h.setInitializationFailTimeout(-1); // start while the database is down: spool meanwhile
    h.setConnectionInitSql(BatchWriter.CONNECTION_INIT_SQL);
    long socketSeconds = Math.max(1, (c.dbTimeout().toMillis() + 999) / 1000);
    h.addDataSourceProperty("socketTimeout", String.valueOf(socketSeconds));
    h.addDataSourceProperty("connectTimeout",
        String.valueOf(Math.max(1, (c.connectTimeout().toMillis() + 999) / 1000)));
    h.addDataSourceProperty("tcpKeepAlive", "true");
    h.addDataSourceProperty("ApplicationName", "safegrid-storage");
    h.addDataSourceProperty("reWriteBatchedInserts", "true");
    return h;
  }

  private static java.util.concurrent.ThreadFactory daemon(String name) {
    return r -> {
      Thread t = new Thread(r, name);
      t.setDaemon(true);
      return t;
    };
  }

  /** The store's pool (UTC sessions), e.g. for {@link ReadingQueries} in the same process. */
  public DataSource dataSource() {
    return dataSource;
  }

  @Override
  public CompletableFuture<Void> submit(List<Reading> readings) {
    if (readings.isEmpty()) return CompletableFuture.completedFuture(null);
    return enqueue(Submission.ofReadings(List.copyOf(readings)));
  }

  /**
   * As {@link #submit}, and tells which readings were stored before with the same value: known
   * when the batch took the merge path (one more query, only for batches holding such a
   * submission); the direct path stores only when nothing was stored before; spooled: unknown,
   * told as none.
   */
  @Override
  public CompletableFuture<Set<Reading>> submitReporting(List<Reading> readings) {
    if (readings.isEmpty()) return CompletableFuture.completedFuture(Set.of());
    Submission s = Submission.ofReadingsReporting(List.copyOf(readings));
    return enqueue(s).thenApply(v -> s.storedBefore == null ? Set.of() : s.storedBefore);
  }

  @Override
  public CompletableFuture<Void> submitEvent(DeviceEvent event) {
    return enqueue(Submission.ofEvent(event));
  }

  @Override
  public CompletableFuture<Void> deadLetter(
      String deviceId, String source, String reason, byte[] payload) {
    metrics.deadLettersIngest.increment();
    return enqueue(Submission.ofDeadLetter(
        new DeadLetter(System.currentTimeMillis(), deviceId, source, reason, payload)));
  }

  private CompletableFuture<Void> enqueue(Submission s) {
    if (!running) return CompletableFuture.failedFuture(new IllegalStateException("store closed"));
    if (spoolFull) {
      metrics.rejectedSpoolFull.increment();
      return CompletableFuture.failedFuture(new StoreOverloadedException(
          "database unreachable and spool full (" + spool.bytesOnDisk() + " bytes in "
              + config.spoolDir() + ")"));
    }
    int rows = s.rows();
    if (queuedRows.addAndGet(rows) > config.queueRows()) {
      queuedRows.addAndGet(-rows);
      metrics.rejectedQueueFull.increment();
      return CompletableFuture.failedFuture(new StoreOverloadedException(
          "storage queue full (" + config.queueRows() + " readings waiting)"));
    }
    queue.add(s);
    return s.future;
  }

  /** False while the spool is full or the queue more than three quarters full: pause reading. */
  @Override
  public boolean acceptingMore() {
    return !spoolFull && queuedRows.get() < config.queueRows() * 3L / 4;
  }

  /** True while the spool refuses submissions (database unreachable for long): raise an alarm. */
  public boolean spoolFull() {
    return spoolFull;
  }

  /** True while the database is treated as unreachable and submissions go to the spool. */
  public boolean spooling() {
    return spooling;
  }

  // ---------------------------------------------------------------- writer thread

  private void runWriter() {
    BatchWriter writer = new BatchWriter();
    List<Submission> taken = new ArrayList<>();
    while (true) {
      boolean replay = spooling && databaseReachable && replayGate.getAsBoolean();
      try {
        collect(taken, replay);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (!taken.isEmpty()) {
        process(writer, taken);
        taken = new ArrayList<>();
      }
      if (replay && spooling && databaseReachable) {
        synchronized (spoolLock) {
          if (spooling && databaseReachable) replayOnce(writer);
        }
      }
      if (!running && queue.isEmpty()) break;
    }
  }

  /** Live if the database is taken as reachable, else (or when that fails) to the spool. */
  private void process(BatchWriter writer, List<Submission> subs) {
    if (!spooling && writeLive(writer, subs)) return;
    synchronized (spoolLock) {
      if (spooling) {
        toSpool(subs);
        return;
      }
    }
    // The spool was drained by another writer meanwhile, or this batch has just failed live.
    if (writeLive(writer, subs)) return;
    synchronized (spoolLock) {
      toSpool(subs);
    }
  }

  /**
   * Takes one batch's submissions: up to batchRows, or what arrived within the window after the
   * first one. One writer collects at a time (the other writes or commits meanwhile), so
   * concurrent writers do not split a window's submissions into half-full batches. Within the
   * window the writer sleeps until the window ends and then drains the queue, rather than being
   * woken by every submission (at 20,000 messages/s that is 20,000 wake-ups a second saved).
   */
  private void collect(List<Submission> out, boolean noWait) throws InterruptedException {
    if (noWait) {
      // replaying: do not wait for the other writer's window, replay meanwhile
      if (!collecting.tryLock()) return;
    } else {
      collecting.lockInterruptibly();
    }
    try {
      Submission first = noWait || !running ? queue.poll() : queue.poll(100, TimeUnit.MILLISECONDS);
      if (first == null) return;
      int rows = take(out, first);
      long deadline = first.enqueuedNanos + windowNanos;
      while (rows < config.batchRows()) {
        Submission next = queue.poll();
        if (next != null) {
          rows += take(out, next);
          continue;
        }
        long wait = deadline - System.nanoTime();
        if (wait <= 0 || noWait || !running) break;
        LockSupport.parkNanos(this, wait);
        if (Thread.interrupted()) throw new InterruptedException();
      }
    } finally {
      collecting.unlock();
    }
  }

  private int take(List<Submission> out, Submission s) {
    out.add(s);
    queuedRows.addAndGet(-s.rows());
    return s.readings.size();
  }

  /** Writes and commits, then completes; false (and spooling on) when the database failed. */
  private boolean writeLive(BatchWriter writer, List<Submission> subs) {
    Batch batch = new Batch();
    for (Submission s : subs) batch.add(s);
    try {
      BatchWriter.Result r = write(writer, batch, false);
      if (batch.reporting) {
        for (Submission s : subs) {
          if (s.reporting) s.storedBefore = r.storedBefore(s.readings);
        }
      }
      completer.execute(() -> {
        for (Submission s : subs) s.future.complete(null);
      });
      return true;
    } catch (StorageUnavailableException e) {
      synchronized (spoolLock) {
        if (!spooling) {
          log.warn("database unavailable, spooling to {} until it answers: {}",
              config.spoolDir(), e.getMessage());
        }
        spooling = true;
        databaseReachable = false;
      }
      return false;
    }
  }

  private BatchWriter.Result write(BatchWriter writer, Batch batch, boolean replay)
      throws StorageUnavailableException {
    long start = System.nanoTime();
    BatchWriter.Result r;
    try (Connection c = dataSource.getConnection()) {
      r = writer.write(c, batch);
    } catch (SQLException e) {
      throw new StorageUnavailableException("no connection: " + e.getMessage(), e);
    }
    metrics.batchLatency.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
    metrics.inserted.increment(r.inserted());
    metrics.duplicates.increment(r.duplicates());
    metrics.conflicts.increment(r.conflicts());
    (replay ? metrics.replayBatches : metrics.liveBatches).increment();
    metrics.deadLettersStorage.increment(r.rejected().size());
    return r;
  }

  /** Appends the submissions as one record, fsyncs, then completes their futures. */
  private void toSpool(List<Submission> subs) {
    codec.reset();
    List<Submission> accepted = new ArrayList<>(subs.size());
    List<Submission> refused = new ArrayList<>();
    int rows = 0;
    for (Submission s : subs) {
      int mark = codec.length();
      codec.add(s);
      if (!refused.isEmpty() || !spool.fits(codec.length())) {
        codec.truncate(mark);
        refused.add(s);
      } else {
        accepted.add(s);
        rows += s.readings.size();
      }
    }
    try {
      if (!accepted.isEmpty()) {
        spool.append(codec.buffer(), codec.length(), System.currentTimeMillis());
        spool.sync();
        metrics.spooled.increment(rows);
        completer.execute(() -> {
          for (Submission s : accepted) s.future.complete(null);
        });
      }
    } catch (IOException e) {
      log.error("cannot write the spool {}: failing {} submissions", config.spoolDir(),
          subs.size(), e);
      UncheckedIOException failure = new UncheckedIOException("spool write failed", e);
      completer.execute(() -> {
        for (Submission s : accepted) s.future.completeExceptionally(failure);
      });
    }
    if (!refused.isEmpty()) {
      if (!spoolFull) {
        log.error("spool full ({} of {} bytes) while the database is unreachable: refusing"
            + " submissions until it drains", spool.bytesOnDisk(), spool.maxBytes());
      }
      spoolFull = true;
      metrics.rejectedSpoolFull.increment(refused.size());
      StoreOverloadedException full = new StoreOverloadedException(
          "database unreachable and spool full (" + spool.bytesOnDisk() + " bytes in "
              + config.spoolDir() + ")");
      completer.execute(() -> {
        for (Submission s : refused) s.future.completeExceptionally(full);
      });
    }
  }

  /** Replays one batch from the spool; back to the live path once drained. */
  private void replayOnce(BatchWriter writer) {
    try {
      if (!spool.isDrained()) {
        Spool.Cursor cursor = spool.cursor();
        Batch batch = new Batch();
        byte[] body;
        while (batch.readings.size() < config.batchRows() && (body = cursor.next()) != null) {
          try {
            SpoolCodec.decode(body, batch);
          } catch (IllegalArgumentException e) {
            log.error("spool record at {} cannot be decoded, skipped: {}", cursor.position(),
                e.getMessage());
          }
        }
        if (!batch.isEmpty()) write(writer, batch, true);
        spool.commit(cursor.position());
      }
      // Hysteresis: accept again once the spool is back under 90 % of its bound.
      if (spoolFull && spool.bytesOnDisk() < spool.maxBytes() * 9 / 10) {
        log.info("spool below 90 % of its bound: accepting submissions again");
        spoolFull = false;
      }
      if (spool.isDrained()) {
        log.info("spool drained: back to writing to the database directly");
        spooling = false;
        spoolFull = false;
      }
    } catch (StorageUnavailableException e) {
      log.warn("replay stopped, database unavailable again: {}", e.getMessage());
      databaseReachable = false;
    } catch (IOException e) {
      log.error("cannot read the spool {}; retrying at the next probe", config.spoolDir(), e);
      databaseReachable = false;
    }
  }

  private void probe() {
    if (!spooling || databaseReachable || !running) return;
    try (Connection c = dataSource.getConnection()) {
      if (c.isValid(Math.max(1, (int) config.connectTimeout().toSeconds()))) {
        log.info("database answers again: replaying the spool");
        databaseReachable = true;
      }
    } catch (SQLException e) {
      log.debug("database still unreachable: {}", e.getMessage());
    }
  }

  /**
   * Stops taking submissions, writes (or spools) what is queued, completes its futures, then
   * releases the pool and the spool. A spool not yet replayed stays on disk for the next start.
   */
  @Override
  public void close() {
    if (!running) return;
    running = false;
    try {
      for (Thread t : writerThreads) t.join(Math.max(10_000, config.dbTimeout().toMillis() * 3));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    prober.shutdownNow();
    IllegalStateException closed = new IllegalStateException("store closed");
    for (Submission s; (s = queue.poll()) != null; ) s.future.completeExceptionally(closed);
    completer.shutdown();
    try {
      completer.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    dataSource.close();
    try {
      spool.close();
    } catch (IOException e) {
      log.warn("closing the spool: {}", e.toString());
    }
  }
}
