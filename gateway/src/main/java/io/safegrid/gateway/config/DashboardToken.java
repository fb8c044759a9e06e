package io.safegrid.gateway.config;

/**
 * One dashboard bearer token ({@code Authorization: Bearer TOKEN}).
 *
 * @param token the secret token text
 * @param role {@code officer} (read, acknowledge, close) or {@code viewer} (read only)
 * @param name who holds it, for the alarm history ("acknowledged by ...")
 */
public record DashboardToken(String token, String role, String name) {

  /** Role that may acknowledge and close alarms. */
  public static final String OFFICER = "officer";

  /** Read-only role. */
  public static final String VIEWER = "viewer";

  @Override
  public String toString() {
    return "DashboardToken[role=" + role + ", name=" + name + "]";
  }
}
