package io.safegrid.gateway.wiring;

import io.safegrid.dashboard.grid.GridNode;
import io.safegrid.site.Building;
import io.safegrid.site.Community;
import io.safegrid.site.Compound;
import io.safegrid.site.Site;
import java.util.ArrayList;
import java.util.List;

/** The site's grid as the dashboard's tree: communities, compounds, buildings. */
final class DashboardGrid {

  private DashboardGrid() {}

  static List<GridNode> of(Site site) {
    List<GridNode> communities = new ArrayList<>();
    for (Community c : site.grid().communities()) {
      List<GridNode> compounds = new ArrayList<>();
      for (Compound p : c.compounds()) {
        List<GridNode> buildings = new ArrayList<>();
        for (Building b : p.buildings()) {
          buildings.add(GridNode.building(b.id(), b.name()));
        }
        compounds.add(GridNode.compound(p.id(), p.name(), buildings));
      }
      communities.add(GridNode.community(c.id(), c.name(), compounds));
    }
    return communities;
  }
}
