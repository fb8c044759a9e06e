package io.safegrid.site;

import java.util.List;

/**
 * The five-level grid as configured: the sub-district on top, its communities, and below them
 * compounds, buildings and units.
 *
 * @param subDistrict level 1
 * @param communities level 2 and below; never null
 * @param reportUpward recipient ids (contacts, grid nodes, teams or departments) copied at once on
 *     a critical alarm (向上抄告: the supervising unit, the functional department, the district);
 *     never null
 */
public record Grid(SubDistrict subDistrict, List<Community> communities, List<String> reportUpward) {
  public Grid {
    communities = communities == null ? List.of() : List.copyOf(communities);
    reportUpward = reportUpward == null ? List.of() : List.copyOf(reportUpward);
  }

  /** A grid with no report-upward recipients. */
  public Grid(SubDistrict subDistrict, List<Community> communities) {
    this(subDistrict, communities, List.of());
  }
}
