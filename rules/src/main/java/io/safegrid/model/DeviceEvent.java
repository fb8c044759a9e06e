package io.safegrid.model;

import java.util.Objects;

/**
 * A discrete event a device reports on {@code devices/{id}/events}: a fire panel's fire, fault,
 * supervisory, shield, reset, mains or backup power fault (status bits of GB/T 26875.3-2011), or a
 * gas alarm's own state change.
 *
 * @param deviceId device id
 * @param timeMillis event time in epoch milliseconds (UTC)
 * @param event event name, lower case: {@code fire}, {@code fault}, {@code supervisory},
 *     {@code shield}, {@code reset}, {@code mains_fault}, {@code backup_fault}, ...
 * @param zone panel zone (loop) number, or null
 * @param point point (address) number on the zone, or null
 * @param text free text from the device (e.g. the GB18030 location text), or null
 */
public record DeviceEvent(
    String deviceId, long timeMillis, String event, Integer zone, Integer point, String text) {

  public DeviceEvent {
    Objects.requireNonNull(deviceId, "deviceId");
    Objects.requireNonNull(event, "event");
  }
}
