package io.safegrid.site;

import java.util.List;

/**
 * The five-level grid as configured: the sub-district on top, its communities, and below them
 * compounds, buildings and units.
 *
 * @param subDistrict level 1
 * @param communities level 2 and below; never null
 */
public record Grid(SubDistrict subDistrict, List<Community> communities) {
  public Grid {
    communities = communities == null ? List.of() : List.copyOf(communities);
  }
}
