package io.safegrid.rules.config;

/**
 * Where a device is in the grid, by grid node ids. Finer levels may be null (commercial premises
 * and river gauges sit directly under a community).
 *
 * @param community community id, or null when unknown
 * @param compound residential compound id, or null
 * @param building building id (within the compound), or null
 */
public record DevicePlace(String community, String compound, String building) {

  /** A place nowhere: no combination rule groups it with anything. */
  public static final DevicePlace NOWHERE = new DevicePlace(null, null, null);

  /**
   * The key that groups devices at {@code level}: the path of node ids down to that level (so two
   * buildings named alike in different compounds differ), or null when the device has no node at
   * that level.
   */
  public String key(PlaceLevel level) {
    return switch (level) {
      case COMMUNITY -> community == null ? null : community;
      case COMPOUND -> compound == null ? null : community + "/" + compound;
      case BUILDING -> building == null ? null : community + "/" + compound + "/" + building;
    };
  }
}
