package io.safegrid.gateway.mqtt.auth;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;

/**
 * Authenticates devices against salted PBKDF2 hashes of their secrets ({@link SecretHash}).
 *
 * <p>A reconnect storm (every gas alarm of a compound reconnecting after a power cut) would cost
 * one PBKDF2 derivation per CONNECT; a successful check is therefore remembered for {@link
 * #CACHE_MILLIS} as a SHA-256 of the presented secret, so repeated good CONNECTs within that time
 * cost one hash. Failures are never cached: a wrong password always pays the full derivation.
 *
 * <p>Thread-safe.
 */
public final class Pbkdf2DeviceAuthenticator implements DeviceAuthenticator {

  /** How long a successful verification is remembered, ms. */
  public static final long CACHE_MILLIS = 60_000;

  private final Map<String, SecretHash> hashes;
  private final Set<String> disabled;
  private final LongSupplier clock;
  private final Map<String, CachedOk> recent = new ConcurrentHashMap<>();

  private record CachedOk(byte[] digest, long until) {}

  /**
   * @param hashes device id -> secret hash
   * @param disabled device ids whose right secret still gets NOT_AUTHORIZED
   */
  public Pbkdf2DeviceAuthenticator(Map<String, SecretHash> hashes, Set<String> disabled) {
    this(hashes, disabled, System::currentTimeMillis);
  }

  Pbkdf2DeviceAuthenticator(Map<String, SecretHash> hashes, Set<String> disabled, LongSupplier clock) {
    this.hashes = Map.copyOf(hashes);
    this.disabled = Set.copyOf(disabled);
    this.clock = clock;
  }

  /**
   * For tests and the demo site: hashes plain secrets (device id -> secret) at once; costs one
   * PBKDF2 derivation per device (about 10-50 ms each), spread over the cores.
   */
  public static Pbkdf2DeviceAuthenticator fromSecrets(Map<String, String> secrets) {
    Map<String, SecretHash> hashes = new ConcurrentHashMap<>();
    secrets.entrySet().parallelStream()
        .forEach(e -> hashes.put(e.getKey(), SecretHash.derive(e.getValue())));
    return new Pbkdf2DeviceAuthenticator(hashes, Set.of());
  }

  @Override
  public AuthOutcome authenticate(String deviceId, byte[] secret) {
    if (deviceId == null || secret == null) {
      return AuthOutcome.BAD_CREDENTIALS;
    }
    SecretHash hash = hashes.get(deviceId);
    if (hash == null) {
      // Spend the same time as a known device, so ids cannot be probed by timing.
      DUMMY.matches(secret);
      return AuthOutcome.BAD_CREDENTIALS;
    }
    byte[] digest = sha256(secret);
    long now = clock.getAsLong();
    CachedOk cached = recent.get(deviceId);
    boolean ok =
        cached != null && cached.until() > now && MessageDigest.isEqual(cached.digest(), digest)
            || hash.matches(secret);
    if (!ok) {
      return AuthOutcome.BAD_CREDENTIALS;
    }
    recent.put(deviceId, new CachedOk(digest, now + CACHE_MILLIS));
    return disabled.contains(deviceId) ? AuthOutcome.NOT_AUTHORIZED : AuthOutcome.OK;
  }

  @Override
  public boolean knows(String deviceId) {
    return deviceId != null && hashes.containsKey(deviceId);
  }

  private static final SecretHash DUMMY = SecretHash.derive("no-such-device");

  private static byte[] sha256(byte[] secret) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      md.update(ByteBuffer.wrap(secret));
      return md.digest();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
