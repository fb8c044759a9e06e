package io.safegrid.alerting.ledger;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.time.Duration;
import java.util.Objects;

/**
 * Makes a HikariCP pool for the alarm ledger with a longer alive-bypass window than
 * HikariCP's 500 ms.
 *
 * <p>Why: HikariCP checks a connection that has been idle for longer than its alive-bypass window
 * with a round trip ({@code Connection.isValid}) before handing it out. On a quiet site alarms
 * come minutes apart, so every alarm's transaction paid that round trip before its own
 * ({@code bench/ledger_path.sh ... QUIET}, docs/alerting.md "A dead pooled connection"). HikariCP's
 * {@code keepaliveTime} does not help: its keepalive checks an idle connection but does not count
 * as a use, so the next borrow still validates (HikariCP 7.1 {@code HikariPool$KeepaliveTask}; only
 * returning a connection to the pool sets {@code PoolEntry.lastAccessed}). The window is read from
 * the system property {@value #ALIVE_BYPASS_PROPERTY} when a pool is constructed (one value per
 * pool; there is no {@code HikariConfig} setter), so it is set around this pool's construction only
 * and put back, unless the operator set it for the whole JVM (then theirs is kept).
 *
 * <p>What it trades: a connection that died while idle within the window is handed out unchecked.
 * The ledger redoes a transaction whose connection turns out dead before its COMMIT was sent on
 * another connection at once, and reads likewise ({@link JdbcAlarmLedger}); a connection dead
 * without any answer from the server (a silent network cut) is found by HikariCP's keepalive,
 * which checks idle connections in the background ({@code keepaliveTime}, 2 minutes by default in
 * HikariCP 7.1) and evicts a dead one.
 */
public final class LedgerPool {
  /** HikariCP's system property for the alive-bypass window, milliseconds. */
  public static final String ALIVE_BYPASS_PROPERTY = "com.zaxxer.hikari.aliveBypassWindowMs";

  /**
   * A window for a quiet site: 5 minutes, longer than a quiet site's time between alarms and
   * shorter than HikariCP's default {@code idleTimeout} (10 min) and {@code maxLifetime} (30 min).
   * The gateway does not use it yet: its pool has no socket timeout, so an unchecked connection
   * after a silent network cut would hang the alarm writer (review7 R9; docs/alerting.md "A dead
   * pooled connection").
   */
  public static final Duration ALIVE_BYPASS_WINDOW = Duration.ofMinutes(5);

  private static final Object LOCK = new Object();

  private LedgerPool() {}

  /**
   * Starts a pool from {@code config} with the alive-bypass window {@code window} (unless the JVM
   * has {@value #ALIVE_BYPASS_PROPERTY} set).
   *
   * @param config the pool's settings (URL, user, size, ...)
   * @param window how long after its last use a connection is handed out unchecked (at least 0 ms)
   * @return the started pool
   * @throws IllegalArgumentException when {@code window} is negative
   * @throws RuntimeException what HikariCP throws when the pool cannot start (e.g. the database is
   *     unreachable and {@code initializationFailTimeout} is positive)
   */
  public static HikariDataSource open(HikariConfig config, Duration window) {
    Objects.requireNonNull(config, "config");
    if (window.isNegative()) {
      throw new IllegalArgumentException("alive-bypass window must not be negative: " + window);
    }
    synchronized (LOCK) {
      String before = System.getProperty(ALIVE_BYPASS_PROPERTY);
      if (before != null) {
        return new HikariDataSource(config);
      }
      System.setProperty(ALIVE_BYPASS_PROPERTY, Long.toString(window.toMillis()));
      try {
        return new HikariDataSource(config);
      } finally {
        System.clearProperty(ALIVE_BYPASS_PROPERTY);
      }
    }
  }
}
