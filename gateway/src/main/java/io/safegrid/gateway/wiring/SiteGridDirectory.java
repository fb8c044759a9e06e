package io.safegrid.gateway.wiring;

import io.safegrid.alerting.routing.AlarmKind;
import io.safegrid.alerting.routing.DevicePlace;
import io.safegrid.alerting.routing.GridDirectory;
import io.safegrid.alerting.routing.GridLevel;
import io.safegrid.alerting.routing.RecipientGroup;
import io.safegrid.alerting.routing.StaticGridDirectory;
import io.safegrid.model.DeviceType;
import io.safegrid.site.Contact;
import io.safegrid.site.Department;
import io.safegrid.site.Device;
import io.safegrid.site.GridNode;
import io.safegrid.site.Site;
import io.safegrid.site.SubDistrict;
import io.safegrid.site.Team;
import java.util.ArrayList;
import java.util.List;

/**
 * The site as alerting sees it ({@link GridDirectory}), from {@code config/dongnan.yaml}.
 *
 * <ul>
 *   <li>A device's chain: its grid nodes from the finest level up (unit lead household, building
 *       group, compound branch, community committee; recipient id = grid node id), ending with the
 *       sub-district duty officer (recipient id = the duty officer's contact id).
 *   <li>Responders of an alarm kind: the teams and departments whose {@code handles} list the
 *       device type (shipped: gas -> market supervision, gas company; fire -> fire brigade; water
 *       -> flood command, the 3 militia teams).
 *   <li>Report upward: the site's {@code grid.report_upward} recipients.
 *   <li>Fallback (unknown devices, SafeGrid's own alarms): the sub-district duty officer.
 * </ul>
 */
final class SiteGridDirectory {

  private SiteGridDirectory() {}

  static GridDirectory of(Site site) {
    SubDistrict sd = site.grid().subDistrict();
    Contact officer = sd.dutyOfficer();
    RecipientGroup dutyOfficer = new RecipientGroup(officer.id(), officer.name(), GridLevel.SUB_DISTRICT);
    StaticGridDirectory.Builder b = StaticGridDirectory.builder();
    for (Device d : site.devices()) {
      List<RecipientGroup> chain = new ArrayList<>();
      List<String> names = new ArrayList<>();
      for (GridNode n : site.gridChain(d)) {
        names.add(0, n.name());
        if (n.level() == io.safegrid.site.GridLevel.SUB_DISTRICT) {
          chain.add(dutyOfficer);
        } else {
          chain.add(new RecipientGroup(n.id(), n.name(), level(n.level())));
        }
      }
      String place = String.join(" / ", names) + (d.name() == null ? "" : " / " + d.name());
      b.device(new DevicePlace(d.id(), AlarmKind.of(d.type()), place, chain));
    }
    for (DeviceType t : DeviceType.values()) {
      List<RecipientGroup> responders = new ArrayList<>();
      for (Team team : site.teamsFor(t)) {
        responders.add(RecipientGroup.responder(team.id(), team.name()));
      }
      for (Department dep : site.departmentsFor(t)) {
        responders.add(RecipientGroup.responder(dep.id(), dep.name()));
      }
      b.responders(AlarmKind.of(t), responders);
    }
    List<RecipientGroup> upward = new ArrayList<>();
    for (String id : site.grid().reportUpward()) {
      upward.add(RecipientGroup.responder(id, site.recipientName(id).orElse(id)));
    }
    b.reportUpward(upward);
    b.fallbackChain(List.of(dutyOfficer));
    return b.build();
  }

  private static GridLevel level(io.safegrid.site.GridLevel l) {
    return switch (l) {
      case UNIT -> GridLevel.UNIT;
      case BUILDING -> GridLevel.BUILDING;
      case COMPOUND -> GridLevel.COMPOUND;
      case COMMUNITY -> GridLevel.COMMUNITY;
      case SUB_DISTRICT -> GridLevel.SUB_DISTRICT;
    };
  }
}
