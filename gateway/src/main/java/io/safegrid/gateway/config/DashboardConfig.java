package io.safegrid.gateway.config;

import java.util.List;

/**
 * Dashboard settings.
 *
 * @param tokens bearer tokens and their roles; never null
 */
public record DashboardConfig(List<DashboardToken> tokens) {
  public DashboardConfig {
    tokens = tokens == null ? List.of() : List.copyOf(tokens);
  }

  /** The first token with the given role, or null. The demo prints the officer's. */
  public DashboardToken firstWithRole(String role) {
    return tokens.stream().filter(t -> role.equals(t.role())).findFirst().orElse(null);
  }
}
