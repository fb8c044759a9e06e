package io.safegrid.schema;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.safegrid.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Instant;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.postgresql.ds.PGSimpleDataSource;

class SchemaMigratorTest {

    @RegisterExtension
    static final TestDatabase db = TestDatabase.unmigrated();

    @Test
    void createsTheExtensionAndReadingsHypertableWithOneDayChunks_andIsIdempotent() throws Exception {
        SchemaMigrator.Result first = SchemaMigrator.migrate(db.dataSource());
        assertThat(first.timescaleVersion()).matches("\\d+\\.\\d+\\.\\d+.*");
        assertThat(first.licence()).isIn("apache", "timescale");

        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            ResultSet rs = st.executeQuery("SELECT d.time_interval FROM timescaledb_information.hypertables h"
                    + " JOIN timescaledb_information.dimensions d USING (hypertable_schema, hypertable_name)"
                    + " WHERE h.hypertable_name = 'readings' AND d.column_name = 'time'");
            assertThat(rs.next()).as("readings is a hypertable").isTrue();
            assertThat(rs.getString(1)).isEqualTo("1 day");
            rs = st.executeQuery("SELECT string_agg(version, ',' ORDER BY installed_rank)"
                    + " FROM flyway_schema_history WHERE success AND version IN ('1', '1.1')");
            rs.next();
            assertThat(rs.getString(1)).as("V1 core and 1.1 licence extras applied").isEqualTo("1,1.1");
            rs = st.executeQuery("SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
                    + " AND table_name IN ('devices', 'readings', 'device_events', 'dead_letters')");
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(4);
        }

        SchemaMigrator.Result again = SchemaMigrator.migrate(db.dataSource());
        assertThat(again.migrationsRun()).isZero();
        assertThat(again.schemaVersion()).isEqualTo(first.schemaVersion());
    }

    @Test
    void aDuplicateReadingIsRejectedByTheUniqueIndex_andOnConflictStoresItOnce() throws Exception {
        SchemaMigrator.migrate(db.dataSource());
        Timestamp t = Timestamp.from(Instant.parse("2026-11-29T08:00:00Z"));
        try (Connection c = db.connect()) {
            insertReading(c, "gas-001", "gas_lel", t, 12.5);
            assertThatThrownBy(() -> insertReading(c, "gas-001", "gas_lel", t, 13.0))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("readings_device_metric_time_key");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO readings (time, device_id, metric, value)"
                    + " VALUES (?, 'gas-001', 'gas_lel', 14.0) ON CONFLICT (device_id, metric, time) DO NOTHING")) {
                ps.setTimestamp(1, t);
                assertThat(ps.executeUpdate()).isZero();
            }
            insertReading(c, "gas-001", "battery_pct", t, 87); // another metric, same time: fine
            try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(
                    "SELECT metric, value FROM readings WHERE device_id = 'gas-001' ORDER BY metric")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("battery_pct");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getDouble(2)).isEqualTo(12.5);
                assertThat(rs.next()).isFalse();
            }
        }
    }

    @Test
    void aRepeatedDeviceEventWithoutZoneIsStoredOnce() throws Exception {
        SchemaMigrator.migrate(db.dataSource());
        try (Connection c = db.connect(); Statement st = c.createStatement()) {
            String insert = "INSERT INTO device_events (time, device_id, event, text)"
                    + " VALUES ('2026-11-29T08:00:00Z', 'fp-school-1', 'mains_fault', 'mains lost')"
                    + " ON CONFLICT DO NOTHING";
            assertThat(st.executeUpdate(insert)).isEqualTo(1);
            assertThat(st.executeUpdate(insert)).isZero();
        }
    }

    @Test
    void refusesWithAClearMessageWhenTheExtensionCannotBeCreated() throws Exception {
        // A real refusal: a role without CREATE privilege on a database that has no timescaledb
        // yet gets "permission denied to create extension" from the server.
        String suffix = Integer.toHexString(ThreadLocalRandom.current().nextInt(0x100000, 0xffffff));
        String role = "nocreate_" + suffix;
        String database = "noext_" + suffix;
        try (Connection admin = db.connectAdmin(); Statement st = admin.createStatement()) {
            st.execute("CREATE ROLE " + role + " LOGIN PASSWORD 'x'");
            st.execute("CREATE DATABASE " + database);
            st.execute("REVOKE CREATE ON DATABASE " + database + " FROM PUBLIC");
        }
        try {
            PGSimpleDataSource ds = new PGSimpleDataSource();
            ds.setURL(db.urlFor(database));
            ds.setUser(role);
            ds.setPassword("x");
            assertThatThrownBy(() -> SchemaMigrator.migrate(ds))
                    .isInstanceOf(SchemaException.class)
                    .hasMessageStartingWith("TimescaleDB extension not available on jdbc:postgresql://")
                    .hasMessageContaining(database)
                    .hasMessageContaining("permission denied");
            try (Connection c = DriverManager.getConnection(db.urlFor(database), role, "x");
                 Statement st = c.createStatement();
                 ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_class WHERE relname = 'flyway_schema_history'")) {
                rs.next();
                assertThat(rs.getInt(1)).as("nothing migrated").isZero();
            }
        } finally {
            try (Connection admin = db.connectAdmin(); Statement st = admin.createStatement()) {
                st.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
                st.execute("DROP ROLE IF EXISTS " + role);
            }
        }
    }

    private static void insertReading(Connection c, String device, String metric, Timestamp t, double v)
            throws SQLException {
        try (PreparedStatement ps = c.prepareStatement(
                "INSERT INTO readings (time, device_id, metric, value) VALUES (?, ?, ?, ?)")) {
            ps.setTimestamp(1, t);
            ps.setString(2, device);
            ps.setString(3, metric);
            ps.setDouble(4, v);
            ps.executeUpdate();
        }
    }
}
