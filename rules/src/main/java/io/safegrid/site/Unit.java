package io.safegrid.site;

/**
 * Grid level 5: a unit (entrance) of a building, answered for by its lead household (单元中心户),
 * about 10 households per grid cell.
 *
 * @param id grid node id, unique in the site
 * @param name display name, e.g. "Nanmen New City Zone 1, Building 2, Unit 1"
 * @param contact the lead household (placeholder in the demo site)
 */
public record Unit(String id, String name, Contact contact) {}
