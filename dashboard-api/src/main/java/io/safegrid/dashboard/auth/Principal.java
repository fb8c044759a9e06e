package io.safegrid.dashboard.auth;

import java.util.Objects;

/**
 * Who is calling: the name written into the ledger as the actor (e.g. {@code duty-zhang}) and the
 * role.
 */
public record Principal(String name, Role role) {
  public Principal {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(role, "role");
    if (name.isBlank()) {
      throw new IllegalArgumentException("principal name must not be blank");
    }
  }

  /** True when this principal may acknowledge and close alarms. */
  public boolean mayAct() {
    return role == Role.OFFICER;
  }
}
