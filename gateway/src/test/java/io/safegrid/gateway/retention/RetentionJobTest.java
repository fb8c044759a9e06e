package io.safegrid.gateway.retention;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class RetentionJobTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    /** An empty database: no TimescaleDB extension, no schema. */
    @RegisterExtension
    static final TestDatabase plain = TestDatabase.unmigrated();

    /** TimescaleDB, no readings hypertable until the test makes one: runs fail, then succeed. */
    @RegisterExtension
    static final TestDatabase flaky = TestDatabase.unmigrated();

    @BeforeEach
    void readingsOfDifferentAges() throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("TRUNCATE readings");
            // 500 and 401 days old: beyond the 400-day retention; 399 days, 10 days and 1 hour: kept
            st.execute("INSERT INTO readings (time, device_id, metric, value) VALUES"
                    + " (now() - interval '500 days', 'gas-001', 'gas_lel', 1),"
                    + " (now() - interval '401 days 12 hours', 'gas-002', 'gas_lel', 2),"
                    + " (now() - interval '399 days', 'gas-003', 'gas_lel', 3),"
                    + " (now() - interval '10 days', 'gas-004', 'gas_lel', 4),"
                    + " (now() - interval '1 hour', 'gas-005', 'gas_lel', 5)");
        }
        assertThat(chunkCount()).isEqualTo(5);
        ageChunks("1000 days"); // as if each had been written when its readings happened
    }

    /** Sets the creation time of every chunk of readings to {@code age} ago. */
    private static void ageChunks(String age) throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("UPDATE _timescaledb_catalog.chunk SET creation_time = now() - interval '" + age + "'"
                    + " WHERE hypertable_id = (SELECT id FROM _timescaledb_catalog.hypertable WHERE table_name = 'readings')");
        }
    }

    /**
     * Newcomer7 F10: a device whose clock went back to 2000 writes into a chunk of 2000; its
     * readings, received a minute ago, were dropped at the next run (by time alone).
     */
    @Test
    void freshReadingsOfADeviceWhoseClockWentBackAreKept() throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            st.execute("INSERT INTO readings (time, device_id, metric, value) VALUES"
                    + " ('2000-01-01T00:00:05Z', 'gas-015', 'gas_lel', 70), ('2000-01-01T00:01:05Z', 'gas-015', 'gas_lel', 72)");
        }
        RetentionJob job = new RetentionJob(db.dataSource(), Duration.ofDays(400), new SimpleMeterRegistry());
        assertThat(job.runOnce()).as("the two old chunks written long ago").isEqualTo(2);
        assertThat(devices()).contains("gas-015");
        ageChunks("401 days"); // a year and more later they go like the rest
        assertThat(job.runOnce()).isEqualTo(1);
        assertThat(devices()).doesNotContain("gas-015");
    }

    @Test
    void dropsChunksOlderThanTheRetentionAndKeepsRecentReadings() throws Exception {
        assertThat(db.migration().licence()).as("this server needs the gateway's retention").isEqualTo("apache");
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetentionJob job = new RetentionJob(db.dataSource(), Duration.ofDays(400), registry);

        assertThat(job.runOnce()).isEqualTo(2);

        assertThat(devices()).containsExactly("gas-003", "gas-004", "gas-005");
        assertThat(chunkCount()).isEqualTo(3);
        assertThat(registry.get("safegrid.retention.chunks.dropped").counter().count()).isEqualTo(2.0);
        assertThat(registry.get("safegrid.retention.runs").tag("outcome", "dropped").counter().count()).isEqualTo(1.0);

        assertThat(job.runOnce()).as("second run finds nothing").isZero();
        assertThat(registry.get("safegrid.retention.runs").tag("outcome", "nothing").counter().count()).isEqualTo(1.0);
    }

    @Test
    void theScheduleRunsUntilClosed() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        try (RetentionJob job = new RetentionJob(db.dataSource(), Duration.ofDays(5), registry)) {
            job.start(Duration.ofMillis(200));
            await().atMost(Duration.ofSeconds(20)).until(() -> devices().equals(List.of("gas-005")));
            assertThatThrownBy(() -> job.start(Duration.ofSeconds(1))).isInstanceOf(IllegalStateException.class);
        }
        assertThat(registry.get("safegrid.retention.chunks.dropped").counter().count()).isEqualTo(4.0);
    }

    @Test
    void refusesARetentionShorterThanADay() {
        assertThatThrownBy(() -> new RetentionJob(db.dataSource(), Duration.ofHours(23), new SimpleMeterRegistry()))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 1 day");
    }

    /**
     * review7 R19: the job uses TimescaleDB internals (2.13+). On a database without TimescaleDB
     * it refuses clearly (an ERROR line, outcome {@code refused}, its health check down with the
     * reason) instead of failing every hour with one WARN; runs that keep failing show in the
     * status (the gateway's {@code retention} check of /api/health) and in the metric.
     */
    @Test
    void withoutTimescaleDbItRefusesClearlyAndRunsThatKeepFailingShowInItsStatus() throws Exception {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        RetentionJob job = new RetentionJob(plain.dataSource(), Duration.ofDays(400), registry);
        assertThat(job.runOnce()).isZero();
        RetentionJob.Status refused = job.status();
        assertThat(refused.mode()).isEqualTo(RetentionJob.Mode.REFUSED);
        assertThat(refused.up()).isFalse();
        assertThat(refused.lastError()).contains("TimescaleDB extension not installed");
        assertThat(registry.get("safegrid.retention.runs").tag("outcome", "refused").counter().count()).isEqualTo(1.0);

        try (Connection c = plain.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS timescaledb"); // TimescaleDB, but no readings hypertable
        }
        try (RetentionJob scheduled = new RetentionJob(plain.dataSource(), Duration.ofDays(400), registry)) {
            scheduled.start(Duration.ofMillis(100));
            await().atMost(Duration.ofSeconds(20)).until(() -> scheduled.status().failingRuns() >= RetentionJob.FAILED_RUNS_DOWN);
            RetentionJob.Status failing = scheduled.status();
            assertThat(failing.mode()).isEqualTo(RetentionJob.Mode.AGE_AND_CREATION);
            assertThat(failing.up()).isFalse();
            assertThat(failing.lastError()).contains("readings");
        }
        assertThat(registry.get("safegrid.retention.runs").tag("outcome", "failed").counter().count())
                .isGreaterThanOrEqualTo(RetentionJob.FAILED_RUNS_DOWN);

        RetentionJob good = new RetentionJob(db.dataSource(), Duration.ofDays(400), new SimpleMeterRegistry());
        good.runOnce();
        assertThat(good.status().up()).isTrue();
        assertThat(good.status().mode()).as("this server: 2.19").isEqualTo(RetentionJob.Mode.AGE_AND_CREATION);
        assertThat(good.status().timescaleVersion()).isEqualTo(db.migration().timescaleVersion());
    }

    /**
     * review8 R8-12: after the readings runs failed long enough for the health check to say
     * "down" (a database outage of 3 h+), the job runs again soon after each failure, so the
     * check is back up within the retry delay once the database works, not at the next hourly
     * run (an hour of HTTP 503 from a working gateway).
     */
    @Test
    void afterFailingRunsTheCheckIsBackUpSoonAfterTheDatabaseWorksNotAtTheNextHourlyRun() throws Exception {
        try (Connection c = flaky.connect(); Statement st = c.createStatement()) {
            st.execute("CREATE EXTENSION IF NOT EXISTS timescaledb");
        }
        try (RetentionJob job = new RetentionJob(flaky.dataSource(), Duration.ofDays(400), new SimpleMeterRegistry())) {
            job.start(Duration.ofHours(1), Duration.ofMillis(200));
            await().atMost(Duration.ofSeconds(20)).until(() -> job.status().failingRuns() >= RetentionJob.FAILED_RUNS_DOWN);
            assertThat(job.status().up()).as("down after failing runs in a row").isFalse();
            try (Connection c = flaky.connect(); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE readings (time timestamptz NOT NULL, device_id text, metric text,"
                        + " value double precision)");
                st.execute("SELECT create_hypertable('readings', 'time')");
            }
            await().atMost(Duration.ofSeconds(5)).until(() -> job.status().up());
            assertThat(job.status().failingRuns()).isZero();
            assertThat(job.status().lastError()).isNull();
        }
    }

    @Test
    void theModeFollowsTheTimescaleDbVersion() {
        assertThat(RetentionJob.choose("2.19.3", true)).isEqualTo(RetentionJob.Mode.AGE_AND_CREATION);
        assertThat(RetentionJob.choose("2.13.0", true)).isEqualTo(RetentionJob.Mode.AGE_AND_CREATION);
        assertThat(RetentionJob.choose("2.12.2", true)).isEqualTo(RetentionJob.Mode.AGE_ONLY);
        assertThat(RetentionJob.choose("2.19.3", false)).as("internal function renamed").isEqualTo(RetentionJob.Mode.AGE_ONLY);
        assertThat(RetentionJob.choose("2.9.0-dev", false)).isEqualTo(RetentionJob.Mode.AGE_ONLY);
        assertThat(RetentionJob.choose("3.0.0", true)).isEqualTo(RetentionJob.Mode.REFUSED);
        assertThat(RetentionJob.choose("1.7.5", false)).isEqualTo(RetentionJob.Mode.REFUSED);
        assertThat(RetentionJob.choose(null, false)).isEqualTo(RetentionJob.Mode.REFUSED);
    }

    /** The fallback's statement (public drop_chunks by time) runs on the real server and drops by time alone. */
    @Test
    void theFallbackForOlderTimescaleDbDropsByTimeAlone() throws Exception {
        ageChunks("1 hour"); // created recently: the 2.13+ statement would keep them all
        try (Connection c = db.connect(); java.sql.PreparedStatement ps = c.prepareStatement(RetentionJob.DROP_BY_AGE)) {
            ps.setDouble(1, Duration.ofDays(400).toSeconds());
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(2);
            }
        }
        assertThat(devices()).containsExactly("gas-003", "gas-004", "gas-005");
    }

    private static List<String> devices() throws Exception {
        List<String> out = new ArrayList<>();
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT device_id FROM readings ORDER BY device_id")) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    private static int chunkCount() throws Exception {
        try (Connection c = db.connect(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM timescaledb_information.chunks"
                     + " WHERE hypertable_name = 'readings'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
