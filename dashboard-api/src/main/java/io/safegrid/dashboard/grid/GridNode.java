package io.safegrid.dashboard.grid;

import java.util.List;
import java.util.Objects;

/**
 * One cell of the grid tree shown on the duty page: a community (社区), a residential compound
 * (小区) or a building (楼栋). The gateway builds the tree from the site config; the dashboard
 * serves it as {@code GET /api/grid} and does not interpret it.
 *
 * @param id stable id as in the devices table's {@code community}/{@code compound}/{@code
 *     building} columns, e.g. {@code nanmen-new-city}
 * @param name display name, e.g. {@code 南门新城 Nanmen New City}
 * @param level {@code community}, {@code compound} or {@code building}
 * @param children the cells one level down, empty for a building
 */
public record GridNode(String id, String name, String level, List<GridNode> children) {
  public GridNode {
    Objects.requireNonNull(id, "id");
    Objects.requireNonNull(level, "level");
    name = name == null ? id : name;
    children = children == null ? List.of() : List.copyOf(children);
  }

  /** A community with its compounds. */
  public static GridNode community(String id, String name, List<GridNode> compounds) {
    return new GridNode(id, name, "community", compounds);
  }

  /** A compound with its buildings. */
  public static GridNode compound(String id, String name, List<GridNode> buildings) {
    return new GridNode(id, name, "compound", buildings);
  }

  /** A building (a leaf). */
  public static GridNode building(String id, String name) {
    return new GridNode(id, name, "building", List.of());
  }
}
