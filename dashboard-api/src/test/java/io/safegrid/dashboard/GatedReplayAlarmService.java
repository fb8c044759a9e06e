package io.safegrid.dashboard;

import io.safegrid.alerting.ledger.Alarm;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.AlarmState;
import io.safegrid.model.AlarmTransition;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The real ledger with one gate: {@link #eventsAfter} (the live stream's replay query) waits until
 * the test opens the gate, so a test can commit events between "subscribed" and "replay read":
 * the seam where a naive resume loses or doubles events.
 */
final class GatedReplayAlarmService implements AlarmService {
  private final AlarmService real;
  final CountDownLatch replayAsked = new CountDownLatch(1);
  final CountDownLatch gate = new CountDownLatch(1);

  GatedReplayAlarmService(AlarmService real) {
    this.real = real;
  }

  @Override
  public List<AlarmEvent> eventsAfter(long afterEventId, int limit) {
    replayAsked.countDown();
    try {
      if (!gate.await(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("gate never opened");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
    return real.eventsAfter(afterEventId, limit);
  }

  @Override
  public Optional<Alarm> apply(AlarmTransition transition) {
    return real.apply(transition);
  }

  @Override
  public Alarm acknowledge(long alarmId, String actor, String note) {
    return real.acknowledge(alarmId, actor, note);
  }

  @Override
  public Alarm close(long alarmId, String actor, String note) {
    return real.close(alarmId, actor, note);
  }

  @Override
  public Optional<Alarm> find(long alarmId) {
    return real.find(alarmId);
  }

  @Override
  public List<AlarmEvent> history(long alarmId) {
    return real.history(alarmId);
  }

  @Override
  public List<Alarm> list(Set<AlarmState> states, int limit, int offset) {
    return real.list(states, limit, offset);
  }

  @Override
  public void addListener(Consumer<AlarmEvent> listener) {
    real.addListener(listener);
  }
}
