package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what a previous gateway process left in the spool (it stopped or crashed while the
 * database was unreachable), without replaying or deleting anything: the {@link
 * TimescaleReadingStore} opened afterwards on the same directory replays it into the database.
 *
 * <p>Why: every reading and event in the spool got its PUBACK (or CoAP 2.04) from the previous
 * process, whose rule engine judged it, but the alarm transitions it decided lived only in that
 * process's memory while the ledger (the same database) was unreachable. A new process restores
 * the rule engine from the database, which does not hold the spooled rows yet; so the gateway
 * hands them to the rule engine itself, in the order they were spooled, before the spool is
 * replayed (docs/storage.md "Spool", docs/alerting.md "Database outage").
 *
 * <p>What is read is exactly what a replay would write: records from the start of the oldest
 * segment (the committed position is not kept across processes, so the first segment may hold
 * rows already in the database; the rule engine takes those for resends), torn or corrupt records
 * skipped with the spool's own warning, dead letters left out.
 */
public final class LeftoverSpool {

  private static final Logger log = LoggerFactory.getLogger(LeftoverSpool.class);

  /** Told of each spooled message, oldest first. Called on the reading thread. */
  public interface Visitor {

    /** Readings of one message (one MQTT PUBLISH or CoAP request), in payload order. */
    void readings(List<Reading> message);

    /** One device event. */
    void event(DeviceEvent event);
  }

  /**
   * What was read.
   *
   * @param records spool records read (one record holds one fsync group of submissions)
   * @param messages messages of readings handed on
   * @param readings readings handed on
   * @param events device events handed on
   * @param unreadable records that could not be decoded (logged; the replay skips them too)
   */
  public record Summary(int records, int messages, int readings, int events, int unreadable) {

    /** True when nothing was left. */
    public boolean isEmpty() {
      return records == 0;
    }
  }

  private LeftoverSpool() {}

  /**
   * Reads every record left in {@code spoolDir} and hands its content to {@code visitor}, oldest
   * first. Takes the spool directory's lock for the duration (so no other process may be spooling
   * there) and releases it before returning. A directory that does not exist or holds no segment
   * is an empty spool.
   *
   * @param spoolDir the store's spool directory ({@code storage.spool_dir})
   * @param visitor told of each message and event
   * @return counts of what was handed on
   * @throws IOException when the directory cannot be read, or another process holds its lock
   * @throws RuntimeException whatever {@code visitor} throws (the spool is left as it was)
   */
  public static Summary read(Path spoolDir, Visitor visitor) throws IOException {
    if (!Files.isDirectory(spoolDir)) {
      return new Summary(0, 0, 0, 0, 0);
    }
    int records = 0;
    int[] counts = new int[3]; // messages, readings, events
    int unreadable = 0;
    try (Spool spool = Spool.open(spoolDir, Long.MAX_VALUE, Long.MAX_VALUE)) {
      if (spool.isDrained()) {
        return new Summary(0, 0, 0, 0, 0);
      }
      Spool.Cursor cursor = spool.cursor();
      for (byte[] body; (body = cursor.next()) != null; ) {
        records++;
        try {
          SpoolCodec.visit(body,
              message -> {
                counts[0]++;
                counts[1] += message.size();
                visitor.readings(message);
              },
              event -> {
                counts[2]++;
                visitor.event(event);
              },
              deadLetter -> { });
        } catch (IllegalArgumentException e) {
          unreadable++;
          log.error("spool record at {} cannot be decoded, not judged: {}", cursor.position(),
              e.getMessage());
        }
      }
    }
    return new Summary(records, counts[0], counts[1], counts[2], unreadable);
  }
}
