package io.safegrid.gateway.storage;

import io.safegrid.model.DeviceEvent;
import io.safegrid.model.Reading;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads what a previous gateway process left in the spool (it stopped or crashed while the
 * database was unreachable, or while the spool was still being replayed), without replaying or
 * deleting anything: the {@link TimescaleReadingStore} opened afterwards on the same directory
 * replays it into the database.
 *
 * <p>Why: every reading and event in the spool got its PUBACK (or CoAP 2.04) from the previous
 * process, whose rule engine judged it, but the alarm transitions it decided lived only in that
 * process's memory while the ledger (the same database) was unreachable. A new process restores
 * the rule engine from the database, which does not hold the spooled rows yet; so the gateway
 * hands them to the rule engine itself, in the order they were spooled, before the spool is
 * replayed (docs/storage.md "Spool", docs/alerting.md "Database outage").
 *
 * <p>Only what is <b>not already stored</b> is handed on (review7 R2). The committed replay
 * position is not kept across processes, so the oldest segment is read from its start and may
 * hold rows the previous process had already replayed into the database, after its alarm writer
 * had applied (and an officer perhaps cleared and closed) their alarms: judged again, a past fire
 * or leak would be raised again and call the rescue chain out. The database is asked, in groups
 * of up to {@value #CHECK_READINGS} readings: a reading is stored when {@code readings} holds its
 * (device, metric, time) with the same value (as {@code BatchWriter}'s resend probe asks), an
 * event when {@code device_events} holds its de-dup key (device, time, event, zone, point). The
 * database's committed rows are the one record of what a replay finished, so this holds whatever
 * the moment of the crash (a replay position kept in a file would lag its commit by an fsync).
 * When the question fails (the database went away again) everything of that group is handed on,
 * as before: a repeated alarm is better than a lost one.
 *
 * <p>What is read is exactly what a replay would write: records from the start of the oldest
 * segment, torn or corrupt records skipped with the spool's own warning, dead letters left out.
 */
public final class LeftoverSpool {

  private static final Logger log = LoggerFactory.getLogger(LeftoverSpool.class);

  /** Readings asked about in one query (and most held in memory before they are handed on). */
  static final int CHECK_READINGS = 5_000;
  /** Messages and events held before they are asked about, whatever their readings. */
  private static final int CHECK_ITEMS = 1_000;

  private static final String STORED_READINGS_SQL =
      "SELECT s.d, s.m, s.ms, s.v FROM unnest(?::text[], ?::text[], ?::bigint[], ?::float8[])"
          + " AS s(d, m, ms, v) WHERE EXISTS (SELECT 1 FROM readings x WHERE x.device_id = s.d"
          + " AND x.metric = s.m AND x.time = timestamptz 'epoch' + s.ms * interval '1 millisecond'"
          + " AND x.value = s.v)";
  private static final String STORED_EVENTS_SQL =
      "SELECT s.d, s.ms, s.e, s.z, s.p FROM unnest(?::text[], ?::bigint[], ?::text[], ?::int[],"
          + " ?::int[]) AS s(d, ms, e, z, p) WHERE EXISTS (SELECT 1 FROM device_events x"
          + " WHERE x.device_id = s.d AND x.time = timestamptz 'epoch' + s.ms * interval '1 millisecond'"
          + " AND x.event = s.e AND x.zone IS NOT DISTINCT FROM s.z AND x.point IS NOT DISTINCT FROM s.p)";

  /** Told of each spooled message not yet stored, oldest first. Called on the reading thread. */
  public interface Visitor {

    /**
     * Readings of one message (one MQTT PUBLISH or CoAP request), in payload order, those already
     * stored left out (never an empty list).
     *
     * @param message the readings
     * @param spooledAtMillis when the previous process appended them to the spool (its clock, epoch
     *     ms): about when they arrived, whatever the device's clock said
     */
    void readings(List<Reading> message, long spooledAtMillis);

    /**
     * One device event not yet stored.
     *
     * @param event the event
     * @param spooledAtMillis when the previous process appended it to the spool (epoch ms)
     */
    void event(DeviceEvent event, long spooledAtMillis);
  }

  /**
   * What was read.
   *
   * @param records spool records read (one record holds one fsync group of submissions)
   * @param messages messages of readings handed on (with at least one reading not yet stored)
   * @param readings readings handed on
   * @param events device events handed on
   * @param unreadable records that could not be decoded (logged; the replay skips them too)
   * @param storedReadings readings left out: already in {@code readings}
   * @param storedEvents events left out: already in {@code device_events}
   * @param uncheckedGroups groups handed on whole because the database could not be asked
   */
  public record Summary(int records, int messages, int readings, int events, int unreadable,
      int storedReadings, int storedEvents, int uncheckedGroups) {

    /** True when nothing was left. */
    public boolean isEmpty() {
      return records == 0;
    }

    private static Summary empty() {
      return new Summary(0, 0, 0, 0, 0, 0, 0, 0);
    }
  }

  private LeftoverSpool() {}

  /**
   * Reads every record left in {@code spoolDir} and hands to {@code visitor}, oldest first, what
   * {@code database} does not hold yet. Takes the spool directory's lock for the duration (so no
   * other process may be spooling there) and releases it before returning. A directory that does
   * not exist or holds no segment is an empty spool.
   *
   * @param spoolDir the store's spool directory ({@code storage.spool_dir})
   * @param database the database the spool is replayed into, asked which rows it holds already;
   *     null to hand on everything
   * @param visitor told of each message and event not yet stored
   * @return counts of what was handed on and left out
   * @throws IOException when the directory cannot be read, or another process holds its lock
   * @throws RuntimeException whatever {@code visitor} throws (the spool is left as it was)
   */
  public static Summary read(Path spoolDir, DataSource database, Visitor visitor)
      throws IOException {
    if (!Files.isDirectory(spoolDir)) {
      return Summary.empty();
    }
    int records = 0;
    int unreadable = 0;
    Filter filter = new Filter(database, visitor);
    try (Spool spool = Spool.open(spoolDir, Long.MAX_VALUE, Long.MAX_VALUE)) {
      if (spool.isDrained()) {
        return Summary.empty();
      }
      Spool.Cursor cursor = spool.cursor();
      for (byte[] body; (body = cursor.next()) != null; ) {
        records++;
        long at = cursor.appendedAtMillis();
        try {
          SpoolCodec.visit(body, message -> filter.message(message, at),
              event -> filter.event(event, at), deadLetter -> { });
        } catch (IllegalArgumentException e) {
          unreadable++;
          log.error("spool record at {} cannot be decoded, not judged: {}", cursor.position(),
              e.getMessage());
        }
      }
      filter.flush();
    }
    return new Summary(records, filter.messages, filter.readings, filter.events, unreadable,
        filter.storedReadings, filter.storedEvents, filter.unchecked);
  }

  /** (device, metric, time, value bits) of a reading, as the resend probe compares them. */
  private record ReadingKey(String device, String metric, long timeMillis, long valueBits) {
    static ReadingKey of(Reading r) {
      return new ReadingKey(r.deviceId(), r.metric(), r.timeMillis(),
          Double.doubleToLongBits(r.value()));
    }
  }

  /** {@code device_events}' de-dup key. */
  private record EventKey(String device, long timeMillis, String event, Integer zone, Integer point) {
    static EventKey of(DeviceEvent e) {
      return new EventKey(e.deviceId(), e.timeMillis(), e.event(), e.zone(), e.point());
    }
  }

  /** A spooled message or event waiting for the database's answer, in spool order. */
  private record Item(List<Reading> message, DeviceEvent event, long spooledAtMillis) {}

  /** Holds a group of items, asks the database about them, hands on what it does not hold. */
  private static final class Filter {
    private final DataSource database;
    private final Visitor visitor;
    private final List<Item> held = new ArrayList<>();
    private int heldReadings;
    int messages;
    int readings;
    int events;
    int storedReadings;
    int storedEvents;
    int unchecked;

    Filter(DataSource database, Visitor visitor) {
      this.database = database;
      this.visitor = visitor;
    }

    void message(List<Reading> message, long at) {
      if (message.isEmpty()) {
        return;
      }
      held.add(new Item(message, null, at));
      heldReadings += message.size();
      if (heldReadings >= CHECK_READINGS || held.size() >= CHECK_ITEMS) {
        flush();
      }
    }

    void event(DeviceEvent event, long at) {
      held.add(new Item(null, event, at));
      if (held.size() >= CHECK_ITEMS) {
        flush();
      }
    }

    void flush() {
      if (held.isEmpty()) {
        return;
      }
      Set<ReadingKey> storedR = Set.of();
      Set<EventKey> storedE = Set.of();
      if (database != null) {
        try (Connection c = database.getConnection()) {
          storedR = storedReadings(c, held);
          storedE = storedEvents(c, held);
        } catch (SQLException e) {
          unchecked++;
          storedR = Set.of();
          storedE = Set.of();
          log.error("cannot ask the database which of {} spooled reading(s) are stored already:"
              + " judging them all again (alarms they raised before may be raised again): {}",
              heldReadings, e.getMessage());
        }
      }
      for (Item item : held) {
        if (item.event() != null) {
          if (storedE.contains(EventKey.of(item.event()))) {
            storedEvents++;
          } else {
            events++;
            visitor.event(item.event(), item.spooledAtMillis());
          }
          continue;
        }
        List<Reading> fresh = item.message();
        if (!storedR.isEmpty()) {
          fresh = new ArrayList<>(item.message().size());
          for (Reading r : item.message()) {
            if (storedR.contains(ReadingKey.of(r))) {
              storedReadings++;
            } else {
              fresh.add(r);
            }
          }
        }
        if (!fresh.isEmpty()) {
          messages++;
          readings += fresh.size();
          visitor.readings(fresh, item.spooledAtMillis());
        }
      }
      held.clear();
      heldReadings = 0;
    }

    private static Set<ReadingKey> storedReadings(Connection c, List<Item> items)
        throws SQLException {
      List<Reading> all = new ArrayList<>();
      for (Item item : items) {
        if (item.message() != null) {
          all.addAll(item.message());
        }
      }
      if (all.isEmpty()) {
        return Set.of();
      }
      String[] devices = new String[all.size()];
      String[] metrics = new String[all.size()];
      Long[] times = new Long[all.size()];
      Double[] values = new Double[all.size()];
      for (int i = 0; i < all.size(); i++) {
        Reading r = all.get(i);
        devices[i] = r.deviceId();
        metrics[i] = r.metric();
        times[i] = r.timeMillis();
        values[i] = r.value();
      }
      Set<ReadingKey> found = new HashSet<>();
      try (PreparedStatement ps = c.prepareStatement(STORED_READINGS_SQL)) {
        bind(c, ps, 1, "text", devices);
        bind(c, ps, 2, "text", metrics);
        bind(c, ps, 3, "int8", times);
        bind(c, ps, 4, "float8", values);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            found.add(new ReadingKey(rs.getString(1), rs.getString(2), rs.getLong(3),
                Double.doubleToLongBits(rs.getDouble(4))));
          }
        }
      }
      return found;
    }

    private static Set<EventKey> storedEvents(Connection c, List<Item> items) throws SQLException {
      List<DeviceEvent> all = new ArrayList<>();
      for (Item item : items) {
        if (item.event() != null) {
          all.add(item.event());
        }
      }
      if (all.isEmpty()) {
        return Set.of();
      }
      String[] devices = new String[all.size()];
      Long[] times = new Long[all.size()];
      String[] names = new String[all.size()];
      Integer[] zones = new Integer[all.size()];
      Integer[] points = new Integer[all.size()];
      for (int i = 0; i < all.size(); i++) {
        DeviceEvent e = all.get(i);
        devices[i] = e.deviceId();
        times[i] = e.timeMillis();
        names[i] = e.event();
        zones[i] = e.zone();
        points[i] = e.point();
      }
      Set<EventKey> found = new HashSet<>();
      try (PreparedStatement ps = c.prepareStatement(STORED_EVENTS_SQL)) {
        bind(c, ps, 1, "text", devices);
        bind(c, ps, 2, "int8", times);
        bind(c, ps, 3, "text", names);
        bind(c, ps, 4, "int4", zones);
        bind(c, ps, 5, "int4", points);
        try (ResultSet rs = ps.executeQuery()) {
          while (rs.next()) {
            found.add(new EventKey(rs.getString(1), rs.getLong(2), rs.getString(3),
                (Integer) rs.getObject(4), (Integer) rs.getObject(5)));
          }
        }
      }
      return found;
    }

    private static void bind(Connection c, PreparedStatement ps, int i, String type, Object[] values)
        throws SQLException {
      Array a = c.createArrayOf(type, values);
      ps.setArray(i, a);
    }
  }
}
