package io.safegrid.site;

import java.util.List;

/**
 * Grid level 2: a community and its committee (社区党委).
 *
 * @param id grid node id, unique in the site
 * @param name display name
 * @param contact the community duty contact
 * @param compounds the residential compounds in the community; never null
 */
public record Community(String id, String name, Contact contact, List<Compound> compounds) {
  public Community {
    compounds = compounds == null ? List.of() : List.copyOf(compounds);
  }
}
