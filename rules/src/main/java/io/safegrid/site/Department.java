package io.safegrid.site;

import java.util.List;

/**
 * A functional department or utility that is told about alarms of some device types ("向上抄告":
 * hazards are reported at once to the functional department).
 *
 * @param id recipient id, usable as an MQTT topic segment, e.g. {@code district-fire-brigade}
 * @param name display name
 * @param contact its duty desk (placeholder)
 * @param handles device type wire names ({@code gas_alarm}, {@code fire_panel}, {@code
 *     river_gauge}) whose alarms concern it; never null
 */
public record Department(String id, String name, Contact contact, List<String> handles) {
  public Department {
    handles = handles == null ? List.of() : List.copyOf(handles);
  }
}
