package io.safegrid.dashboard.http;

/**
 * An error the API answers as {@code {"error": "...", "detail": "..."}} with the given HTTP
 * status: 400 bad input, 401, 403, 404, 409 illegal transition, 503 dependency down.
 */
public class ApiException extends RuntimeException {
  private final int status;
  private final String error;

  /**
   * @param status HTTP status
   * @param error a short, stable, machine-readable code, e.g. {@code bad_time}
   * @param detail a human sentence saying what was wrong and what is expected
   */
  public ApiException(int status, String error, String detail) {
    super(detail, null, false, false);
    this.status = status;
    this.error = error;
  }

  /** A 400 with the given code and detail. */
  public static ApiException badRequest(String error, String detail) {
    return new ApiException(400, error, detail);
  }

  /** A 404. */
  public static ApiException notFound(String detail) {
    return new ApiException(404, "not_found", detail);
  }

  public int status() {
    return status;
  }

  public String error() {
    return error;
  }

  public String detail() {
    return getMessage();
  }
}
