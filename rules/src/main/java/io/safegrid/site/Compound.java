package io.safegrid.site;

import java.util.List;

/**
 * Grid level 3: a residential compound (小区) and its party branch (小区党支部).
 *
 * @param id grid node id, unique in the site, e.g. {@code nanmen-1}
 * @param name display name, e.g. "Nanmen New City Zone 1"
 * @param contact the branch secretary
 * @param buildings the compound's buildings; never null
 */
public record Compound(String id, String name, Contact contact, List<Building> buildings) {
  public Compound {
    buildings = buildings == null ? List.of() : List.copyOf(buildings);
  }
}
