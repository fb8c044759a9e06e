package io.safegrid.dashboard.auth;

import java.util.Locale;

/**
 * What a token may do. A {@link #VIEWER} reads everything; an {@link #OFFICER} (duty officer) may
 * also acknowledge and close (write off) alarms.
 */
public enum Role {
  OFFICER,
  VIEWER;

  /** The lower-case name used in the config and the API, e.g. {@code officer}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * @throws IllegalArgumentException for a name other than {@code officer} or {@code viewer}
   */
  public static Role fromWireName(String name) {
    for (Role r : values()) {
      if (r.wireName().equals(name)) {
        return r;
      }
    }
    throw new IllegalArgumentException("unknown role '" + name + "' (expected officer or viewer)");
  }
}
