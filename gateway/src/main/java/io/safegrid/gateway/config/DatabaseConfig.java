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

  private static final java.util.regex.Pattern URL_PASSWORD =
      java.util.regex.Pattern.compile("([?&;](?:ssl)?password=)[^&;]*", java.util.regex.Pattern.CASE_INSENSITIVE);
  private static final java.util.regex.Pattern URL_USER =
      java.util.regex.Pattern.compile("[?&;]user=([^&;]*)", java.util.regex.Pattern.CASE_INSENSITIVE);

  /**
   * The URL for messages and logs: the values of PgJDBC's secret parameters, {@code password=} and
   * {@code sslpassword=} (the client key's password), shown as {@code ***} (e.g. {@code
   * jdbc:postgresql://h:5432/x?user=a&password=***&sslpassword=***}).
   */
  public String maskedUrl() {
    return url == null ? null : URL_PASSWORD.matcher(url).replaceAll("$1***");
  }

  /**
   * The user the connection is made as: PgJDBC takes the URL's {@code user=} parameter over the
   * configured {@link #user} (URL parameters override the connection properties), so that one
   * when present.
   */
  public String effectiveUser() {
    if (url != null) {
      java.util.regex.Matcher m = URL_USER.matcher(url);
      if (m.find()) {
        return java.net.URLDecoder.decode(m.group(1), java.nio.charset.StandardCharsets.UTF_8);
      }
    }
    return user;
  }

  @Override
  public String toString() {
    return "DatabaseConfig[url=" + maskedUrl() + ", user=" + effectiveUser() + ", password=***, poolSize="
        + poolSize + "]";
  }
}
