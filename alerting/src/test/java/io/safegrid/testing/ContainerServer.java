package io.safegrid.testing;

import org.testcontainers.DockerClientFactory;
import org.testcontainers.containers.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * A TimescaleDB container shared by all test classes of the JVM (stopped by Testcontainers' Ryuk
 * when the JVM ends). Kept in its own class so Testcontainers is only loaded when Docker answers.
 */
final class ContainerServer {

    static final String IMAGE = "timescale/timescaledb:latest-pg17";

    private ContainerServer() {
    }

    /** @return the server, or null when the Docker daemon does not answer */
    @SuppressWarnings("resource")
    static TestServer start() {
        if (!DockerClientFactory.instance().isDockerAvailable()) {
            return null;
        }
        PostgreSQLContainer<?> pg = new PostgreSQLContainer<>(
                DockerImageName.parse(IMAGE).asCompatibleSubstituteFor("postgres"))
                .withDatabaseName("safegrid")
                .withUsername(TestServer.DEFAULT_USER)
                .withPassword(TestServer.DEFAULT_PASSWORD)
                .withCommand("postgres", "-c", "max_connections=300", "-c", "timescaledb.telemetry_level=off");
        pg.start();
        return new TestServer(pg.getJdbcUrl(), pg.getUsername(), pg.getPassword(), "Testcontainers " + IMAGE);
    }
}
