package io.safegrid.gateway.coap;

import java.net.InetSocketAddress;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.LongSupplier;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.scandium.DtlsDatagramFilter;
import org.eclipse.californium.scandium.dtls.Connection;
import org.eclipse.californium.scandium.dtls.HandshakeException;
import org.eclipse.californium.scandium.dtls.Handshaker;
import org.eclipse.californium.scandium.dtls.Record;
import org.eclipse.californium.scandium.dtls.SessionAdapter;
import org.eclipse.californium.scandium.dtls.SessionListener;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Makes failed CoAPS handshakes visible: each failed handshake counts once in {@code
 * safegrid.coap.rejects{reason=dtls_handshake}} and is logged at WARN with the peer, at most once
 * per peer IP address per minute (a misconfigured device retrying every few seconds does not flood
 * the log).
 *
 * <p>Two Scandium hooks see the failures:
 *
 * <ul>
 *   <li>{@link #datagramFilter}: a record that fails its MAC check while the peer's handshake is
 *       under way. This is how a wrong DTLS PSK shows: the client's Finished is encrypted with keys
 *       derived from its PSK, so the server cannot authenticate it, and DTLS drops such records
 *       silently (RFC 6347 4.1.2.7) instead of answering with an alert. Without this hook the
 *       handshake only expires, unseen.
 *   <li>{@link #sessionListener}: {@code handshakeFailed}, e.g. an unknown PSK identity (alert
 *       {@code UNKNOWN_PSK_IDENTITY}, RFC 4279 2) or a peer that stops mid-handshake (timeout).
 * </ul>
 *
 * <p>A handshake already counted for a MAC error is not counted again when it later fails.
 * Called on Scandium threads; thread-safe.
 */
final class DtlsHandshakeFailures {

  private static final Logger log = LoggerFactory.getLogger(DtlsHandshakeFailures.class);

  /** One log line per peer per this many ms. */
  static final long LOG_INTERVAL_MS = 60_000;
  /** Peers remembered for the log limit before old ones are forgotten. */
  private static final int MAX_PEERS = 10_000;

  private final CoapMetrics metrics;
  private final LongSupplier clock;
  private final Map<String, Long> lastLogged = new ConcurrentHashMap<>();
  /** Handshakes already counted (weak: a handshaker that is dropped is forgotten). */
  private final Set<Handshaker> counted = Collections.synchronizedSet(
      Collections.newSetFromMap(new WeakHashMap<>()));

  DtlsHandshakeFailures(CoapMetrics metrics, LongSupplier clock) {
    this.metrics = metrics;
    this.clock = clock;
  }

  /** For {@code DtlsConnectorConfig.Builder.setSessionListener}. */
  SessionListener sessionListener() {
    return new SessionAdapter() {
      @Override
      public void handshakeFailed(Handshaker handshaker, Throwable error) {
        if (counted.remove(handshaker)) {
          return; // counted and logged at its MAC error
        }
        String why = error instanceof HandshakeException he && he.getAlert() != null
            ? he.getAlert().getDescription().name() + ": " + error.getMessage()
            : String.valueOf(error.getMessage());
        failed(handshaker.getPeerAddress(), why);
      }

      @Override
      public void handshakeCompleted(Handshaker handshaker) {
        counted.remove(handshaker);
      }
    };
  }

  /**
   * For {@code DtlsConnectorConfig.Builder.setDatagramFilter}: Scandium's own filter (its MAC
   * error limits stay as configured) that also reports MAC errors during a handshake.
   */
  DtlsDatagramFilter datagramFilter(Configuration config) {
    return new DtlsDatagramFilter(config) {
      @Override
      public boolean onMacError(Record record, Connection connection) {
        Handshaker h = connection == null ? null : connection.getOngoingHandshake();
        if (h != null && counted.add(h)) {
          failed(connection.getPeerAddress(), "its " + record.getType()
              + " record failed the MAC check during the handshake: the peer's DTLS PSK is not"
              + " the secret of the identity it gave");
        }
        return super.onMacError(record, connection);
      }
    };
  }

  private void failed(InetSocketAddress peer, String why) {
    metrics.reject("dtls_handshake");
    // per IP address, not per port: a device retrying from a new port each time is one peer
    String key = peer == null ? "?" : peer.getAddress().getHostAddress();
    if (shouldLog(key, clock.getAsLong())) {
      log.warn("CoAPS DTLS handshake with {} failed: {} (failures are counted in "
          + "safegrid.coap.rejects{reason=dtls_handshake}; logged at most once a minute per peer"
          + " address)", peer, why);
    }
  }

  /** True at most once per {@link #LOG_INTERVAL_MS} per peer. */
  boolean shouldLog(String peer, long nowMillis) {
    if (lastLogged.size() > MAX_PEERS) {
      lastLogged.values().removeIf(t -> nowMillis - t >= LOG_INTERVAL_MS);
    }
    boolean[] log = {false};
    lastLogged.compute(peer, (k, last) -> {
      if (last == null || nowMillis - last >= LOG_INTERVAL_MS) {
        log[0] = true;
        return nowMillis;
      }
      return last;
    });
    return log[0];
  }
}
