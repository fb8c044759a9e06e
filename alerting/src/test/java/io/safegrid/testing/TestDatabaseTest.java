package io.safegrid.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Proxy;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;

class TestDatabaseTest {

    @RegisterExtension
    static final TestDatabase db = new TestDatabase();

    @Test
    void eachClassGetsItsOwnMigratedDatabaseNamedAfterIt() throws Exception {
        assertThat(db.name()).matches("testdatabasetest_[0-9a-f]{6}");
        assertThat(db.jdbcUrl()).contains("/" + db.name());
        assertThat(db.migration().licence()).isIn("apache", "timescale");
        try (Connection c = db.dataSource().getConnection(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT current_database(), (SELECT count(*) FROM"
                     + " timescaledb_information.hypertables WHERE hypertable_name = 'readings')")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo(db.name());
            assertThat(rs.getInt(2)).isEqualTo(1);
        }
    }

    @Test
    void anotherInstanceGetsAnotherDatabase_droppedAfterAllEvenWithOpenConnections() throws Exception {
        TestDatabase other = TestDatabase.unmigrated();
        ExtensionContext ctx = contextFor(TestDatabaseTest.class);
        other.beforeAll(ctx);
        String name = other.name();
        assertThat(name).isNotEqualTo(db.name());
        assertThat(exists(name)).isTrue();
        try (Connection leftOpen = other.connect()) {
            other.afterAll(ctx);
            assertThat(exists(name)).isFalse();
        } catch (java.sql.SQLException closedByDrop) {
            // the FORCE drop terminated the open connection: expected
        }
        assertThat(exists(name)).isFalse();
    }

    @Test
    void databaseNamesAreValidIdentifiersOfAtMost63Characters() {
        String n = TestDatabase.databaseName("Weird$Class-Name" + "x".repeat(80));
        assertThat(n).matches("[a-z0-9_]+").hasSizeLessThanOrEqualTo(63);
    }

    private static boolean exists(String database) throws Exception {
        try (Connection c = db.connectAdmin(); Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT count(*) FROM pg_database WHERE datname = '" + database + "'")) {
            rs.next();
            return rs.getInt(1) == 1;
        }
    }

    private static ExtensionContext contextFor(Class<?> testClass) {
        return (ExtensionContext) Proxy.newProxyInstance(TestDatabaseTest.class.getClassLoader(),
                new Class<?>[] {ExtensionContext.class}, (proxy, method, args) -> {
                    if (method.getName().equals("getRequiredTestClass")) {
                        return testClass;
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
    }
}
