package io.safegrid.gateway.mqtt.auth;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticates devices against the plain secrets of the site configuration, in constant time,
 * without a key derivation per device at start-up.
 *
 * <p>Why not PBKDF2 here: a slow salted hash protects secrets whose store may leak. The site file
 * holds the secrets in plain text, and the gateway keeps them in memory anyway (the CoAPS DTLS PSK
 * store needs each key itself), so hashing every one of them at start-up (10,144 devices: 27-142 s
 * on the 2-core bench machine) and every first CONNECT protected nothing. Pre-hashed secrets
 * ({@link SecretHash}) keep using {@link Pbkdf2DeviceAuthenticator}.
 *
 * <p>What is kept of the PBKDF2 authenticator's properties:
 *
 * <ul>
 *   <li><b>Constant-time check</b>: the presented password and each device's secret are compared
 *       as HMAC-SHA256 tags (32 bytes each, key random per process, so the table in memory is not
 *       a plain unsalted digest of the secrets) with {@link MessageDigest#isEqual}: the time does
 *       not depend on how many bytes match, nor on the secrets' lengths.
 *   <li><b>No probing of device ids by timing</b>: an unknown device id costs what a wrong
 *       secret costs.
 *   <li><b>Online guessing stays slow</b>: the MQTT server calls {@link #check} (one HMAC, about a
 *       microsecond, on the event loop) and answers a right secret at once; a refused CONNECT
 *       (wrong secret, unknown device, no password) waits on a timer and is bounded per source
 *       address and in all ({@link RefusalGuard}), so a flood of wrong secrets slows the guesser,
 *       not the devices (a refusal's PBKDF2 on one shared thread made every device's CONNECT
 *       queue behind the guesser's). {@link #authenticate} still adds one PBKDF2-HMAC-SHA256
 *       derivation ({@link SecretHash#DEFAULT_ITERATIONS} iterations, RFC 8018 5.2) to a refusal,
 *       for callers without a guard. A reconnect storm of every device after a restart costs
 *       next to nothing.
 * </ul>
 *
 * <p>Start-up: one HMAC per device (10,000 devices: a few milliseconds). Thread-safe.
 */
public final class SiteSecretAuthenticator implements DeviceAuthenticator {

  /** Costs a refused CONNECT one PBKDF2 derivation (see the class comment). */
  private static final SecretHash REFUSAL_WORK = SecretHash.derive("refused-connect");

  private static final byte[] UNKNOWN = new byte[32];

  private final byte[] key = new byte[32];
  private final Map<String, byte[]> tags;
  private final Set<String> disabled;

  /**
   * @param secrets device id -> secret, as in the site configuration; each secret must be text that
   *     encodes to UTF-8 (MQTT carries the password as UTF-8 bytes)
   * @param disabled device ids whose right secret still gets NOT_AUTHORIZED
   * @throws IllegalArgumentException if a secret cannot be encoded as UTF-8 (a lone surrogate)
   */
  public SiteSecretAuthenticator(Map<String, String> secrets, Set<String> disabled) {
    new SecureRandom().nextBytes(key);
    Mac mac = newMac();
    Map<String, byte[]> t = new HashMap<>(secrets.size() * 2);
    for (Map.Entry<String, String> e : secrets.entrySet()) {
      byte[] utf8;
      try {
        ByteBuffer b = StandardCharsets.UTF_8.newEncoder().encode(CharBuffer.wrap(e.getValue()));
        utf8 = new byte[b.remaining()];
        b.get(utf8);
      } catch (CharacterCodingException ex) {
        throw new IllegalArgumentException("secret of device " + e.getKey() + " is not valid text", ex);
      }
      t.put(e.getKey(), mac.doFinal(utf8));
    }
    this.tags = Map.copyOf(t);
    this.disabled = Set.copyOf(disabled);
  }

  /** An authenticator with no disabled device. */
  public static SiteSecretAuthenticator of(Map<String, String> secrets) {
    return new SiteSecretAuthenticator(secrets, Set.of());
  }

  /**
   * {@link #check}, and a refusal then also costs one PBKDF2 derivation (about 25 ms of a core):
   * for callers without a {@link RefusalGuard}. The MQTT server calls {@link #check} instead.
   */
  @Override
  public AuthOutcome authenticate(String deviceId, byte[] secret) {
    AuthOutcome outcome = check(deviceId, secret);
    if (outcome == AuthOutcome.BAD_CREDENTIALS && deviceId != null && secret != null) {
      REFUSAL_WORK.matches(secret);
    }
    return outcome;
  }

  /**
   * One HMAC-SHA256 of the presented secret and a constant-time compare (about a microsecond): the
   * same work for an unknown device as for a wrong secret.
   */
  @Override
  public AuthOutcome check(String deviceId, byte[] secret) {
    if (deviceId == null || secret == null) {
      return AuthOutcome.BAD_CREDENTIALS; // no username or password: nothing to guess with
    }
    byte[] expected = tags.get(deviceId);
    byte[] presented = newMac().doFinal(secret);
    // Unknown device: compare against a tag of the same length, so the work is the same.
    boolean ok = MessageDigest.isEqual(expected == null ? UNKNOWN : expected, presented) && expected != null;
    if (!ok) {
      return AuthOutcome.BAD_CREDENTIALS;
    }
    return disabled.contains(deviceId) ? AuthOutcome.NOT_AUTHORIZED : AuthOutcome.OK;
  }

  /** True: {@link #check} is one HMAC. */
  @Override
  public boolean quick() {
    return true;
  }

  @Override
  public boolean knows(String deviceId) {
    return deviceId != null && tags.containsKey(deviceId);
  }

  private Mac newMac() {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return mac;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java 17 runtime", e);
    }
  }
}
