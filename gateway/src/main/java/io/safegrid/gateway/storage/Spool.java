package io.safegrid.gateway.storage;

import java.io.Closeable;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The local append-only spool: where batches go while the database is unreachable.
 *
 * <p>A directory of segment files {@code seg-<20 digits>.spool}, replayed oldest first. A record
 * is {@code int length, int crc32c, long appendedAtMillis, body}; {@code length} counts the bytes
 * after the CRC field and the CRC32C covers them. Appends are made durable by {@link #sync()}
 * ({@code fsync} of the segment, and of the directory when a segment was created), called once per
 * group of appends. A record cut short by a crash (kill -9 or power loss mid-write) fails its
 * length or CRC check and is ignored with a warning: it was never fsync'd, so never acknowledged.
 * Segments are deleted only after {@link #commit} (the caller has committed their content).
 *
 * <p>A lock file keeps a second process off the same directory. Not thread-safe: used by the
 * store's writer thread only; {@link #unreplayedBytes()} and {@link #oldestUnreplayedMillis()} may
 * be read from any thread.
 */
final class Spool implements Closeable {
  private static final Logger log = LoggerFactory.getLogger(Spool.class);
  static final int HEADER = 16;
  private static final int MAX_RECORD = 256 << 20;

  private static final class Segment {
    final long seq;
    final Path path;
    long size;

    Segment(long seq, Path path, long size) {
      this.seq = seq;
      this.path = path;
      this.size = size;
    }
  }

  /** A read position: segment sequence number and byte offset in it. */
  record Position(long seq, long offset) {}

  private final Path dir;
  private final long maxBytes;
  private final long segmentBytes;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final ArrayDeque<Segment> segments = new ArrayDeque<>();
  private long nextSeq;
  private FileChannel active;
  private Segment activeSegment;
  private boolean dirDirty;
  private long readOffset;
  private FileChannel reader;
  private long readerSeq = -1;
  private long totalBytes;
  private volatile long unreplayed;
  private volatile long oldestMillis;

  private Spool(Path dir, long maxBytes, long segmentBytes) throws IOException {
    this.dir = dir;
    this.maxBytes = maxBytes;
    this.segmentBytes = segmentBytes;
    Files.createDirectories(dir);
    lockChannel = FileChannel.open(dir.resolve("lock"), StandardOpenOption.CREATE,
        StandardOpenOption.WRITE);
    FileLock held;
    try {
      held = lockChannel.tryLock();
    } catch (java.nio.channels.OverlappingFileLockException e) {
      held = null; // this JVM already holds it (a second store on the same directory)
    }
    lock = held;
    if (lock == null) {
      lockChannel.close();
      throw new IOException("spool directory in use by another process (another gateway running"
          + " with the same storage.spool_dir? stop it, or give this one its own spool_dir): " + dir);
    }
    List<Segment> found = new ArrayList<>();
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, "seg-*.spool")) {
      for (Path p : ds) {
        String name = p.getFileName().toString();
        long seq = Long.parseLong(name.substring(4, name.length() - 6));
        found.add(new Segment(seq, p, Files.size(p)));
      }
    }
    found.sort((a, b) -> Long.compare(a.seq, b.seq));
    for (Segment s : found) {
      segments.add(s);
      totalBytes += s.size;
      nextSeq = s.seq + 1;
    }
    refreshGauges();
  }

  /** Opens (creating if needed) the spool in {@code dir}. */
  static Spool open(Path dir, long maxBytes, long segmentBytes) throws IOException {
    return new Spool(dir, maxBytes, segmentBytes);
  }

  /** True when a record of this body length fits under the bound. */
  boolean fits(int bodyLength) {
    return totalBytes + HEADER + bodyLength <= maxBytes;
  }

  /** Bytes on disk, replayed or not, that count against the bound. */
  long bytesOnDisk() {
    return totalBytes;
  }

  long maxBytes() {
    return maxBytes;
  }

  /** Appends one record; durable only after {@link #sync()}. */
  void append(byte[] body, int length, long appendedAtMillis) throws IOException {
    if (active == null) {
      Path p = dir.resolve(String.format("seg-%020d.spool", nextSeq));
      active = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
      activeSegment = new Segment(nextSeq++, p, 0);
      segments.add(activeSegment);
      dirDirty = true;
    }
    CRC32C crc = new CRC32C();
    ByteBuffer header = ByteBuffer.allocate(HEADER);
    header.putInt(0, length + 8).putLong(8, appendedAtMillis);
    crc.update(header.array(), 8, 8);
    crc.update(body, 0, length);
    header.putInt(4, (int) crc.getValue());
    ByteBuffer[] bufs = {header, ByteBuffer.wrap(body, 0, length)};
    long want = HEADER + length;
    long wrote = 0;
    try {
      while (wrote < want) wrote += active.write(bufs);
    } catch (IOException e) {
      // Part of the record may be in the file: append nothing more after it. The reader will
      // find it torn and ignore it; what follows goes to a new segment.
      closeActive();
      throw e;
    }
    boolean wasDrained = isDrained();
    activeSegment.size += want;
    totalBytes += want;
    if (wasDrained) oldestMillis = appendedAtMillis;
    unreplayed += want;
  }

  /** fsync: what was appended is durable once this returns. Rotates a full segment. */
  void sync() throws IOException {
    if (active == null) return;
    try {
      active.force(false);
    } catch (IOException e) {
      closeActive(); // not known durable: nothing more is appended to this segment
      throw e;
    }
    if (dirDirty) {
      try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
        d.force(true);
      } catch (IOException e) {
        log.debug("directory fsync not supported here: {}", e.toString());
      }
      dirDirty = false;
    }
    if (activeSegment.size >= segmentBytes) closeActive();
  }

  private void closeActive() throws IOException {
    if (active != null) {
      active.close();
      active = null;
      activeSegment = null;
    }
  }

  /** True when every record has been replayed (committed with {@link #commit}). */
  boolean isDrained() {
    if (segments.isEmpty()) return true;
    return segments.size() == 1 && readOffset >= segments.peekFirst().size;
  }

  /** A cursor from the committed read position; reading does not move that position. */
  Cursor cursor() {
    return new Cursor();
  }

  /** Reads records in order from the committed position. */
  final class Cursor {
    private final ArrayList<Segment> order = new ArrayList<>(segments);
    private int index;
    private long offset = readOffset;
    private long appendedAt;

    /** The next record's body, or null at the end of what was appended. */
    byte[] next() throws IOException {
      while (index < order.size()) {
        Segment s = order.get(index);
        if (offset + HEADER <= s.size) {
          FileChannel ch = readerFor(s);
          ByteBuffer header = ByteBuffer.allocate(HEADER);
          readFully(ch, header, offset);
          int length = header.getInt(0);
          int crcValue = header.getInt(4);
          if (length >= 8 && length - 8 <= MAX_RECORD && offset + 8 + length <= s.size) {
            byte[] body = new byte[length - 8];
            readFully(ch, ByteBuffer.wrap(body), offset + HEADER);
            CRC32C crc = new CRC32C();
            crc.update(header.array(), 8, 8);
            crc.update(body);
            if ((int) crc.getValue() == crcValue) {
              offset += HEADER + body.length;
              appendedAt = header.getLong(8);
              return body;
            }
          }
          log.warn("spool segment {}: record at offset {} is torn or corrupt (cut short by a crash"
              + " before its fsync, so never acknowledged); ignoring the {} bytes after it",
              s.path.getFileName(), offset, s.size - offset);
          offset = s.size;
        } else if (offset < s.size) {
          log.warn("spool segment {}: {} bytes of a torn header at its end ignored",
              s.path.getFileName(), s.size - offset);
          offset = s.size;
        }
        if (index + 1 < order.size()) {
          index++;
          offset = 0;
        } else {
          return null;
        }
      }
      return null;
    }

    /** When the record {@link #next()} returned last was appended (epoch ms, the appender's clock). */
    long appendedAtMillis() {
      return appendedAt;
    }

    Position position() {
      return order.isEmpty() ? new Position(-1, 0) : new Position(order.get(index).seq, offset);
    }
  }

  private FileChannel readerFor(Segment s) throws IOException {
    if (readerSeq != s.seq) {
      if (reader != null) reader.close();
      reader = FileChannel.open(s.path, StandardOpenOption.READ);
      readerSeq = s.seq;
    }
    return reader;
  }

  private static void readFully(FileChannel ch, ByteBuffer b, long pos) throws IOException {
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) throw new IOException("unexpected end of spool segment");
    }
  }

  /**
   * Records up to {@code p} are committed to the database: deletes segments wholly before it, and
   * when nothing is left, the last segment too (the next append starts a new one).
   */
  void commit(Position p) throws IOException {
    if (p.seq() < 0) return;
    while (!segments.isEmpty() && segments.peekFirst().seq < p.seq()) delete(segments.pollFirst());
    readOffset = p.offset();
    if (isDrained() && !segments.isEmpty()) {
      Segment last = segments.pollFirst();
      if (last == activeSegment) closeActive();
      delete(last);
      readOffset = 0;
    }
    refreshGauges();
  }

  private void delete(Segment s) throws IOException {
    if (readerSeq == s.seq) {
      reader.close();
      reader = null;
      readerSeq = -1;
    }
    Files.deleteIfExists(s.path);
    totalBytes -= s.size;
  }

  private void refreshGauges() {
    unreplayed = totalBytes - (segments.isEmpty() ? 0 : readOffset);
    oldestMillis = 0;
    if (isDrained()) return;
    try {
      Cursor c = new Cursor();
      Segment s = segments.peekFirst();
      long off = readOffset;
      if (off + HEADER > s.size && segments.size() > 1) {
        c.index = 1;
        c.offset = 0;
        s = c.order.get(1);
        off = 0;
      }
      if (off + HEADER <= s.size) {
        ByteBuffer header = ByteBuffer.allocate(HEADER);
        readFully(readerFor(s), header, off);
        oldestMillis = header.getLong(8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Bytes appended and not yet committed as replayed. */
  long unreplayedBytes() {
    return unreplayed;
  }

  /** When the oldest unreplayed record was appended (epoch ms), or 0 when drained. */
  long oldestUnreplayedMillis() {
    return oldestMillis;
  }

  @Override
  public void close() throws IOException {
    closeActive();
    if (reader != null) reader.close();
    lock.release();
    lockChannel.close();
  }
}
