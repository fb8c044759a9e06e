package io.safegrid.site;

import java.util.Locale;

/** The five grid levels, top first. {@link #wireName()} is the lower snake case name. */
public enum GridLevel {
  /** 街道党工委, sub-district working committee. */
  SUB_DISTRICT,
  /** 社区党委, community committee. */
  COMMUNITY,
  /** 小区党支部, residential compound branch. */
  COMPOUND,
  /** 楼栋党小组, building group. */
  BUILDING,
  /** 单元中心户, unit lead household. */
  UNIT;

  /** e.g. {@code sub_district}, {@code unit}. */
  public String wireName() {
    return name().toLowerCase(Locale.ROOT);
  }
}
