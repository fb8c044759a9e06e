package io.safegrid.site;

import java.util.List;

/**
 * The response forces ("两大队伍") and the departments.
 *
 * @param volunteerTeams volunteer teams; never null
 * @param militiaTeams militia emergency rescue teams; never null
 * @param departments departments and utilities; never null
 */
public record Responders(
    List<Team> volunteerTeams, List<Team> militiaTeams, List<Department> departments) {
  public Responders {
    volunteerTeams = volunteerTeams == null ? List.of() : List.copyOf(volunteerTeams);
    militiaTeams = militiaTeams == null ? List.of() : List.copyOf(militiaTeams);
    departments = departments == null ? List.of() : List.copyOf(departments);
  }

  /** No responders. */
  public static Responders none() {
    return new Responders(List.of(), List.of(), List.of());
  }
}
