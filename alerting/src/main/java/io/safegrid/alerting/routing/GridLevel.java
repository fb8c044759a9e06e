package io.safegrid.alerting.routing;

import java.util.Locale;

/**
 * The five levels of the sub-district's emergency grid, lowest first (Dongnan 2022 work report:
 * 街道党工委 -> 社区党委 -> 小区党支部 -> 楼栋党小组 -> 单元中心户, about 10 households per cell).
 * Escalation climbs this order.
 */
public enum GridLevel {
  /** 单元中心户: the unit lead household. */
  UNIT,
  /** 楼栋党小组: the building group. */
  BUILDING,
  /** 小区党支部: the residential compound branch. */
  COMPOUND,
  /** 社区党委: the community committee. */
  COMMUNITY,
  /** 街道: the sub-district duty officer (working committee). */
  SUB_DISTRICT;

  /** {@link #wireName()}, worked out once (escalation writes it into every notification). */
  private final String wireName;

  GridLevel() {
    this.wireName = name().toLowerCase(Locale.ROOT);
  }

  /** Lower-case name used in configs and payloads, e.g. {@code sub_district}. */
  public String wireName() {
    return wireName;
  }

  /**
   * @throws IllegalArgumentException for an unknown name
   */
  public static GridLevel fromWireName(String s) {
    return valueOf(s.trim().toUpperCase(Locale.ROOT).replace('-', '_'));
  }
}
