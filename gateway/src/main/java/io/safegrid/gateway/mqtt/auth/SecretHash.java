package io.safegrid.gateway.mqtt.auth;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.SecretKeyFactory;
import javax.crypto.spec.PBEKeySpec;

/**
 * A device secret kept as a salted PBKDF2-HMAC-SHA256 hash (RFC 8018 5.2; iteration count per
 * NIST SP 800-132 5.2 "as large as feasible"), never the secret itself.
 *
 * <p>Text form (for configuration files): {@code pbkdf2-sha256$ITERATIONS$SALT_B64$HASH_B64}, e.g.
 * {@code pbkdf2-sha256$10000$q1Fh...$8Zk...}; salt 16 bytes, hash 32 bytes, base64 without padding.
 *
 * @param iterations PBKDF2 iteration count, at least 1000
 * @param salt per-device random salt
 * @param hash derived key, 32 bytes
 */
public record SecretHash(int iterations, byte[] salt, byte[] hash) {

  /** Iterations used by {@link #derive(String)}: a few ms per check on a small gateway. */
  public static final int DEFAULT_ITERATIONS = 10_000;

  private static final String PREFIX = "pbkdf2-sha256";
  private static final SecureRandom RANDOM = new SecureRandom();

  public SecretHash {
    if (iterations < 1000) {
      throw new IllegalArgumentException("PBKDF2 iterations must be >= 1000, got " + iterations);
    }
    Objects.requireNonNull(salt, "salt");
    Objects.requireNonNull(hash, "hash");
    salt = salt.clone();
    hash = hash.clone();
  }

  /** Hashes a secret with a fresh random 16-byte salt and {@link #DEFAULT_ITERATIONS}. */
  public static SecretHash derive(String secret) {
    byte[] salt = new byte[16];
    RANDOM.nextBytes(salt);
    return new SecretHash(DEFAULT_ITERATIONS, salt, pbkdf2(secret.toCharArray(), salt, DEFAULT_ITERATIONS));
  }

  /**
   * Parses the text form.
   *
   * @throws IllegalArgumentException if it is not {@code pbkdf2-sha256$N$SALT$HASH}
   */
  public static SecretHash parse(String text) {
    String[] parts = text.split("\\$");
    if (parts.length != 4 || !PREFIX.equals(parts[0])) {
      throw new IllegalArgumentException("not a pbkdf2-sha256$N$SALT$HASH secret hash");
    }
    Base64.Decoder b64 = Base64.getDecoder();
    return new SecretHash(Integer.parseInt(parts[1]), b64.decode(parts[2]), b64.decode(parts[3]));
  }

  /** The text form, see the class comment. */
  public String format() {
    Base64.Encoder b64 = Base64.getEncoder().withoutPadding();
    return PREFIX + "$" + iterations + "$" + b64.encodeToString(salt) + "$" + b64.encodeToString(hash);
  }

  /**
   * True if {@code secret} (UTF-8 bytes, as MQTT carries the password) matches, compared in
   * constant time. A secret that is not valid UTF-8 never matches.
   */
  public boolean matches(byte[] secret) {
    if (secret == null) {
      return false;
    }
    String text;
    try {
      text =
          java.nio.charset.StandardCharsets.UTF_8
              .newDecoder()
              .decode(java.nio.ByteBuffer.wrap(secret))
              .toString();
    } catch (java.nio.charset.CharacterCodingException e) {
      return false;
    }
    return MessageDigest.isEqual(hash, pbkdf2(text.toCharArray(), salt, iterations));
  }

  @Override
  public byte[] salt() {
    return salt.clone();
  }

  @Override
  public byte[] hash() {
    return hash.clone();
  }

  @Override
  public String toString() {
    return "SecretHash[pbkdf2-sha256, iterations=" + iterations + "]";
  }

  private static byte[] pbkdf2(char[] secret, byte[] salt, int iterations) {
    try {
      PBEKeySpec spec = new PBEKeySpec(secret, salt, iterations, 256);
      try {
        return SecretKeyFactory.getInstance("PBKDF2WithHmacSHA256").generateSecret(spec).getEncoded();
      } finally {
        spec.clearPassword();
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("PBKDF2WithHmacSHA256 is part of every Java 17 runtime", e);
    }
  }
}
