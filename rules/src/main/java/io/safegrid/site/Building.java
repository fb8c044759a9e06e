package io.safegrid.site;

import java.util.List;

/**
 * Grid level 4: a building and its party group (楼栋党小组).
 *
 * @param id grid node id, unique in the site
 * @param name display name
 * @param contact the building group leader
 * @param units the building's units; never null (empty when absent)
 */
public record Building(String id, String name, Contact contact, List<Unit> units) {
  public Building {
    units = units == null ? List.of() : List.copyOf(units);
  }
}
