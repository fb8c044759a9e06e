package io.safegrid.gateway.wiring;

import java.io.PrintWriter;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.SQLFeatureNotSupportedException;
import java.time.Duration;
import java.util.concurrent.Executor;
import java.util.logging.Logger;
import javax.sql.DataSource;

/**
 * The gateway's pool as the alarm ledger, escalation and the outbox see it: every connection they
 * borrow carries a network timeout ({@link Connection#setNetworkTimeout}, pgjdbc: the socket's
 * read timeout), so a statement whose answer never comes (a silent network cut: a firewall DROP, a
 * paused VM, no RST) fails after {@code timeout} with SQLSTATE 08006 instead of blocking the alarm
 * writer until TCP gives up (~15 min, {@code tcp_retries2}); the writer then retries it as a
 * transient failure (review7 R9). HikariCP puts the pool's own network timeout (none) back when the
 * connection is returned, so the dashboard's queries and the schema migration on the same pool are
 * not bounded by it. Each borrow costs one socket option change and its reset, no round trip.
 *
 * <p>{@code unwrap} and {@code isWrapperFor} reach the pool (the ledger's warm-up looks for
 * HikariCP's pool statistics).
 */
final class NetworkTimeoutDataSource implements DataSource {
  /** pgjdbc does not use the executor (it sets the socket's timeout at once). */
  private static final Executor DIRECT = Runnable::run;

  private final DataSource pool;
  private final int timeoutMillis;

  /**
   * @param pool the pool to borrow from
   * @param timeout the longest wait for any one answer from the server; above the longest
   *     legitimate statement of the borrowers (the ledger's statements take milliseconds; a lock
   *     wait behind an officer's action, seconds)
   */
  NetworkTimeoutDataSource(DataSource pool, Duration timeout) {
    this.pool = pool;
    this.timeoutMillis = Math.toIntExact(timeout.toMillis());
  }

  @Override
  public Connection getConnection() throws SQLException {
    return bounded(pool.getConnection());
  }

  @Override
  public Connection getConnection(String username, String password) throws SQLException {
    return bounded(pool.getConnection(username, password));
  }

  private Connection bounded(Connection c) throws SQLException {
    try {
      c.setNetworkTimeout(DIRECT, timeoutMillis);
      return c;
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  @Override
  public PrintWriter getLogWriter() throws SQLException {
    return pool.getLogWriter();
  }

  @Override
  public void setLogWriter(PrintWriter out) throws SQLException {
    pool.setLogWriter(out);
  }

  @Override
  public void setLoginTimeout(int seconds) throws SQLException {
    pool.setLoginTimeout(seconds);
  }

  @Override
  public int getLoginTimeout() throws SQLException {
    return pool.getLoginTimeout();
  }

  @Override
  public Logger getParentLogger() throws SQLFeatureNotSupportedException {
    return pool.getParentLogger();
  }

  @Override
  public <T> T unwrap(Class<T> iface) throws SQLException {
    return iface.isInstance(pool) ? iface.cast(pool) : pool.unwrap(iface);
  }

  @Override
  public boolean isWrapperFor(Class<?> iface) throws SQLException {
    return iface.isInstance(pool) || pool.isWrapperFor(iface);
  }
}
