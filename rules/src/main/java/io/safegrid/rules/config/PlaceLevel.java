package io.safegrid.rules.config;

/** The grid levels a combination rule can group devices by, widest first. */
public enum PlaceLevel {
  /** 社区, community. */
  COMMUNITY,
  /** 小区, residential compound. */
  COMPOUND,
  /** 楼栋, building. */
  BUILDING;

  /**
   * @throws IllegalArgumentException for a name other than community, compound or building
   */
  public static PlaceLevel fromName(String name) {
    for (PlaceLevel l : values()) {
      if (l.name().equalsIgnoreCase(name)) {
        return l;
      }
    }
    throw new IllegalArgumentException(
        "unknown place level '" + name + "' (expected community, compound or building)");
  }
}
