package io.safegrid.gateway.coap;

import io.safegrid.model.DeviceType;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.Principal;
import java.util.EnumSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import org.eclipse.californium.core.coap.Option;
import org.eclipse.californium.core.coap.Request;
import org.eclipse.californium.elements.auth.PreSharedKeyIdentity;

/**
 * Decides whether a request may post to {@code /devices/{id}/...}.
 *
 * <ul>
 *   <li>CoAPS: the DTLS PSK identity (already proven by the handshake) must be the path's id, else
 *       {@link Verdict#FOREIGN_RESOURCE} (4.03).
 *   <li>Plain CoAP: the request must carry the path device's secret ({@link DeviceSecretOption}:
 *       option 65003, or query {@code ?s=}); missing, unknown device or wrong secret is {@link
 *       Verdict#UNAUTHORIZED} (4.01). Since plain CoAP has no identity but the path, posting to
 *       another device's path with one's own secret is also 4.01. Then the device's type must be
 *       allowed on plain CoAP ({@code coap.plain_allowed_types}), else {@link
 *       Verdict#PLAIN_NOT_ALLOWED} (4.03).
 * </ul>
 */
final class DeviceAuthenticator {

  /** Outcome of {@link #check}. */
  enum Verdict {
    OK,
    UNAUTHORIZED,
    FOREIGN_RESOURCE,
    PLAIN_NOT_ALLOWED
  }

  private final Function<String, Optional<byte[]>> secretLookup;
  private final Function<String, Optional<DeviceType>> typeLookup;
  private final Set<DeviceType> plainAllowed;

  DeviceAuthenticator(
      Function<String, Optional<byte[]>> secretLookup,
      Function<String, Optional<DeviceType>> typeLookup,
      Set<DeviceType> plainAllowed) {
    this.secretLookup = Objects.requireNonNull(secretLookup, "secretLookup");
    this.typeLookup = Objects.requireNonNull(typeLookup, "typeLookup");
    this.plainAllowed =
        plainAllowed.isEmpty() ? EnumSet.noneOf(DeviceType.class) : EnumSet.copyOf(plainAllowed);
  }

  Verdict check(Request request, String pathDeviceId) {
    Principal peer =
        request.getSourceContext() == null ? null : request.getSourceContext().getPeerIdentity();
    if (peer instanceof PreSharedKeyIdentity psk) {
      return psk.getIdentity().equals(pathDeviceId) ? Verdict.OK : Verdict.FOREIGN_RESOURCE;
    }
    if (peer != null) {
      return Verdict.UNAUTHORIZED; // a DTLS identity we do not issue (certificate, RPK)
    }
    byte[] presented = presentedSecret(request);
    if (presented == null) {
      return Verdict.UNAUTHORIZED;
    }
    Optional<byte[]> expected = secretLookup.apply(pathDeviceId);
    if (expected.isEmpty()
        || expected.get().length == 0
        || !MessageDigest.isEqual(expected.get(), presented)) {
      return Verdict.UNAUTHORIZED;
    }
    Optional<DeviceType> type = typeLookup.apply(pathDeviceId);
    boolean allowed =
        type.map(plainAllowed::contains)
            .orElse(plainAllowed.size() == DeviceType.values().length);
    return allowed ? Verdict.OK : Verdict.PLAIN_NOT_ALLOWED;
  }

  /** The DTLS PSK identity of a CoAPS request (the proven device id), or null on plain CoAP. */
  static String pskIdentity(Request request) {
    Principal peer =
        request.getSourceContext() == null ? null : request.getSourceContext().getPeerIdentity();
    return peer instanceof PreSharedKeyIdentity psk ? psk.getIdentity() : null;
  }

  /** The secret from option 65003, else from the query {@code s=}, else null. */
  static byte[] presentedSecret(Request request) {
    Option option = request.getOptions().getOtherOption(DeviceSecretOption.NUMBER);
    if (option != null) {
      return option.getValue();
    }
    for (String query : request.getOptions().getUriQuery()) {
      if (query.startsWith(DeviceSecretOption.QUERY_PARAMETER + "=")) {
        return query
            .substring(DeviceSecretOption.QUERY_PARAMETER.length() + 1)
            .getBytes(StandardCharsets.UTF_8);
      }
    }
    return null;
  }
}
