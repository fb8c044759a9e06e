package io.safegrid.gateway.coap;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import javax.crypto.SecretKey;
import org.eclipse.californium.scandium.dtls.ConnectionId;
import org.eclipse.californium.scandium.dtls.HandshakeResultHandler;
import org.eclipse.californium.scandium.dtls.PskPublicInformation;
import org.eclipse.californium.scandium.dtls.PskSecretResult;
import org.eclipse.californium.scandium.dtls.pskstore.AdvancedPskStore;
import org.eclipse.californium.scandium.util.SecretUtil;
import org.eclipse.californium.scandium.util.ServerNames;

/**
 * Server side DTLS PSK store: the PSK identity is the device id, the key is the device's secret
 * (RFC 4279; contract "CoAP"). An unknown identity yields no secret, so the handshake fails with
 * an {@code unknown_psk_identity} alert; a wrong key fails at the Finished message.
 *
 * <p>The lookup runs on a Scandium handshake thread and must be quick (an in-memory map).
 */
final class SecretPskStore implements AdvancedPskStore {

  private final Function<String, Optional<byte[]>> secretLookup;

  SecretPskStore(Function<String, Optional<byte[]>> secretLookup) {
    this.secretLookup = Objects.requireNonNull(secretLookup, "secretLookup");
  }

  @Override
  public boolean hasEcdhePskSupported() {
    return true;
  }

  @Override
  public PskSecretResult requestPskSecretResult(
      ConnectionId cid,
      ServerNames serverName,
      PskPublicInformation identity,
      String hmacAlgorithm,
      SecretKey otherSecret,
      byte[] seed,
      boolean useExtendedMasterSecret) {
    String deviceId = identity.getPublicInfoAsString();
    SecretKey key =
        secretLookup
            .apply(deviceId)
            .filter(secret -> secret.length > 0)
            .map(secret -> SecretUtil.create(secret, PskSecretResult.ALGORITHM_PSK))
            .orElse(null);
    return new PskSecretResult(cid, identity, key);
  }

  @Override
  public PskPublicInformation getIdentity(InetSocketAddress peerAddress, ServerNames virtualHost) {
    return null; // server only: we never start handshakes
  }

  @Override
  public void setResultHandler(HandshakeResultHandler resultHandler) {
    // answers are synchronous
  }
}
