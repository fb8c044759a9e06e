package io.safegrid.dashboard.live;

/**
 * One server-sent event, serialised once and shared by every client.
 *
 * @param event the SSE event name: {@code alarm}, {@code device}, {@code reading}, a control
 *     frame's ({@code reset}, {@code dropped}, {@code unconfirmed}, {@code annunciation}), or null for a
 *     comment (keepalive)
 * @param alarmEventId for {@code alarm}: the {@code alarm_events} id, written as the SSE {@code
 *     id:}; 0 for the others, which carry no {@code id:} so they never move the browser's {@code
 *     Last-Event-ID}
 * @param deviceId for {@code reading}: the device, used by the per-client filter; else null
 * @param frame the complete SSE frame text, ending with a blank line
 * @param createdAtNanos {@link System#nanoTime()} when it was made (fanned out), for the
 *     {@code safegrid.live.write.delay} timer
 */
public record LiveEvent(String event, long alarmEventId, String deviceId, String frame, long createdAtNanos) {

  private LiveEvent(String event, long alarmEventId, String deviceId, String frame) {
    this(event, alarmEventId, deviceId, frame, System.nanoTime());
  }

  /** An alarm event frame with {@code id:}: {@code id: <id>\nevent: alarm\ndata: <json>\n\n}. */
  static LiveEvent alarm(long id, String json) {
    return new LiveEvent("alarm", id, null, "id: " + id + "\nevent: alarm\ndata: " + json + "\n\n");
  }

  /** A device online/offline frame, no id. */
  static LiveEvent device(String deviceId, String json) {
    return new LiveEvent("device", 0, deviceId, "event: device\ndata: " + json + "\n\n");
  }

  /** A reading frame, no id. */
  static LiveEvent reading(String deviceId, String json) {
    return new LiveEvent("reading", 0, deviceId, "event: reading\ndata: " + json + "\n\n");
  }

  /**
   * A named control frame ({@code reset}, {@code dropped}, {@code hello}, {@code unconfirmed},
   * {@code annunciation}), no id.
   */
  static LiveEvent control(String event, String json) {
    return new LiveEvent(event, 0, null, "event: " + event + "\ndata: " + json + "\n\n");
  }

  /** A comment line, ignored by EventSource; keeps idle connections alive. */
  static LiveEvent comment(String text) {
    return new LiveEvent(null, 0, null, ": " + text + "\n\n");
  }

  boolean isAlarm() {
    return alarmEventId > 0;
  }
}
