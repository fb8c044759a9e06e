package io.safegrid.gateway.ingest;

import java.util.List;

/**
 * Outcome of one ingested message.
 *
 * @param status ACCEPTED: all stored; PARTIAL: stored, but some fields were rejected (listed);
 *     INVALID: nothing could be decoded, the message is in {@code dead_letters}
 * @param stored number of readings or events stored (after de-duplication they may be fewer rows)
 * @param rejections one human line per rejected field or record, e.g. {@code "gas_lel: NaN is
 *     not a finite number"}; for INVALID the reason
 */
public record IngestResult(Status status, int stored, List<String> rejections) {

  /** See {@link IngestResult}. */
  public enum Status {
    ACCEPTED,
    PARTIAL,
    INVALID
  }

  public IngestResult {
    rejections = List.copyOf(rejections);
  }
}
