package io.safegrid.site;

import io.safegrid.model.DeviceType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * A validated, indexed site: the grid, the responders, the devices and the rule parameters.
 * Immutable and thread-safe; lookups are hash-map reads.
 *
 * <p>Built from the records the configuration holds; the constructor checks the whole site and
 * throws {@link SiteValidationException} listing every problem with its JSON pointer path (e.g.
 * {@code /devices/4/place/compound}), which the loader turns into a file line.
 *
 * <p>Rules checked: every id matches {@link #ID_PATTERN}; device ids are unique; recipient ids
 * (grid nodes, contacts, teams, departments) are unique among themselves; each device has a type,
 * a secret, a report interval &gt; 0 and a place whose levels exist and nest (the compound is in
 * the community, the building in the compound, the unit in the building, no gap); the {@code
 * rules} section is keyed by device type wire names or other lower snake_case sections the rule
 * engine reads (e.g. {@code combination}); override values are finite numbers.
 */
public final class Site {

  /** Device and recipient ids: lower case letters, digits and '-', 1-64 characters. */
  public static final Pattern ID_PATTERN = Pattern.compile("[a-z0-9][a-z0-9-]{0,63}");

  private final String id;
  private final String name;
  private final Grid grid;
  private final Responders responders;
  private final List<Device> devices;
  private final Map<String, Map<String, Object>> rules;

  private final Map<String, Device> devicesById = new HashMap<>();
  private final Map<DeviceType, List<Device>> devicesByType = new EnumMap<>(DeviceType.class);
  private final Map<String, GridNode> nodesById = new HashMap<>();
  private final Map<String, Contact> contactsById = new HashMap<>();
  private final Map<String, List<GridNode>> chainByDevice = new HashMap<>();
  private final Map<DeviceType, RuleParameters> rulesByType = new EnumMap<>(DeviceType.class);
  private final Map<String, RuleParameters> rulesByDevice = new HashMap<>();

  /**
   * Builds and validates a site.
   *
   * @param id site id, e.g. {@code dongnan}
   * @param name display name
   * @param grid the five-level grid (required)
   * @param responders teams and departments, or null for none
   * @param devices the devices, or null for none
   * @param rules rule parameters per device type wire name, or null for none
   * @throws SiteValidationException listing every problem found
   */
  public Site(
      String id,
      String name,
      Grid grid,
      Responders responders,
      List<Device> devices,
      Map<String, Map<String, Object>> rules) {
    this.id = id;
    this.name = name;
    this.grid = grid;
    this.responders = responders == null ? Responders.none() : responders;
    this.devices = devices == null ? List.of() : List.copyOf(devices);
    this.rules = copyRules(rules);
    List<SiteProblem> problems = new ArrayList<>();
    indexGrid(problems);
    indexResponders(problems);
    indexRules(problems);
    indexDevices(problems);
    if (!problems.isEmpty()) {
      throw new SiteValidationException(problems);
    }
    for (DeviceType t : DeviceType.values()) {
      devicesByType.computeIfAbsent(t, k -> new ArrayList<>());
      devicesByType.put(t, List.copyOf(devicesByType.get(t)));
    }
  }

  /** Site id, e.g. {@code dongnan}. */
  public String id() {
    return id;
  }

  /** Display name. */
  public String name() {
    return name;
  }

  /** The grid as configured. */
  public Grid grid() {
    return grid;
  }

  /** Teams and departments. */
  public Responders responders() {
    return responders;
  }

  /** All devices, in configuration order. */
  public List<Device> devices() {
    return devices;
  }

  /** The device with this id, if configured. */
  public Optional<Device> device(String deviceId) {
    return Optional.ofNullable(devicesById.get(deviceId));
  }

  /** The devices of one type, in configuration order; empty if none. */
  public List<Device> devicesOfType(DeviceType type) {
    return devicesByType.get(type);
  }

  /** The grid node (any level) with this id. */
  public Optional<GridNode> gridNode(String nodeId) {
    return Optional.ofNullable(nodesById.get(nodeId));
  }

  /** The contact with this id (any level, team or department). */
  public Optional<Contact> contact(String contactId) {
    return Optional.ofNullable(contactsById.get(contactId));
  }

  /**
   * The device's grid chain, finest level first, ending with the sub-district: e.g. unit,
   * building, compound, community, sub-district for a flat; community, sub-district for a
   * restaurant.
   *
   * @throws IllegalArgumentException when the device is not configured
   */
  public List<GridNode> gridChain(String deviceId) {
    List<GridNode> chain = chainByDevice.get(deviceId);
    if (chain == null) {
      throw new IllegalArgumentException("unknown device '" + deviceId + "'");
    }
    return chain;
  }

  /** As {@link #gridChain(String)}. */
  public List<GridNode> gridChain(Device device) {
    return gridChain(device.id());
  }

  /** The grid chain from a node upwards, the node first, ending with the sub-district. */
  public List<GridNode> gridChainFromNode(String nodeId) {
    List<GridNode> chain = new ArrayList<>(5);
    GridNode n = nodesById.get(nodeId);
    while (n != null) {
      chain.add(n);
      n = n.parentId() == null ? null : nodesById.get(n.parentId());
    }
    return List.copyOf(chain);
  }

  /**
   * The display name of any recipient: grid node, contact, team or department; empty for an
   * unknown id.
   */
  public Optional<String> recipientName(String recipientId) {
    return Optional.ofNullable(recipientNames.get(recipientId));
  }

  /** The teams whose {@code handles} include this device type (volunteer teams first). */
  public List<Team> teamsFor(DeviceType type) {
    List<Team> out = new ArrayList<>();
    for (Team t : responders.volunteerTeams()) {
      if (t.handles().contains(type.wireName())) {
        out.add(t);
      }
    }
    for (Team t : responders.militiaTeams()) {
      if (t.handles().contains(type.wireName())) {
        out.add(t);
      }
    }
    return out;
  }

  /** The departments whose {@code handles} include this device type. */
  public List<Department> departmentsFor(DeviceType type) {
    List<Department> out = new ArrayList<>();
    for (Department d : responders.departments()) {
      if (d.handles().contains(type.wireName())) {
        out.add(d);
      }
    }
    return out;
  }

  /**
   * The {@code rules} section, unmodifiable: parameters per device type wire name, plus any other
   * section the rule engine reads (e.g. {@code combination}).
   */
  public Map<String, Map<String, Object>> rules() {
    return rules;
  }

  /** The parameters of a device type's section; empty if the section is absent. */
  public RuleParameters ruleParameters(DeviceType type) {
    return rulesByType.getOrDefault(type, RuleParameters.empty());
  }

  /** The parameters for one device: its type's section with the device's overrides on top. */
  public RuleParameters ruleParameters(Device device) {
    RuleParameters p = rulesByDevice.get(device.id());
    return p != null ? p : ruleParameters(device.type()).with(device.overrides());
  }

  // ---- building and validation ----

  private static Map<String, Map<String, Object>> copyRules(Map<String, Map<String, Object>> in) {
    if (in == null) {
      return Map.of();
    }
    Map<String, Map<String, Object>> out = new LinkedHashMap<>();
    in.forEach(
        (k, v) ->
            out.put(
                k,
                v == null
                    ? Map.of()
                    : Collections.unmodifiableMap(new LinkedHashMap<>(v))));
    return Collections.unmodifiableMap(out);
  }

  private void indexGrid(List<SiteProblem> problems) {
    if (grid == null) {
      problems.add(new SiteProblem("/grid", "the grid is missing"));
      return;
    }
    SubDistrict sd = grid.subDistrict();
    String sdPath = "/grid/sub_district";
    if (sd == null) {
      problems.add(new SiteProblem(sdPath, "the sub-district is missing"));
      return;
    }
    List<Contact> sdContacts = new ArrayList<>();
    if (sd.dutyOfficer() == null) {
      problems.add(new SiteProblem(sdPath + "/duty_officer", "the duty officer is missing"));
    } else {
      sdContacts.add(sd.dutyOfficer());
      contact(sd.dutyOfficer(), sdPath + "/duty_officer", problems);
    }
    if (sd.dutyLeader() == null) {
      problems.add(new SiteProblem(sdPath + "/duty_leader", "the duty leader is missing"));
    } else {
      sdContacts.add(sd.dutyLeader());
      contact(sd.dutyLeader(), sdPath + "/duty_leader", problems);
    }
    node(GridLevel.SUB_DISTRICT, sd.id(), sd.name(), sdContacts, null, sdPath, problems);
    for (int c = 0; c < grid.communities().size(); c++) {
      Community com = grid.communities().get(c);
      String cPath = "/grid/communities/" + c;
      if (com == null) {
        problems.add(new SiteProblem(cPath, "empty community entry"));
        continue;
      }
      contact(com.contact(), cPath + "/contact", problems);
      node(GridLevel.COMMUNITY, com.id(), com.name(), list(com.contact()), sd.id(), cPath, problems);
      for (int p = 0; p < com.compounds().size(); p++) {
        Compound cp = com.compounds().get(p);
        String pPath = cPath + "/compounds/" + p;
        if (cp == null) {
          problems.add(new SiteProblem(pPath, "empty compound entry"));
          continue;
        }
        contact(cp.contact(), pPath + "/contact", problems);
        node(GridLevel.COMPOUND, cp.id(), cp.name(), list(cp.contact()), com.id(), pPath, problems);
        for (int b = 0; b < cp.buildings().size(); b++) {
          Building bd = cp.buildings().get(b);
          String bPath = pPath + "/buildings/" + b;
          if (bd == null) {
            problems.add(new SiteProblem(bPath, "empty building entry"));
            continue;
          }
          contact(bd.contact(), bPath + "/contact", problems);
          node(GridLevel.BUILDING, bd.id(), bd.name(), list(bd.contact()), cp.id(), bPath, problems);
          for (int u = 0; u < bd.units().size(); u++) {
            Unit un = bd.units().get(u);
            String uPath = bPath + "/units/" + u;
            if (un == null) {
              problems.add(new SiteProblem(uPath, "empty unit entry"));
              continue;
            }
            contact(un.contact(), uPath + "/contact", problems);
            node(GridLevel.UNIT, un.id(), un.name(), list(un.contact()), bd.id(), uPath, problems);
          }
        }
      }
    }
  }

  private static List<Contact> list(Contact c) {
    return c == null ? List.of() : List.of(c);
  }

  private void node(
      GridLevel level,
      String nodeId,
      String nodeName,
      List<Contact> contacts,
      String parentId,
      String path,
      List<SiteProblem> problems) {
    if (!recipient(nodeId, nodeName, path + "/id", problems)) {
      return;
    }
    nodesById.put(nodeId, new GridNode(level, nodeId, nodeName, contacts, parentId));
  }

  private void contact(Contact c, String path, List<SiteProblem> problems) {
    if (c == null) {
      return;
    }
    if (recipient(c.id(), c.name(), path + "/id", problems)) {
      contactsById.put(c.id(), c);
    }
  }

  /** Checks a recipient id's form and uniqueness across grid nodes, contacts, teams, departments. */
  private boolean recipient(String rid, String name, String path, List<SiteProblem> problems) {
    if (!recipientId(rid, path, problems)) {
      return false;
    }
    recipientNames.put(rid, name == null ? rid : name);
    return true;
  }

  private boolean recipientId(String rid, String path, List<SiteProblem> problems) {
    if (!validId(rid, path, problems)) {
      return false;
    }
    if (nodesById.containsKey(rid) || contactsById.containsKey(rid) || recipientIds.contains(rid)) {
      problems.add(new SiteProblem(path, "duplicate recipient id '" + rid + "'"));
      return false;
    }
    recipientIds.add(rid);
    return true;
  }

  private final java.util.Set<String> recipientIds = new java.util.HashSet<>();
  private final Map<String, String> recipientNames = new HashMap<>();

  private static boolean validId(String value, String path, List<SiteProblem> problems) {
    if (value == null) {
      problems.add(new SiteProblem(path, "the id is missing"));
      return false;
    }
    if (!ID_PATTERN.matcher(value).matches()) {
      problems.add(
          new SiteProblem(
              path, "id '" + value + "' does not match " + ID_PATTERN.pattern()));
      return false;
    }
    return true;
  }

  private void indexResponders(List<SiteProblem> problems) {
    teams(responders.volunteerTeams(), "/responders/volunteer_teams", problems);
    teams(responders.militiaTeams(), "/responders/militia_teams", problems);
    for (int i = 0; i < responders.departments().size(); i++) {
      Department d = responders.departments().get(i);
      String path = "/responders/departments/" + i;
      if (d == null) {
        problems.add(new SiteProblem(path, "empty department entry"));
        continue;
      }
      recipient(d.id(), d.name(), path + "/id", problems);
      contact(d.contact(), path + "/contact", problems);
      handles(d.handles(), path, problems);
    }
    if (grid != null) {
      for (int i = 0; i < grid.reportUpward().size(); i++) {
        String rid = grid.reportUpward().get(i);
        if (rid == null || !recipientNames.containsKey(rid)) {
          problems.add(
              new SiteProblem(
                  "/grid/report_upward/" + i,
                  "recipient '" + rid + "' is not a contact, grid node, team or department"));
        }
      }
    }
  }

  private static void handles(List<String> handles, String path, List<SiteProblem> problems) {
    for (int h = 0; h < handles.size(); h++) {
      String type = handles.get(h);
      if (!isDeviceType(type)) {
        problems.add(
            new SiteProblem(
                path + "/handles/" + h,
                "unknown device type '" + type + "' (expected gas_alarm, fire_panel or river_gauge)"));
      }
    }
  }

  private void teams(List<Team> teams, String base, List<SiteProblem> problems) {
    for (int i = 0; i < teams.size(); i++) {
      Team t = teams.get(i);
      String path = base + "/" + i;
      if (t == null) {
        problems.add(new SiteProblem(path, "empty team entry"));
        continue;
      }
      recipient(t.id(), t.name(), path + "/id", problems);
      contact(t.contact(), path + "/contact", problems);
      handles(t.handles(), path, problems);
      if (t.members() <= 0) {
        problems.add(new SiteProblem(path + "/members", "members must be > 0"));
      }
    }
  }

  private static boolean isDeviceType(String wire) {
    for (DeviceType t : DeviceType.values()) {
      if (t.wireName().equals(wire)) {
        return true;
      }
    }
    return false;
  }

  private void indexRules(List<SiteProblem> problems) {
    rules.forEach(
        (section, params) -> {
          if (isDeviceType(section)) {
            rulesByType.put(DeviceType.fromWireName(section), RuleParameters.of(params));
          } else if (!section.matches("[a-z][a-z0-9_]*")) {
            problems.add(
                new SiteProblem(
                    "/rules/" + section,
                    "section '" + section + "' is neither a device type (gas_alarm, fire_panel,"
                        + " river_gauge) nor a lower snake_case rule section such as combination"));
          }
        });
  }

  private void indexDevices(List<SiteProblem> problems) {
    java.util.Set<String> seenDeviceIds = new java.util.HashSet<>();
    for (int i = 0; i < devices.size(); i++) {
      Device d = devices.get(i);
      String path = "/devices/" + i;
      if (d == null) {
        problems.add(new SiteProblem(path, "empty device entry"));
        continue;
      }
      boolean ok = validId(d.id(), path + "/id", problems);
      if (ok && !seenDeviceIds.add(d.id())) {
        problems.add(new SiteProblem(path + "/id", "duplicate device id '" + d.id() + "'"));
        ok = false;
      }
      if (d.type() == null) {
        problems.add(new SiteProblem(path + "/type", "the device type is missing"));
        ok = false;
      }
      if (d.secret() == null || d.secret().isEmpty()) {
        problems.add(new SiteProblem(path + "/secret", "the secret is missing"));
        ok = false;
      }
      if (d.reportIntervalS() <= 0) {
        problems.add(
            new SiteProblem(path + "/report_interval_s", "report_interval_s must be > 0 seconds"));
        ok = false;
      }
      for (Map.Entry<String, Double> e : d.overrides().entrySet()) {
        if (e.getValue() == null || !Double.isFinite(e.getValue())) {
          problems.add(
              new SiteProblem(
                  path + "/overrides/" + e.getKey(), "override must be a finite number"));
          ok = false;
        }
      }
      List<GridNode> chain = placeChain(d.place(), path + "/place", problems);
      if (chain == null) {
        ok = false;
      }
      if (ok) {
        devicesById.put(d.id(), d);
        devicesByType.computeIfAbsent(d.type(), k -> new ArrayList<>()).add(d);
        chainByDevice.put(d.id(), chain);
        rulesByDevice.put(
            d.id(),
            rulesByType.getOrDefault(d.type(), RuleParameters.empty()).with(d.overrides()));
      }
    }
  }

  /** The chain for a place, finest first; null (with problems added) when it does not resolve. */
  private List<GridNode> placeChain(Place place, String path, List<SiteProblem> problems) {
    if (place == null) {
      problems.add(new SiteProblem(path, "the place is missing"));
      return null;
    }
    String[] ids = {place.community(), place.compound(), place.building(), place.unit()};
    String[] keys = {"community", "compound", "building", "unit"};
    GridLevel[] levels = {
      GridLevel.COMMUNITY, GridLevel.COMPOUND, GridLevel.BUILDING, GridLevel.UNIT
    };
    if (ids[0] == null) {
      problems.add(new SiteProblem(path + "/community", "the community is missing"));
      return null;
    }
    String parent = grid == null || grid.subDistrict() == null ? null : grid.subDistrict().id();
    String parentKey = "sub-district";
    int last = -1;
    for (int l = 0; l < ids.length; l++) {
      if (ids[l] == null) {
        break;
      }
      GridNode n = nodesById.get(ids[l]);
      if (n == null || n.level() != levels[l]) {
        problems.add(
            new SiteProblem(
                path + "/" + keys[l], keys[l] + " '" + ids[l] + "' does not exist in the grid"));
        return null;
      }
      if (parent != null && !parent.equals(n.parentId())) {
        problems.add(
            new SiteProblem(
                path + "/" + keys[l],
                keys[l] + " '" + ids[l] + "' is not in " + parentKey + " '" + parent + "'"));
        return null;
      }
      parent = ids[l];
      parentKey = keys[l];
      last = l;
    }
    for (int l = last + 1; l < ids.length; l++) {
      if (ids[l] != null) {
        problems.add(
            new SiteProblem(
                path + "/" + keys[l],
                keys[l] + " '" + ids[l] + "' is given but " + keys[last + 1] + " is not"));
        return null;
      }
    }
    return gridChainFromNode(ids[last]);
  }
}
