package io.safegrid.site;

/**
 * Where a device is in the five-level grid, by grid node ids. Commercial premises, schools and
 * river gauges sit directly under a community: then compound, building and unit are null. A
 * level may be null only if all finer levels are null too.
 *
 * @param community community id (required)
 * @param compound residential compound id, or null
 * @param building building id (within the compound), or null
 * @param unit unit id (within the building), or null
 */
public record Place(String community, String compound, String building, String unit) {

  /** The finest grid node id of this place (unit, else building, else compound, else community). */
  public String finestNodeId() {
    if (unit != null) {
      return unit;
    }
    if (building != null) {
      return building;
    }
    if (compound != null) {
      return compound;
    }
    return community;
  }
}
