package io.safegrid.alerting.channel.webhook;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The webhook signature: {@code X-SafeGrid-Signature: sha256=<hex>}, HMAC-SHA256 (RFC 2104) of the
 * exact request body bytes with the webhook's secret (UTF-8), lower-case hex. Receivers recompute
 * it and compare in constant time ({@link #verify}).
 */
public final class Signatures {
  /** The header name. */
  public static final String HEADER = "X-SafeGrid-Signature";

  private Signatures() {}

  /** The header value for this body: {@code sha256=<64 hex digits>}. */
  public static String sign(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return "sha256=" + HexFormat.of().formatHex(mac.doFinal(body));
    } catch (NoSuchAlgorithmException | InvalidKeyException e) {
      throw new IllegalStateException("HmacSHA256 unavailable", e);
    }
  }

  /** True when {@code header} is the signature of {@code body} (constant-time comparison). */
  public static boolean verify(String secret, byte[] body, String header) {
    if (header == null) {
      return false;
    }
    return MessageDigest.isEqual(sign(secret, body).getBytes(StandardCharsets.US_ASCII),
        header.getBytes(StandardCharsets.US_ASCII));
  }
}
