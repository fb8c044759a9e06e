package io.safegrid.alerting.routing;

import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Someone to notify: a grid cell's person or group, a response force or a department.
 *
 * @param id stable id, usable as one MQTT topic level ({@code [A-Za-z0-9._-]{1,128}}, so no
 *     {@code /}, {@code +} or {@code #}), e.g. {@code nanmen-new-city-b3-u2}
 * @param name human name, e.g. "Nanmen New City building 3 unit 2 lead household"
 * @param level the grid level, or null for responders and departments outside the grid
 */
public record RecipientGroup(String id, String name, GridLevel level) {
  private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  /**
   * @throws IllegalArgumentException when the id is not a valid topic level
   */
  public RecipientGroup {
    Objects.requireNonNull(id, "id");
    if (!ID.matcher(id).matches()) {
      throw new IllegalArgumentException(
          "recipient id '" + id + "' must match [A-Za-z0-9._-]{1,128} (it is an MQTT topic level)");
    }
    name = name == null ? id : name;
  }

  /** A responder or department outside the grid. */
  public static RecipientGroup responder(String id, String name) {
    return new RecipientGroup(id, name, null);
  }
}
