package io.safegrid.gateway.storage;

/**
 * The store cannot take more now: the database is unreachable and the local spool is full. The
 * caller must not acknowledge and should push back (stop reading, CoAP 5.03 with Max-Age).
 */
public class StoreOverloadedException extends RuntimeException {
  public StoreOverloadedException(String message) {
    super(message);
  }
}
