package io.safegrid.gateway.config;

/**
 * The configuration cannot be used. The message reads {@code FILE:LINE: FIELD: what is wrong},
 * e.g. {@code config/dongnan.yaml:212: devices[4].type: unknown device type 'gaz_alarm'}.
 */
public class ConfigException extends RuntimeException {

  private final String file;
  private final int line;
  private final String field;
  private final String problem;

  /**
   * @param file the file (or environment variable name) the error is in
   * @param line 1-based line, or 0 when unknown
   * @param field the field path, e.g. {@code devices[4].type}, or null
   * @param problem what is wrong
   * @param cause the underlying error, or null
   */
  public ConfigException(String file, int line, String field, String problem, Throwable cause) {
    super(format(file, line, field, problem), cause);
    this.file = file;
    this.line = line;
    this.field = field;
    this.problem = problem;
  }

  private static String format(String file, int line, String field, String problem) {
    StringBuilder sb = new StringBuilder(file);
    if (line > 0) {
      sb.append(':').append(line);
    }
    sb.append(": ");
    if (field != null && !field.isEmpty()) {
      sb.append(field).append(": ");
    }
    return sb.append(problem).toString();
  }

  /** The file (or environment variable) the error is in. */
  public String file() {
    return file;
  }

  /** 1-based line, 0 when unknown. */
  public int line() {
    return line;
  }

  /** The field path, e.g. {@code devices[4].type}; may be null. */
  public String field() {
    return field;
  }

  /** What is wrong, without the location. */
  public String problem() {
    return problem;
  }
}
