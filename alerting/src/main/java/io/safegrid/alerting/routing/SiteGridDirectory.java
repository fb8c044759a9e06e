package io.safegrid.alerting.routing;

import io.safegrid.model.DeviceType;
import io.safegrid.site.Contact;
import io.safegrid.site.Department;
import io.safegrid.site.Device;
import io.safegrid.site.GridNode;
import io.safegrid.site.Site;
import io.safegrid.site.Team;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The {@link GridDirectory} of a configured site ({@code config/dongnan.yaml} loaded into {@link
 * Site}).
 *
 * <ul>
 *   <li>Chain: the device's grid chain, finest first; each level's recipient id is the grid node
 *       id (the group: unit, building, compound, community), except the sub-district, whose
 *       recipient is its duty officer (the first contact of the sub-district node, e.g. {@code
 *       dongnan-duty-officer}).
 *   <li>Responders: the departments whose {@code handles} include the device type (gas company,
 *       market supervision, fire brigade, flood command, ...), without the report-upward
 *       departments; for water alarms also every militia emergency rescue team. {@link Router}
 *       calls them for hazard alarms only ({@link AlarmClass}).
 *   <li>Report upward (critical alarms): the sub-district duty leader (second contact of the
 *       sub-district node) and the report-upward departments (default: {@code
 *       district-emergency-management}, the district emergency management bureau).
 *   <li>Fallback chain (devices the site does not know, e.g. {@code safegrid-gateway}): the
 *       sub-district duty officer.
 * </ul>
 */
public final class SiteGridDirectory implements GridDirectory {
  /** Departments copied on critical alarms by default: the district emergency management bureau. */
  public static final Set<String> DEFAULT_REPORT_UPWARD_DEPARTMENTS = Set.of("district-emergency-management");

  private final Site site;
  private final Set<String> reportUpwardDepartments;
  private final List<RecipientGroup> reportUpward;
  private final List<RecipientGroup> fallback;
  private final Map<String, Optional<DevicePlace>> places = new ConcurrentHashMap<>();

  /** With the default report-upward departments. */
  public SiteGridDirectory(Site site) {
    this(site, DEFAULT_REPORT_UPWARD_DEPARTMENTS);
  }

  /**
   * @param site the validated site
   * @param reportUpwardDepartments ids of departments copied on critical alarms (and not told of
   *     other alarms)
   */
  public SiteGridDirectory(Site site, Set<String> reportUpwardDepartments) {
    this.site = site;
    this.reportUpwardDepartments = Set.copyOf(reportUpwardDepartments);
    var sd = site.grid().subDistrict();
    Contact officer = sd.dutyOfficer();
    this.fallback = List.of(new RecipientGroup(
        officer != null ? officer.id() : sd.id(),
        officer != null ? officer.name() : sd.name() + " duty officer", GridLevel.SUB_DISTRICT));
    List<RecipientGroup> up = new ArrayList<>();
    if (sd.dutyLeader() != null) {
      up.add(RecipientGroup.responder(sd.dutyLeader().id(), sd.dutyLeader().name()));
    }
    for (Department d : site.responders().departments()) {
      if (this.reportUpwardDepartments.contains(d.id())) {
        up.add(RecipientGroup.responder(d.id(), d.name()));
      }
    }
    this.reportUpward = List.copyOf(up);
  }

  @Override
  public Optional<DevicePlace> place(String deviceId) {
    return places.computeIfAbsent(deviceId, id -> site.device(id).map(this::placeOf));
  }

  private DevicePlace placeOf(Device d) {
    List<GridNode> nodes = site.gridChain(d);
    List<RecipientGroup> chain = new ArrayList<>();
    List<String> names = new ArrayList<>();
    for (GridNode n : nodes) {
      GridLevel level = GridLevel.valueOf(n.level().name());
      if (level == GridLevel.SUB_DISTRICT) {
        chain.add(fallback.get(0));
      } else {
        chain.add(new RecipientGroup(n.id(), n.name(), level));
        names.add(n.name());
      }
    }
    Collections.reverse(names);
    String place = String.join(" / ", names) + (d.name() == null ? "" : " - " + d.name());
    return new DevicePlace(d.id(), AlarmKind.of(d.type()), place, chain);
  }

  @Override
  public List<RecipientGroup> responders(AlarmKind kind) {
    DeviceType type = switch (kind) {
      case GAS -> DeviceType.GAS_ALARM;
      case FIRE -> DeviceType.FIRE_PANEL;
      case WATER -> DeviceType.RIVER_GAUGE;
      case SYSTEM -> null;
    };
    if (type == null) {
      return List.of();
    }
    List<RecipientGroup> out = new ArrayList<>();
    for (Department d : site.departmentsFor(type)) {
      if (!reportUpwardDepartments.contains(d.id())) {
        out.add(RecipientGroup.responder(d.id(), d.name()));
      }
    }
    if (kind == AlarmKind.WATER) {
      for (Team t : site.responders().militiaTeams()) {
        out.add(RecipientGroup.responder(t.id(), t.name()));
      }
    }
    return out;
  }

  @Override
  public List<RecipientGroup> reportUpward() {
    return reportUpward;
  }

  @Override
  public List<RecipientGroup> fallbackChain() {
    return fallback;
  }
}
