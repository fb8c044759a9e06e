package io.safegrid.gateway.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.schema.SchemaMigrator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Retention of {@code readings} for the Apache-only TimescaleDB build (licence {@code apache}),
 * which has no retention policies: on a schedule, drops the hypertable's chunks that lie wholly
 * before {@code now() - retention} and were created before it too ({@link #DROP_OLD_CHUNKS}: a
 * clock-reset device's fresh readings in an old chunk are kept as long as any others); and the
 * bounds of {@code dead_letters} ({@link DeadLetterRetention}, every minute).
 *
 * <p>With licence {@code timescale} the retention policy added by
 * {@code io.safegrid.schema.SchemaMigrator} does this inside the database, so each run is skipped.
 * The licence is read at every run ({@code SHOW timescaledb.license}).
 *
 * <p><b>TimescaleDB version</b> (review7 R19). {@link #DROP_OLD_CHUNKS} uses TimescaleDB's
 * internal {@code _timescaledb_functions.drop_chunk} (that schema name since 2.12) and {@code
 * show_chunks(created_before => ...)} (chunk creation time since 2.13). Every run (the first at
 * {@link #start}) reads the installed version ({@code pg_extension.extversion}) and whether the
 * internal function exists, and picks a {@link Mode}: 2.13 or later with the function: {@link
 * Mode#AGE_AND_CREATION}; another 2.x: {@link Mode#AGE_ONLY}, the public {@code
 * drop_chunks('readings', older_than => ...)}, with newcomer7 F10's caveat (a clock-reset device's
 * fresh readings in a chunk of 2000 go at the next run; logged as a WARN when chosen); no
 * extension or another major version: {@link Mode#REFUSED}, nothing dropped, an ERROR line, the
 * health check down. The mode is logged when it is first chosen and whenever it changes.
 *
 * <p>Granularity: whole 1-day chunks are dropped; rows in the chunk that straddles the boundary stay
 * until the whole chunk is older than the retention (at most one day more).
 *
 * <p>Metrics: {@code safegrid.retention.runs} (tag {@code outcome}: {@code dropped}, {@code nothing},
 * {@code skipped}, {@code refused}, {@code failed}), {@code safegrid.retention.chunks.dropped}; the
 * dead letters' ({@link DeadLetterRetention}) and {@code safegrid.retention.dead_letters.runs} (tag
 * {@code outcome}: {@code ok}, {@code failed}). {@link #status()} is the gateway's {@code retention}
 * check of {@code GET /api/health}.
 *
 * <p>Wiring: {@code RetentionJob job = new RetentionJob(dataSource, Duration.ofDays(retentionDays),
 * registry); job.start(Duration.ofHours(1)); ... job.close();}
 */
public final class RetentionJob implements AutoCloseable {

    /** Default retention of readings in days (config {@code retention days}). */
    public static final int DEFAULT_RETENTION_DAYS = SchemaMigrator.DEFAULT_RETENTION_DAYS;

    /** Default time between runs. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofHours(1);

    /** Longest time between two runs of the dead letters' bounds. */
    public static final Duration DEAD_LETTER_INTERVAL = Duration.ofMinutes(1);

    /**
     * Time to the next readings run after a failed one (instead of {@code interval}): the health
     * check's failing count is reset by a good run, so after a database outage ends {@code GET
     * /api/health} is back to 200 within about this long, not up to an hour later (review8 R8-12).
     */
    public static final Duration RETRY_AFTER_FAILURE = Duration.ofMinutes(1);

    /** Failed readings runs in a row after which {@link Status#up()} is false (about 3 h at the default interval; 2 min once the retries start). */
    public static final int FAILED_RUNS_DOWN = 3;

    /** Failed dead letter runs in a row after which {@link Status#up()} is false (30 min). */
    public static final int FAILED_DEAD_LETTER_RUNS_DOWN = 30;

    private static final Logger log = LoggerFactory.getLogger(RetentionJob.class);

    /** How readings are dropped on the installed TimescaleDB. */
    public enum Mode {
        /** Chunks older than the retention AND created before it ({@link #DROP_OLD_CHUNKS}; 2.13+). */
        AGE_AND_CREATION,
        /** Chunks older than the retention, by time alone (public {@code drop_chunks}; 2.x before 2.13). */
        AGE_ONLY,
        /** Licence {@code timescale}: the database's retention policy does it. */
        POLICY,
        /** No TimescaleDB or an unknown major version: nothing is dropped. */
        REFUSED
    }

    /**
     * What the last runs did, for {@code GET /api/health}.
     *
     * @param mode how readings are dropped (null before the first run)
     * @param timescaleVersion the installed extension version (null before the first run or when absent)
     * @param failedRuns readings runs failed since start
     * @param failingRuns readings runs failed in a row (0 after a good run)
     * @param deadLetterFailingRuns dead letter runs failed in a row
     * @param lastError the last run's error, or why it refuses; null when the last runs were good
     */
    public record Status(Mode mode, String timescaleVersion, long failedRuns, int failingRuns,
            int deadLetterFailingRuns, String lastError) {
        /**
         * False when readings are not dropped at all ({@link Mode#REFUSED}), or the last {@value
         * RetentionJob#FAILED_RUNS_DOWN} readings runs or {@value
         * RetentionJob#FAILED_DEAD_LETTER_RUNS_DOWN} dead letter runs failed: the disk fills.
         */
        public boolean up() {
            return mode != Mode.REFUSED && failingRuns < FAILED_RUNS_DOWN
                    && deadLetterFailingRuns < FAILED_DEAD_LETTER_RUNS_DOWN;
        }
    }

    private final DataSource dataSource;
    private final Duration retention;
    private final MeterRegistry registry;
    private final Counter chunksDropped;
    private final DeadLetterRetention deadLetters;
    private ScheduledExecutorService scheduler;
    private ScheduledExecutorService deadLetterScheduler;
    private volatile long retryMillis = RETRY_AFTER_FAILURE.toMillis();
    private volatile Mode mode;
    private volatile String timescaleVersion;
    private volatile String lastError;
    private final AtomicLong failedRuns = new AtomicLong();
    private final AtomicInteger failingRuns = new AtomicInteger();
    private final AtomicInteger deadLetterFailingRuns = new AtomicInteger();

    /**
     * With the default bounds of {@code dead_letters} ({@link DeadLetterRetention}).
     *
     * @param dataSource the SafeGrid database (migrated)
     * @param retention  age after which readings are dropped; at least one day
     * @param registry   where the metrics go
     * @throws IllegalArgumentException if retention is shorter than one day
     */
    public RetentionJob(DataSource dataSource, Duration retention, MeterRegistry registry) {
        this(dataSource, retention, registry, new DeadLetterRetention(dataSource, registry));
    }

    /**
     * @param dataSource the SafeGrid database (migrated)
     * @param retention  age after which readings are dropped; at least one day
     * @param registry   where the metrics go
     * @param deadLetters the bounds of {@code dead_letters}, run every {@link #DEAD_LETTER_INTERVAL}
     * @throws IllegalArgumentException if retention is shorter than one day
     */
    public RetentionJob(DataSource dataSource, Duration retention, MeterRegistry registry,
            DeadLetterRetention deadLetters) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.retention = Objects.requireNonNull(retention, "retention");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.deadLetters = Objects.requireNonNull(deadLetters, "deadLetters");
        if (retention.compareTo(Duration.ofDays(1)) < 0) {
            throw new IllegalArgumentException("retention must be at least 1 day, was " + retention);
        }
        this.chunksDropped = Counter.builder("safegrid.retention.chunks.dropped")
                .description("readings chunks dropped by the gateway's retention (apache licence)")
                .register(registry);
    }

    /**
     * Runs {@link #runOnce()} now and then every {@code interval} ({@link #RETRY_AFTER_FAILURE}
     * after a failed run, while it fails), and {@link DeadLetterRetention#runOnce()} now and then
     * every {@code interval} or {@link #DEAD_LETTER_INTERVAL}, whichever is shorter, each on its
     * own daemon thread (a readings run stuck on a silent database does not hold the dead
     * letters' up), until {@link #close()}. A failed run is logged and counted.
     *
     * @param interval time between runs, e.g. {@link #DEFAULT_INTERVAL}
     * @throws IllegalStateException if already started
     */
    public void start(Duration interval) {
        start(interval, RETRY_AFTER_FAILURE);
    }

    /**
     * {@link #start(Duration)} with the time to the next readings run after a failed one.
     *
     * @param interval time between good runs
     * @param retryAfterFailure time to the next run after a failed one (capped at {@code interval})
     */
    public synchronized void start(Duration interval, Duration retryAfterFailure) {
        if (scheduler != null) {
            throw new IllegalStateException("already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "safegrid-retention");
            t.setDaemon(true);
            return t;
        });
        deadLetterScheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "safegrid-retention-dead-letters");
            t.setDaemon(true);
            return t;
        });
        long good = interval.toMillis();
        long retry = Math.min(good, retryAfterFailure.toMillis());
        retryMillis = retry;
        scheduleReadings(0, good, retry);
        long dl = Math.min(interval.toMillis(), DEAD_LETTER_INTERVAL.toMillis());
        deadLetterScheduler.scheduleWithFixedDelay(this::runDeadLettersQuietly, 0, dl, TimeUnit.MILLISECONDS);
        log.info("retention of readings: {} days, checked every {} ({} ms after a failed run); dead letters bounded every {} ms",
                retention.toDays(), interval, retry, dl);
    }

    /** One readings run after {@code delayMs}, then the next: {@code retryMs} later while failing, else {@code goodMs}. */
    private synchronized void scheduleReadings(long delayMs, long goodMs, long retryMs) {
        ScheduledExecutorService s = scheduler;
        if (s == null || s.isShutdown()) {
            return;
        }
        s.schedule(() -> {
            runQuietly();
            scheduleReadings(failingRuns.get() > 0 ? retryMs : goodMs, goodMs, retryMs);
        }, delayMs, TimeUnit.MILLISECONDS);
    }

    /**
     * Drops the chunks of {@code readings} older than the retention, unless the licence is
     * {@code timescale} or the TimescaleDB version is not one this job knows ({@link Mode}).
     *
     * @return the number of chunks dropped (0 when none were old enough, or skipped, or refused)
     * @throws SQLException when the database fails
     */
    public int runOnce() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            String version = installedVersion(c);
            boolean internal = version != null && hasInternalDropChunk(c);
            Mode m = version == null ? Mode.REFUSED
                    : SchemaMigrator.Licence.TIMESCALE.equals(SchemaMigrator.licence(c)) ? Mode.POLICY
                    : choose(version, internal);
            modeChosen(m, version);
            if (m == Mode.POLICY) {
                log.debug("licence 'timescale': the retention policy drops old chunks; skipped");
                count("skipped");
                good();
                return 0;
            }
            if (m == Mode.REFUSED) {
                count("refused");
                lastError = refusal(version);
                return 0;
            }
            int dropped = 0;
            try (PreparedStatement ps = c.prepareStatement(m == Mode.AGE_AND_CREATION ? DROP_OLD_CHUNKS : DROP_BY_AGE)) {
                ps.setDouble(1, retention.toSeconds());
                if (m == Mode.AGE_AND_CREATION) {
                    ps.setDouble(2, retention.toSeconds());
                }
                try (ResultSet rs = ps.executeQuery()) {
                    rs.next();
                    dropped = rs.getInt(1);
                }
            }
            if (!c.getAutoCommit()) {
                c.commit();
            }
            chunksDropped.increment(dropped);
            count(dropped > 0 ? "dropped" : "nothing");
            good();
            if (dropped > 0) {
                log.info("retention: dropped {} readings chunks older than {} days", dropped, retention.toDays());
            }
            return dropped;
        }
    }

    /**
     * The mode for TimescaleDB {@code version} with licence {@code apache}: {@link
     * Mode#AGE_AND_CREATION} from 2.13 on when {@code _timescaledb_functions.drop_chunk(regclass)}
     * exists, {@link Mode#AGE_ONLY} for another 2.x, {@link Mode#REFUSED} for anything else (an
     * unparseable version, 1.x, a future 3.x whose functions this job does not know).
     *
     * @param version {@code pg_extension.extversion}, e.g. {@code "2.19.3"}; null when not installed
     * @param internalDropChunk whether the internal function exists
     */
    static Mode choose(String version, boolean internalDropChunk) {
        if (version == null) {
            return Mode.REFUSED;
        }
        java.util.regex.Matcher v = java.util.regex.Pattern.compile("(\\d+)\\.(\\d+)(\\..*)?").matcher(version);
        if (!v.matches() || !"2".equals(v.group(1))) {
            return Mode.REFUSED;
        }
        return Integer.parseInt(v.group(2)) >= 13 && internalDropChunk ? Mode.AGE_AND_CREATION : Mode.AGE_ONLY;
    }

    /** What the last runs did ({@code GET /api/health}'s {@code retention} check). */
    public Status status() {
        return new Status(mode, timescaleVersion, failedRuns.get(), failingRuns.get(), deadLetterFailingRuns.get(),
                lastError);
    }

    private static String refusal(String version) {
        return version == null
                ? "TimescaleDB extension not installed: readings are not dropped"
                : "TimescaleDB " + version + " is not 2.x: this gateway's retention does not know its chunk"
                        + " functions, readings are not dropped (drop old chunks by hand or upgrade the gateway)";
    }

    private void modeChosen(Mode m, String version) {
        Mode before = mode;
        timescaleVersion = version;
        mode = m;
        if (m == before) {
            return;
        }
        switch (m) {
            case AGE_AND_CREATION -> log.info("retention of readings on TimescaleDB {}: chunks older than {} days"
                    + " and created before then", version, retention.toDays());
            case AGE_ONLY -> log.warn("retention of readings on TimescaleDB {} (before 2.13, or without"
                    + " _timescaledb_functions.drop_chunk): chunks older than {} days by time alone; a device whose"
                    + " clock went back writes into an old chunk, and its fresh readings go at the next run"
                    + " (docs/storage.md \"Retention\")", version, retention.toDays());
            case POLICY -> log.info("retention of readings: licence 'timescale', the database's policy drops them");
            case REFUSED -> log.error("retention of readings REFUSED: {}", refusal(version));
        }
    }

    private void good() {
        failingRuns.set(0);
        lastError = null;
    }

    private static String installedVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static boolean hasInternalDropChunk(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery(
                     "SELECT to_regprocedure('_timescaledb_functions.drop_chunk(regclass)') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }

    /**
     * The chunks of {@code readings} whose time range lies wholly before {@code now() - retention}
     * AND that were created (their first row arrived) before it, dropped one by one. Why both:
     * a device whose clock went back (RTC reset to 2000, docs/rules.md "Time and order") writes its
     * fresh readings into a chunk of the year 2000; by time alone that chunk was dropped at the
     * next run, minutes after the readings that raised an alarm were acknowledged (newcomer7 F10).
     * {@code drop_chunks} takes {@code older_than} or {@code created_before}, not both, hence the
     * intersection of {@code show_chunks} and {@code _timescaledb_functions.drop_chunk}.
     */
    static final String DROP_OLD_CHUNKS = "SELECT count(*) FROM (SELECT _timescaledb_functions.drop_chunk(c) FROM ("
        + "SELECT show_chunks('readings', older_than => now() - make_interval(secs => ?)) c"
        + " INTERSECT SELECT show_chunks('readings', created_before => now() - make_interval(secs => ?))) old) d";

    /** {@link Mode#AGE_ONLY}: TimescaleDB's public {@code drop_chunks} by time alone. */
    static final String DROP_BY_AGE =
        "SELECT count(*) FROM drop_chunks('readings', older_than => now() - make_interval(secs => ?))";

    private void runQuietly() {
        try {
            runOnce();
        } catch (SQLException | RuntimeException e) {
            count("failed");
            failedRuns.incrementAndGet();
            failingRuns.incrementAndGet();
            lastError = e.toString();
            log.warn("retention run failed (next run in {} ms): {}", retryMillis, e.toString());
        }
    }

    private void runDeadLettersQuietly() {
        try {
            deadLetters.runOnce();
            deadLetterFailingRuns.set(0);
            registry.counter("safegrid.retention.dead_letters.runs", "outcome", "ok").increment();
        } catch (SQLException | RuntimeException e) {
            deadLetterFailingRuns.incrementAndGet();
            registry.counter("safegrid.retention.dead_letters.runs", "outcome", "failed").increment();
            log.warn("dead letter retention run failed (next run as scheduled): {}", e.toString());
        }
    }

    private void count(String outcome) {
        registry.counter("safegrid.retention.runs", "outcome", outcome).increment();
    }

    /** Stops the schedules; a run in progress finishes. */
    @Override
    public void close() {
        ScheduledExecutorService a;
        ScheduledExecutorService b;
        synchronized (this) {
            a = scheduler;
            b = deadLetterScheduler;
            scheduler = null;
            deadLetterScheduler = null;
        }
        for (ScheduledExecutorService s : new ScheduledExecutorService[] {a, b}) {
            if (s == null) {
                continue;
            }
            s.shutdown();
            try {
                s.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
