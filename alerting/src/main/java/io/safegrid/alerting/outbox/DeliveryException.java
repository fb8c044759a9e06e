package io.safegrid.alerting.outbox;

/** A channel could not deliver a message; the reason goes to {@code outbox.last_error}. */
public class DeliveryException extends Exception {
  public DeliveryException(String message) {
    super(message);
  }

  public DeliveryException(String message, Throwable cause) {
    super(message, cause);
  }
}
