package io.safegrid.gateway.retention;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.schema.SchemaMigrator;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Objects;
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
 * clock-reset device's fresh readings in an old chunk are kept as long as any others).
 *
 * <p>With licence {@code timescale} the retention policy added by
 * {@code io.safegrid.schema.SchemaMigrator} does this inside the database, so each run is skipped.
 * The licence is read at every run ({@code SHOW timescaledb.license}).
 *
 * <p>Granularity: whole 1-day chunks are dropped; rows in the chunk that straddles the boundary stay
 * until the whole chunk is older than the retention (at most one day more).
 *
 * <p>Metrics: {@code safegrid.retention.runs} (tag {@code outcome}: {@code dropped}, {@code nothing},
 * {@code skipped}, {@code failed}), {@code safegrid.retention.chunks.dropped}.
 *
 * <p>Wiring: {@code RetentionJob job = new RetentionJob(dataSource, Duration.ofDays(retentionDays),
 * registry); job.start(Duration.ofHours(1)); ... job.close();}
 */
public final class RetentionJob implements AutoCloseable {

    /** Default retention of readings in days (config {@code retention days}). */
    public static final int DEFAULT_RETENTION_DAYS = SchemaMigrator.DEFAULT_RETENTION_DAYS;

    /** Default time between runs. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofHours(1);

    private static final Logger log = LoggerFactory.getLogger(RetentionJob.class);

    private final DataSource dataSource;
    private final Duration retention;
    private final MeterRegistry registry;
    private final Counter chunksDropped;
    private ScheduledExecutorService scheduler;

    /**
     * @param dataSource the SafeGrid database (migrated)
     * @param retention  age after which readings are dropped; at least one day
     * @param registry   where the metrics go
     * @throws IllegalArgumentException if retention is shorter than one day
     */
    public RetentionJob(DataSource dataSource, Duration retention, MeterRegistry registry) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.retention = Objects.requireNonNull(retention, "retention");
        this.registry = Objects.requireNonNull(registry, "registry");
        if (retention.compareTo(Duration.ofDays(1)) < 0) {
            throw new IllegalArgumentException("retention must be at least 1 day, was " + retention);
        }
        this.chunksDropped = Counter.builder("safegrid.retention.chunks.dropped")
                .description("readings chunks dropped by the gateway's retention (apache licence)")
                .register(registry);
    }

    /**
     * Runs {@link #runOnce()} now and then every {@code interval} on a daemon thread, until
     * {@link #close()}. A failed run is logged and counted; the next one runs as scheduled.
     *
     * @param interval time between runs, e.g. {@link #DEFAULT_INTERVAL}
     * @throws IllegalStateException if already started
     */
    public synchronized void start(Duration interval) {
        if (scheduler != null) {
            throw new IllegalStateException("already started");
        }
        scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "safegrid-retention");
            t.setDaemon(true);
            return t;
        });
        scheduler.scheduleWithFixedDelay(this::runQuietly, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        log.info("retention of readings: {} days, checked every {}", retention.toDays(), interval);
    }

    /**
     * Drops the chunks of {@code readings} older than the retention, unless the licence is
     * {@code timescale}.
     *
     * @return the number of chunks dropped (0 when none were old enough, or skipped)
     * @throws SQLException when the database fails
     */
    public int runOnce() throws SQLException {
        try (Connection c = dataSource.getConnection()) {
            String licence = SchemaMigrator.licence(c);
            if (SchemaMigrator.Licence.TIMESCALE.equals(licence)) {
                log.debug("licence 'timescale': the retention policy drops old chunks; skipped");
                count("skipped");
                return 0;
            }
            int dropped = 0;
            try (PreparedStatement ps = c.prepareStatement(DROP_OLD_CHUNKS)) {
                ps.setDouble(1, retention.toSeconds());
                ps.setDouble(2, retention.toSeconds());
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
            if (dropped > 0) {
                log.info("retention: dropped {} readings chunks older than {} days", dropped, retention.toDays());
            }
            return dropped;
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

    private void runQuietly() {
        try {
            runOnce();
        } catch (SQLException | RuntimeException e) {
            count("failed");
            log.warn("retention run failed (next run as scheduled): {}", e.toString());
        }
    }

    private void count(String outcome) {
        registry.counter("safegrid.retention.runs", "outcome", outcome).increment();
    }

    /** Stops the schedule; a run in progress finishes. */
    @Override
    public synchronized void close() {
        if (scheduler != null) {
            scheduler.shutdown();
            try {
                scheduler.awaitTermination(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            scheduler = null;
        }
    }
}
