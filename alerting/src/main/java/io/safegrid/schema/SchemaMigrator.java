package io.safegrid.schema;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Objects;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Brings a TimescaleDB database to SafeGrid's current schema with Flyway.
 *
 * <p>Steps, in order:
 * <ol>
 *   <li>Checks that the {@code timescaledb} extension is installed in the database; if it is not,
 *       runs {@code CREATE EXTENSION IF NOT EXISTS timescaledb}. If that fails (package not
 *       installed, library not in {@code shared_preload_libraries}, no privilege), refuses with a
 *       {@link SchemaException} whose message starts with
 *       {@code "TimescaleDB extension not available on <url>: "} followed by the server's reason.</li>
 *   <li>Reads the licence ({@code SHOW timescaledb.license}): {@code apache} (Apache-2.0-only
 *       build, e.g. Debian's postgresql-17-timescaledb: hypertables, time_bucket, drop_chunks) or
 *       {@code timescale} (community licence: also compression, policies, continuous
 *       aggregates).</li>
 *   <li>Runs the SQL migrations in {@code classpath:db/migration} ({@code V1__core.sql} readings,
 *       devices, device_events, dead_letters; V2 alerting; V3 storage; V4 dashboard) and the Java
 *       migration {@link TimescaleLicenceExtras} (version 1.1), which adds compression, a retention
 *       policy and the 1-minute continuous aggregate only when the licence is {@code timescale}.
 *       With {@code apache} the gateway runs retention itself
 *       ({@code io.safegrid.gateway.retention.RetentionJob}).</li>
 * </ol>
 *
 * <p>Example: {@code SchemaMigrator.Result r = SchemaMigrator.migrate(dataSource);
 * log.info("schema v{} on TimescaleDB {} ({})", r.schemaVersion(), r.timescaleVersion(), r.licence());}
 *
 * <p>Safe to call at every start and from several processes: Flyway serialises concurrent runs
 * with a PostgreSQL advisory lock and skips what is already applied.
 */
public final class SchemaMigrator {

    /** Default retention of {@code readings} in days, used by the timescale retention policy. */
    public static final int DEFAULT_RETENTION_DAYS = 400;

    private static final Logger log = LoggerFactory.getLogger(SchemaMigrator.class);

    private SchemaMigrator() {
    }

    /**
     * What a migration run found and did.
     *
     * @param timescaleVersion installed extension version, e.g. {@code "2.19.3"}
     * @param licence          {@code "apache"} or {@code "timescale"} ({@code timescaledb.license})
     * @param schemaVersion    the schema version after the run, e.g. {@code "4"}, or null if none
     * @param migrationsRun    how many migrations this run applied (0 when already current)
     */
    public record Result(String timescaleVersion, String licence, String schemaVersion, int migrationsRun) {

        /** @return true when the licence allows compression, policies and continuous aggregates. */
        public boolean communityLicence() {
            return Licence.TIMESCALE.equals(licence);
        }
    }

    /** Values of the {@code timescaledb.license} setting. */
    public static final class Licence {
        /** Apache-2.0-only build: no compression, policies or continuous aggregates. */
        public static final String APACHE = "apache";
        /** Timescale (community) licence: everything. */
        public static final String TIMESCALE = "timescale";

        private Licence() {
        }
    }

    /**
     * Migrates with the default retention of {@value #DEFAULT_RETENTION_DAYS} days.
     *
     * @param dataSource a database on a PostgreSQL server with TimescaleDB; the user must own the
     *                   database or be allowed to create the extension and tables in it
     * @return what was found and done
     * @throws SchemaException when TimescaleDB is not available or a migration fails
     */
    public static Result migrate(DataSource dataSource) {
        return migrate(dataSource, DEFAULT_RETENTION_DAYS);
    }

    /**
     * Migrates; see the class description.
     *
     * @param dataSource    the database to migrate
     * @param retentionDays age in days after which {@code readings} chunks are dropped by the
     *                      timescale retention policy (ignored with the apache licence, where
     *                      {@code RetentionJob} is configured separately); at least 1
     * @return what was found and done
     * @throws SchemaException when TimescaleDB is not available or a migration fails
     */
    public static Result migrate(DataSource dataSource, int retentionDays) {
        Objects.requireNonNull(dataSource, "dataSource");
        if (retentionDays < 1) {
            throw new IllegalArgumentException("retentionDays must be >= 1, was " + retentionDays);
        }
        String version;
        String licence;
        try (Connection c = dataSource.getConnection()) {
            version = ensureExtension(c);
            licence = licence(c);
        } catch (SQLException e) {
            throw new SchemaException("cannot connect to the database to migrate it: " + e.getMessage(), e);
        }
        log.info("TimescaleDB {} with licence '{}'", version, licence);
        try {
            MigrateResult mr = Flyway.configure()
                    .dataSource(dataSource)
                    .locations("classpath:db/migration")
                    .javaMigrations(new TimescaleLicenceExtras(licence, Duration.ofDays(retentionDays)))
                    .cleanDisabled(true)
                    .load()
                    .migrate();
            String schemaVersion = mr.targetSchemaVersion != null ? mr.targetSchemaVersion : mr.initialSchemaVersion;
            log.info("schema at version {} ({} migrations applied now)", schemaVersion, mr.migrationsExecuted);
            return new Result(version, licence, schemaVersion, mr.migrationsExecuted);
        } catch (RuntimeException e) {
            throw new SchemaException("schema migration failed: " + e.getMessage(), e);
        }
    }

    /**
     * Reads the TimescaleDB licence of the server behind {@code c}.
     *
     * @return {@code "apache"} or {@code "timescale"}
     * @throws SQLException when the setting cannot be read (extension not loaded)
     */
    public static String licence(Connection c) throws SQLException {
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery("SHOW timescaledb.license")) {
            rs.next();
            return rs.getString(1);
        }
    }

    /**
     * Makes sure the timescaledb extension is installed in the current database.
     *
     * @return the installed extension version
     * @throws SchemaException "TimescaleDB extension not available on URL: reason" if it cannot be
     */
    static String ensureExtension(Connection c) throws SQLException {
        String installed = installedVersion(c);
        if (installed != null) {
            return installed;
        }
        boolean autoCommit = c.getAutoCommit();
        try (Statement st = c.createStatement()) {
            c.setAutoCommit(true);
            st.execute("CREATE EXTENSION IF NOT EXISTS timescaledb");
        } catch (SQLException e) {
            throw notAvailable(c, e.getMessage() + hint(e), e);
        } finally {
            c.setAutoCommit(autoCommit);
        }
        installed = installedVersion(c);
        if (installed == null) {
            throw notAvailable(c, "CREATE EXTENSION succeeded but pg_extension has no timescaledb row", null);
        }
        log.info("created extension timescaledb {}", installed);
        return installed;
    }

    private static String installedVersion(Connection c) throws SQLException {
        try (Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT extversion FROM pg_extension WHERE extname = 'timescaledb'")) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    private static String hint(SQLException e) {
        String m = String.valueOf(e.getMessage());
        if (m.contains("could not open extension control file") || m.contains("is not available")) {
            return " (install the TimescaleDB package for this PostgreSQL, e.g. postgresql-17-timescaledb,"
                    + " or run bin/safegrid db start for the local one)";
        }
        if (m.contains("preload")) {
            return " (add shared_preload_libraries = 'timescaledb' to postgresql.conf and restart the server)";
        }
        if (m.contains("permission denied")) {
            return " (connect as the database owner or a superuser, or have one run CREATE EXTENSION timescaledb)";
        }
        return "";
    }

    private static SchemaException notAvailable(Connection c, String reason, Throwable cause) {
        String url;
        try {
            url = c.getMetaData().getURL();
        } catch (SQLException e) {
            url = "(unknown URL)";
        }
        return new SchemaException("TimescaleDB extension not available on " + url + ": " + reason, cause);
    }
}
