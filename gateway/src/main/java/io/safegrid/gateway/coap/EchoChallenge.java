package io.safegrid.gateway.coap;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.function.LongSupplier;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.coap.option.StandardOptionRegistry;

/**
 * Proof that a plain CoAP request's source address is real: the Echo option of RFC 9175 (section
 * 2.4, "the server MAY use Echo to verify the client's source address"). The server answers 4.01
 * Unauthorized carrying an Echo value bound to the sender's IP address and the current time
 * slice; a client that repeats its request with that value (RFC 9175 2.3: a client receiving 4.01
 * with Echo repeats the request with the option; libcoap does) has received a datagram at that
 * address, which a sender of forged datagrams never does.
 *
 * <p>Value: 8 bytes of the time slice number ({@link #SLICE_MILLIS}) then the first 8 bytes of
 * HMAC-SHA256(slice, address) under a key random per process (16 bytes, within the option's 1-40).
 * Valid in its slice and the next: 30-60 s after it was issued.
 *
 * <p>Thread-safe.
 */
final class EchoChallenge {

  /** Time slice of an Echo value, ms: a value is valid for 30-60 s. */
  static final long SLICE_MILLIS = 30_000;

  private static final int MAC_BYTES = 8;

  private final byte[] key = new byte[32];
  private final LongSupplier clockMillis;

  /** @param clockMillis a clock, ms (e.g. {@code System::currentTimeMillis}) */
  EchoChallenge(LongSupplier clockMillis) {
    new SecureRandom().nextBytes(key);
    this.clockMillis = clockMillis;
  }

  /** The Echo value to send to {@code source} now. */
  byte[] value(InetAddress source) {
    return value(source, clockMillis.getAsLong() / SLICE_MILLIS);
  }

  /**
   * True if {@code request} carries an Echo value this server gave {@code source} in the last
   * 30-60 s.
   */
  boolean proven(Request request, InetAddress source) {
    Option echo = request.getOptions().getOtherOption(StandardOptionRegistry.ECHO);
    if (echo == null || source == null || echo.getLength() != 8 + MAC_BYTES) {
      return false;
    }
    byte[] presented = echo.getValue();
    long slice = ByteBuffer.wrap(presented, 0, 8).getLong();
    long now = clockMillis.getAsLong() / SLICE_MILLIS;
    return (slice == now || slice == now - 1) && MessageDigest.isEqual(presented, value(source, slice));
  }

  /** Adds the Echo value for {@code source} to {@code response}. */
  void challenge(Response response, InetAddress source) {
    response.getOptions().addOtherOption(new Option(StandardOptionRegistry.ECHO, value(source)));
  }

  private byte[] value(InetAddress source, long slice) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      mac.update(ByteBuffer.allocate(8).putLong(slice).array());
      byte[] tag = mac.doFinal(source.getAddress());
      return ByteBuffer.allocate(8 + MAC_BYTES).putLong(slice).put(Arrays.copyOf(tag, MAC_BYTES)).array();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every Java 17 runtime", e);
    }
  }
}
