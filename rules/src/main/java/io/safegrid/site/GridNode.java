package io.safegrid.site;

import java.util.List;

/**
 * A flattened view of one grid node, for walking a device's chain upwards without knowing the
 * level's record type.
 *
 * @param level the grid level
 * @param id node id (a recipient id, usable as an MQTT topic segment)
 * @param name display name
 * @param contacts who to notify at this level, first first; for the sub-district: duty officer,
 *     then duty leader
 * @param parentId the id of the node one level up, or null for the sub-district
 */
public record GridNode(
    GridLevel level, String id, String name, List<Contact> contacts, String parentId) {
  public GridNode {
    contacts = contacts == null ? List.of() : List.copyOf(contacts);
  }
}
