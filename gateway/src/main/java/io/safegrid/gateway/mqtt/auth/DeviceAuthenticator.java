package io.safegrid.gateway.mqtt.auth;

/**
 * Checks a device's credentials: MQTT username = device id, password = the device's secret (see
 * the contract, "Devices").
 *
 * <p>Implementations may be slow (a key derivation function is slow on purpose): the MQTT server
 * calls them off the Netty event loop. They must be thread-safe.
 */
public interface DeviceAuthenticator {

  /**
   * @param deviceId the MQTT username; may be null when the client sent none
   * @param secret the MQTT password bytes; may be null when the client sent none
   * @return the outcome; never null, never throws for bad input
   */
  AuthOutcome authenticate(String deviceId, byte[] secret);
}
