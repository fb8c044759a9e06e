package io.safegrid.alerting.routing;

import java.util.Set;

/**
 * Whether an alarm reports a hazard (gas, fire, flood: someone may be in danger now) or the
 * state of the equipment that watches for one (a device gone silent, a flat battery, a sensor or
 * panel fault, a shielded zone, a power fault): who is called out depends on it.
 *
 * <p>A hazard calls the rescue chain: the grid from the severity's starting level plus the
 * responders of its kind (gas company and market supervision, fire brigade, flood command and the
 * militia emergency rescue teams) at once. A maintenance alarm goes to the grid only (building
 * group, compound branch / property management, community, sub-district duty officer): the people
 * who have the equipment seen to. Source: the seed report (/work/shared/seed, summarised in
 * /work/shared/domain.md, "Who responds"): the militia emergency rescue teams and the
 * departments are the response forces for emergencies (应急救援力量), while the upkeep of fire
 * installations (消防设施维保) and hazards found in a compound are laid on the community and the
 * property management (压实社区、物业责任); newcomer7 F16.
 *
 * <p>SafeGrid's own {@code channel-dead:*} alarms (a notification channel to the emergency
 * network's broker or a webhook is dead: {@code OutboxDispatcher}) are neither: they are the alarm
 * path itself failing, so they are {@link #ALARM_PATH}: the grid at once (never a digest), no
 * responders (review7 R6).
 *
 * <p>Unknown rule ids are hazards: a call-out too many wears people out, a missed one can cost a
 * life.
 */
public enum AlarmClass {
  /** Gas, fire, water and their combinations: the rescue chain. */
  HAZARD,
  /**
   * The equipment itself: the grid (property management, duty officer), no responders; its
   * notifications may wait for the recipient's digest slot.
   */
  MAINTENANCE,
  /**
   * SafeGrid's own notification path failing ({@code channel-dead:*}): the grid at once, as a
   * hazard's timing, but no responders (review7 R6).
   */
  ALARM_PATH;

  /**
   * Rule ids (docs/rules.md "Rule ids") of alarms about the equipment rather than a hazard:
   * inactivity timeout, low battery, gas detector fault or sensor failure, and the fire panel
   * status bits of GB/T 26875.3-2011 other than fire (fault, supervisory, shield, mains-power
   * fault, backup-power fault).
   */
  public static final Set<String> MAINTENANCE_RULES = Set.of(
      "device-offline", "low-battery", "gas-fault",
      "fire-panel-fault", "fire-panel-supervisory", "fire-panel-shield",
      "fire-panel-mains-fault", "fire-panel-backup-fault");

  /**
   * The maintenance rules that mean the device can no longer tell of its hazard (silent: inactivity
   * timeout; gas detector fault or sensor failure; fire panel fault). While the same device has an
   * open {@link #HAZARD} alarm (not closed: the incident is not written off), one of these is
   * routed as that hazard: its responders, at once (the crew at a leak must learn that its only
   * sensor went silent; review7 R7).
   */
  public static final Set<String> SENSOR_LOST_RULES = Set.of("device-offline", "gas-fault", "fire-panel-fault");

  /** Prefix of SafeGrid's own alarms about a dead notification channel ({@code channel-dead:mqtt}). */
  public static final String CHANNEL_DEAD_PREFIX = "channel-dead:";

  /**
   * The class of alarms of {@code ruleId} by the rule alone; unknown or null rule ids are {@link
   * #HAZARD}, {@code channel-dead:*} is {@link #ALARM_PATH}.
   */
  public static AlarmClass ofRule(String ruleId) {
    if (ruleId == null) {
      return HAZARD;
    }
    if (ruleId.startsWith(CHANNEL_DEAD_PREFIX)) {
      return ALARM_PATH;
    }
    return MAINTENANCE_RULES.contains(ruleId) ? MAINTENANCE : HAZARD;
  }
}
