package io.safegrid.alerting.outbox;

/**
 * A way out to the emergency network (MQTT broker, a webhook). Called by the {@link
 * OutboxDispatcher} from one thread; may block up to its own timeout.
 */
public interface Channel extends AutoCloseable {

  /** The outbox channel name: {@code mqtt} or {@code webhook:<name>}. */
  String name();

  /**
   * Delivers one message; returns only when the far side acknowledged it (MQTT PUBACK, HTTP 2xx).
   *
   * @throws DeliveryException when it was not acknowledged (it will be retried with backoff)
   */
  void send(OutboxMessage message) throws DeliveryException;

  /**
   * Whether the channel holds a working connection to its far side: {@code true} connected,
   * {@code false} lost or unreachable at the last try, {@code null} when the channel has no
   * standing connection (a webhook: each message is its own request) or has not tried yet. For
   * {@code GET /api/health}'s {@code notifications} check.
   */
  default Boolean connected() {
    return null;
  }

  /**
   * Called by the dispatcher between delivery rounds: a channel with a standing connection
   * reconnects here (not more often than it chooses) when it has none, so a broker that comes
   * back is found before the next notification, and a broker that is gone is known before one.
   *
   * @return true when this call found the far side back after it had been lost or unreachable
   */
  default boolean keepConnected() {
    return false;
  }

  @Override
  default void close() {}
}
