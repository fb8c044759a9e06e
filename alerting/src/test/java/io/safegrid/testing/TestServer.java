package io.safegrid.testing;

import java.io.File;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The PostgreSQL + TimescaleDB server tests run against, chosen once per JVM; see
 * {@link TestDatabase} for the order of preference.
 */
final class TestServer {

    static final String LOCAL_URL = "jdbc:postgresql://127.0.0.1:55432/safegrid";
    static final String DEFAULT_USER = "safegrid";
    static final String DEFAULT_PASSWORD = "safegrid";

    private static final Logger log = LoggerFactory.getLogger(TestServer.class);
    private static final Pattern URL = Pattern.compile("^(jdbc:postgresql://[^/?]*)(/[^?]*)?(\\?.*)?$");
    private static TestServer instance;

    private final String adminUrl;
    private final String user;
    private final String password;
    private final String source;

    TestServer(String adminUrl, String user, String password, String source) {
        this.adminUrl = adminUrl;
        this.user = user;
        this.password = password;
        this.source = source;
    }

    static synchronized TestServer get() {
        if (instance == null) {
            instance = choose();
            log.info("test databases on {} ({})", instance.adminUrl.replaceAll("password=[^&]*", "password=***"), instance.source);
        }
        return instance;
    }

    private static TestServer choose() {
        String url = setting("SAFEGRID_TEST_DB_URL", "safegrid.test.db.url");
        if (url != null && !url.isBlank()) {
            Properties params = urlParams(url);
            String user = firstNonBlank(setting("SAFEGRID_TEST_DB_USER", "safegrid.test.db.user"),
                    params.getProperty("user"), DEFAULT_USER);
            String password = firstNonBlank(setting("SAFEGRID_TEST_DB_PASSWORD", "safegrid.test.db.password"),
                    params.getProperty("password"), DEFAULT_PASSWORD);
            return new TestServer(url, user, password, "SAFEGRID_TEST_DB_URL");
        }
        if (dockerMayAnswer()) {
            try {
                TestServer s = ContainerServer.start();
                if (s != null) {
                    return s;
                }
            } catch (Throwable t) { // no Testcontainers on the classpath, or the daemon refused
                log.info("Testcontainers not usable ({}); using the local TimescaleDB", t.toString());
            }
        }
        return new TestServer(LOCAL_URL, DEFAULT_USER, DEFAULT_PASSWORD, "local bin/safegrid db");
    }

    private static boolean dockerMayAnswer() {
        String host = System.getenv("DOCKER_HOST");
        return (host != null && !host.isBlank()) || new File("/var/run/docker.sock").exists();
    }

    private static String setting(String env, String property) {
        String v = System.getProperty(property);
        return v != null ? v : System.getenv(env);
    }

    private static String firstNonBlank(String... values) {
        for (String v : values) {
            if (v != null && !v.isBlank()) {
                return v;
            }
        }
        return null;
    }

    private static Properties urlParams(String url) {
        Properties p = new Properties();
        int q = url.indexOf('?');
        if (q >= 0) {
            for (String kv : url.substring(q + 1).split("&")) {
                int eq = kv.indexOf('=');
                if (eq > 0) {
                    p.setProperty(kv.substring(0, eq), java.net.URLDecoder.decode(kv.substring(eq + 1),
                            java.nio.charset.StandardCharsets.UTF_8));
                }
            }
        }
        return p;
    }

    String user() {
        return user;
    }

    String password() {
        return password;
    }

    Connection connectAdmin() throws SQLException {
        try {
            return DriverManager.getConnection(adminUrl, user, password);
        } catch (SQLException e) {
            throw new SQLException("cannot reach the test database server "
                    + adminUrl.replaceAll("password=[^&]*", "password=***") + " (" + source + "): " + e.getMessage()
                    + " -- run `bin/safegrid db start`, or set SAFEGRID_TEST_DB_URL", e.getSQLState(), e);
        }
    }

    /** Same host, port and parameters as the server's URL, other database. */
    String urlFor(String database) {
        Matcher m = URL.matcher(adminUrl);
        if (!m.matches()) {
            throw new IllegalArgumentException("not a jdbc:postgresql:// URL: " + adminUrl);
        }
        return m.group(1) + "/" + database + (m.group(3) == null ? "" : m.group(3));
    }
}
