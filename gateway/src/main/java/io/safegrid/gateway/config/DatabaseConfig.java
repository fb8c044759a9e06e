package io.safegrid.gateway.config;

/**
 * The TimescaleDB connection. After loading, url, user and password are never null: null in the
 * file means the local TimescaleDB of {@code bin/safegrid db start}.
 *
 * @param url JDBC URL (env SAFEGRID_DB_URL; default {@link #LOCAL_URL})
 * @param user user (env SAFEGRID_DB_USER; default {@code safegrid})
 * @param password password (env SAFEGRID_DB_PASSWORD; default {@code safegrid})
 * @param poolSize HikariCP maximum pool size
 */
public record DatabaseConfig(String url, String user, String password, int poolSize) {

  /** The local TimescaleDB started by {@code bin/safegrid db start}. */
  public static final String LOCAL_URL = "jdbc:postgresql://127.0.0.1:55432/safegrid";

  /** The local database's user and password. */
  public static final String LOCAL_USER = "safegrid";

  @Override
  public String toString() {
    return "DatabaseConfig[url=" + url + ", user=" + user + ", password=***, poolSize=" + poolSize + "]";
  }
}
