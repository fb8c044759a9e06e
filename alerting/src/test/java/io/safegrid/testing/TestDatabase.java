package io.safegrid.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import io.safegrid.schema.SchemaMigrator;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.concurrent.ThreadLocalRandom;
import javax.sql.DataSource;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit 5 extension: a fresh, migrated TimescaleDB database for one test class, on a real server.
 *
 * <pre>{@code
 * class ReadingStoreTest {
 *     @RegisterExtension
 *     static final TestDatabase db = new TestDatabase();
 *
 *     @Test
 *     void storesOnce() throws Exception {
 *         try (Connection c = db.dataSource().getConnection()) { ... }
 *         // or: DriverManager.getConnection(db.jdbcUrl(), db.user(), db.password())
 *     }
 * }
 * }</pre>
 *
 * <p>The server, in order of preference:
 * <ol>
 *   <li>{@code SAFEGRID_TEST_DB_URL} (environment, or system property
 *       {@code safegrid.test.db.url}): a JDBC URL of any database on the server (used as the
 *       maintenance database); user and password from {@code SAFEGRID_TEST_DB_USER} /
 *       {@code SAFEGRID_TEST_DB_PASSWORD}, else the URL's {@code user}/{@code password}
 *       parameters, else {@code safegrid}/{@code safegrid}.</li>
 *   <li>Testcontainers ({@code timescale/timescaledb:latest-pg17}) when a Docker daemon answers;
 *       one container per JVM, shared by all test classes.</li>
 *   <li>The local TimescaleDB of {@code bin/safegrid db start}:
 *       {@code jdbc:postgresql://127.0.0.1:55432/safegrid}.</li>
 * </ol>
 * The user must be allowed to {@code CREATE DATABASE}.
 *
 * <p>Before all tests of the class: {@code CREATE DATABASE <class name>_<random>} (lower case,
 * at most 63 characters), then {@link SchemaMigrator#migrate(DataSource)} (unless built with
 * {@link #unmigrated()}). After all: the pool is closed and the database dropped
 * ({@code WITH (FORCE)}). Test classes never see each other's rows. If the server cannot be
 * reached the test class fails (not skipped) with a message saying to run
 * {@code bin/safegrid db start}.
 */
public final class TestDatabase implements BeforeAllCallback, AfterAllCallback {

    private static final int POOL_SIZE = 8;

    private final boolean migrate;
    private TestServer server;
    private String name;
    private String jdbcUrl;
    private HikariDataSource dataSource;
    private SchemaMigrator.Result migration;

    /** A fresh database migrated to the current schema. */
    public TestDatabase() {
        this(true);
    }

    private TestDatabase(boolean migrate) {
        this.migrate = migrate;
    }

    /** @return an extension whose database is empty: no extension, no schema (for schema tests). */
    public static TestDatabase unmigrated() {
        return new TestDatabase(false);
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        server = TestServer.get();
        name = databaseName(context.getRequiredTestClass().getSimpleName());
        try (Connection c = server.connectAdmin(); Statement st = c.createStatement()) {
            st.execute("CREATE DATABASE \"" + name + "\"");
        }
        jdbcUrl = server.urlFor(name);
        HikariConfig cfg = new HikariConfig();
        cfg.setJdbcUrl(jdbcUrl);
        cfg.setUsername(server.user());
        cfg.setPassword(server.password());
        cfg.setMaximumPoolSize(POOL_SIZE);
        cfg.setMinimumIdle(1);
        cfg.setPoolName("test-" + name);
        dataSource = new HikariDataSource(cfg);
        if (migrate) {
            migration = SchemaMigrator.migrate(dataSource);
        }
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (dataSource != null) {
            dataSource.close();
        }
        if (name != null && server != null) {
            try (Connection c = server.connectAdmin(); Statement st = c.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS \"" + name + "\" WITH (FORCE)");
            }
        }
    }

    /** @return JDBC URL of this class's database, e.g. {@code jdbc:postgresql://127.0.0.1:55432/readingstoretest_3f9a1c} */
    public String jdbcUrl() {
        return jdbcUrl;
    }

    /** @return the database user (superuser or CREATEDB on the test server) */
    public String user() {
        return server.user();
    }

    /** @return the database user's password */
    public String password() {
        return server.password();
    }

    /** @return the database's name */
    public String name() {
        return name;
    }

    /** @return a HikariCP pool (at most {@value #POOL_SIZE} connections) on this class's database; closed after all tests */
    public DataSource dataSource() {
        return dataSource;
    }

    /** @return what {@link SchemaMigrator} found (version, licence); null when {@link #unmigrated()} */
    public SchemaMigrator.Result migration() {
        return migration;
    }

    /**
     * @return a new plain JDBC connection to this class's database (caller closes it)
     * @throws SQLException when the server is unreachable
     */
    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl, server.user(), server.password());
    }

    /**
     * @return a new connection to the server's maintenance database (for CREATE ROLE, CREATE
     *         DATABASE and the like in tests; caller closes it)
     * @throws SQLException when the server is unreachable
     */
    public Connection connectAdmin() throws SQLException {
        return server.connectAdmin();
    }

    /**
     * @param database a database on the same server
     * @return the JDBC URL of that database (same host, port and parameters)
     */
    public String urlFor(String database) {
        return server.urlFor(database);
    }

    static String databaseName(String className) {
        String base = className.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9_]", "_");
        if (base.length() > 50) {
            base = base.substring(0, 50);
        }
        return base + "_" + Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
    }
}
