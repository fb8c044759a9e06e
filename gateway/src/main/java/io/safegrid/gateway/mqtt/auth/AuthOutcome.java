package io.safegrid.gateway.mqtt.auth;

/**
 * What a {@link DeviceAuthenticator} decided about one CONNECT.
 *
 * <p>Mapped to CONNACK return codes by the MQTT server: {@link #BAD_CREDENTIALS} is 0x04 on MQTT
 * 3.1.1 and 0x86 on MQTT 5; {@link #NOT_AUTHORIZED} is 0x05 on 3.1.1 and 0x87 on 5 (MQTT 3.1.1
 * table 3.1, MQTT 5.0 3.2.2.2).
 */
public enum AuthOutcome {
  /** The device id and secret match. */
  OK,
  /** Unknown device, missing or wrong secret. */
  BAD_CREDENTIALS,
  /** The secret is right but the device may not connect (e.g. disabled). */
  NOT_AUTHORIZED
}
