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

  @Override
  default void close() {}
}
