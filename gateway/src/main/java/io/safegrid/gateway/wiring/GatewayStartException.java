package io.safegrid.gateway.wiring;

/** A part of the gateway could not start; the message names the part and the cause. */
public class GatewayStartException extends RuntimeException {
  public GatewayStartException(String message, Throwable cause) {
    super(message, cause);
  }
}
