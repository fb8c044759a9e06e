package io.safegrid.gateway.ingest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.safegrid.gateway.storage.StorageConfig;
import io.safegrid.gateway.storage.TimescaleReadingStore;
import io.safegrid.testing.TestDatabase;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The real ingest path on a test class's own TimescaleDB, for the transport tests (MQTT, CoAP):
 * a {@link TimescaleReadingStore} spooling to the given directory, the {@link IngestService} in
 * front of it, and one meter registry for both and for the server under test; plus the two
 * questions those tests ask: a counter by reason, and a count of rows.
 */
public final class IngestOnTestDatabase implements AutoCloseable {

  /** Give it to the server under test too, so its meters and the sink's are read in one place. */
  public final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  public final TimescaleReadingStore store;
  /** The sink to hand the server under test. */
  public final IngestService sink;
  private final TestDatabase db;
  private final List<AutoCloseable> servers = new ArrayList<>();

  /**
   * @param db the test class's database (the {@code io.safegrid.testing} extension)
   * @param spool an empty directory for the store's spool (e.g. a JUnit {@code @TempDir})
   */
  public IngestOnTestDatabase(TestDatabase db, Path spool) {
    this.db = db;
    this.store = new TimescaleReadingStore(
        StorageConfig.defaults(db.jdbcUrl(), db.user(), db.password(), spool), registry);
    this.sink = new IngestService(store, IngestListener.NONE, registry);
  }

  /** The count of counter {@code name} with tag {@code reason}; 0 if it was never registered. */
  public double counter(String name, String reason) {
    Counter c = registry.find(name).tag("reason", reason).counter();
    return c == null ? 0 : c.count();
  }

  /** The sum of counter {@code name} over all its tags; 0 if never registered. */
  public double sum(String name) {
    return registry.find(name).counters().stream().mapToDouble(Counter::count).sum();
  }

  /**
   * The single number {@code sql} selects, e.g. {@code SELECT count(*) FROM dead_letters WHERE
   * device_id = ?}, with {@code args} bound in order.
   */
  public long rows(String sql, Object... args) throws SQLException {
    try (Connection c = db.connect(); PreparedStatement st = c.prepareStatement(sql)) {
      for (int i = 0; i < args.length; i++) {
        st.setObject(i + 1, args[i]);
      }
      try (ResultSet rs = st.executeQuery()) {
        rs.next();
        return rs.getLong(1);
      }
    }
  }

  /**
   * Remembers the server under test, to be closed by {@link #close} before the store.
   *
   * @return {@code server}
   */
  public <T extends AutoCloseable> T closing(T server) {
    servers.add(0, server);
    return server;
  }

  /** Closes the servers given to {@link #closing} (the last first), then the store. */
  @Override
  public void close() {
    for (AutoCloseable s : servers) {
      try {
        s.close();
      } catch (Exception e) {
        throw new IllegalStateException("closing " + s, e);
      }
    }
    store.close();
  }
}
