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

  /**
   * The decision alone, without the deliberate cost a refusal pays in {@link #authenticate}: the
   * MQTT server calls this (on the event loop when {@link #quick()}) and makes a refusal wait on a
   * timer instead ({@link RefusalGuard}). The default is {@link #authenticate}.
   *
   * @param deviceId the MQTT username; may be null
   * @param secret the MQTT password bytes; may be null
   * @return the outcome; never null, never throws for bad input
   */
  default AuthOutcome check(String deviceId, byte[] secret) {
    return authenticate(deviceId, secret);
  }

  /**
   * True if {@link #check} takes about a microsecond whatever the outcome, so it may run on a
   * Netty event loop; false (the default) when a check itself is slow (a PBKDF2 derivation): the
   * server then calls {@link #authenticate} on its authentication pool.
   */
  default boolean quick() {
    return false;
  }

  /**
   * True if {@code deviceId} is one of this site's devices: only those get a per-device refusal
   * count ({@link RefusalGuard}), so the counts stay bounded by the site's size whatever user names
   * a guesser sends. The default, false, counts none.
   */
  default boolean knows(String deviceId) {
    return false;
  }
}
