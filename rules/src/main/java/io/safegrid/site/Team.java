package io.safegrid.site;

import java.util.List;

/**
 * A response team: one of the 5 volunteer teams (236 volunteers in total) or the 3 militia
 * emergency rescue teams (43 members), per the seed.
 *
 * @param id recipient id, usable as an MQTT topic segment
 * @param name display name
 * @param members number of members
 * @param contact the captain (placeholder)
 * @param handles device type wire names whose alarms call the team out at once (e.g. the militia
 *     teams for {@code river_gauge}); never null, empty = only on request
 */
public record Team(String id, String name, int members, Contact contact, List<String> handles) {
  public Team {
    handles = handles == null ? List.of() : List.copyOf(handles);
  }

  /** A team no device type calls out automatically. */
  public Team(String id, String name, int members, Contact contact) {
    this(id, name, members, contact, List.of());
  }
}
