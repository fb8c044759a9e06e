package io.safegrid.gateway.mqtt;

/**
 * The contract's topic rules ("Devices"): a device may publish only to {@code
 * devices/{its id}/telemetry}, {@code /events} and {@code /status}, and subscribe only to {@code
 * devices/{its id}/commands} (exactly, no wildcards).
 */
final class TopicAcl {

  /** Where an allowed PUBLISH goes. */
  enum Kind {
    TELEMETRY,
    EVENTS,
    STATUS
  }

  private TopicAcl() {}

  /**
   * @return the kind of an allowed topic for this device, or null if the device may not publish
   *     there
   */
  static Kind publishKind(String deviceId, String topic) {
    if (deviceId == null || topic == null) {
      return null;
    }
    String prefix = "devices/" + deviceId + "/";
    if (!topic.startsWith(prefix)) {
      return null;
    }
    switch (topic.substring(prefix.length())) {
      case "telemetry":
        return Kind.TELEMETRY;
      case "events":
        return Kind.EVENTS;
      case "status":
        return Kind.STATUS;
      default:
        return null;
    }
  }

  /** True if the device may subscribe to this topic filter. */
  static boolean maySubscribe(String deviceId, String topicFilter) {
    return deviceId != null && ("devices/" + deviceId + "/commands").equals(topicFilter);
  }
}
