package io.safegrid.alerting;

import io.micrometer.core.instrument.MeterRegistry;
import io.safegrid.alerting.channel.mqtt.MqttChannel;
import io.safegrid.alerting.channel.webhook.WebhookChannel;
import io.safegrid.alerting.channel.webhook.WebhookConfig;
import io.safegrid.alerting.escalation.EscalationScheduler;
import io.safegrid.alerting.escalation.Escalator;
import io.safegrid.alerting.ledger.AlarmEvent;
import io.safegrid.alerting.ledger.AlarmService;
import io.safegrid.alerting.ledger.JdbcAlarmLedger;
import io.safegrid.alerting.outbox.Channel;
import io.safegrid.alerting.outbox.ChannelSelector;
import io.safegrid.alerting.outbox.OutboxConfig;
import io.safegrid.alerting.outbox.OutboxDispatcher;
import io.safegrid.alerting.outbox.OutboxWriter;
import io.safegrid.alerting.routing.GridDirectory;
import io.safegrid.alerting.routing.Router;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import javax.sql.DataSource;

/**
 * The alerting module wired together: the ledger ({@link #alarms()}), escalation through the grid,
 * and the outbox with its MQTT and webhook channels. The gateway's composition root builds one:
 *
 * <pre>{@code
 * SchemaMigrator.migrate(dataSource);                       // V1, V2, ... first
 * Alerting alerting = Alerting.create(dataSource, grid, InstantSource.system(),
 *     AlertingConfig.of(MqttChannelConfig.of("tcp://broker:1883")), meterRegistry);
 * alerting.start();
 * AlarmService alarms = alerting.alarms();                  // to the rule engine and dashboard
 * ...
 * alerting.close();                                          // on shutdown
 * }</pre>
 *
 * <p>Threads: {@code safegrid-alarm-events} (listeners), {@code safegrid-escalation} (deadline
 * polling), {@code safegrid-outbox} (delivery). All state is in the database: a new instance on the
 * same database continues pending escalations and deliveries where the old one stopped.
 */
public final class Alerting implements AutoCloseable {
  private final JdbcAlarmLedger ledger;
  private final Escalator escalator;
  private final EscalationScheduler scheduler;
  private final OutboxDispatcher dispatcher;

  private Alerting(JdbcAlarmLedger ledger, Escalator escalator, EscalationScheduler scheduler,
      OutboxDispatcher dispatcher) {
    this.ledger = ledger;
    this.escalator = escalator;
    this.scheduler = scheduler;
    this.dispatcher = dispatcher;
  }

  /**
   * Builds (does not start) the module.
   *
   * @param dataSource a pool on the migrated database (SchemaMigrator has run)
   * @param grid the site's grid (devices' places, responders, report-upward recipients)
   * @param clock the service clock ({@code InstantSource.system()} in production)
   * @param config channels, timeouts, retries
   * @param registry where the {@code safegrid.alarms.*} and {@code safegrid.outbox.*} metrics go
   */
  public static Alerting create(DataSource dataSource, GridDirectory grid, InstantSource clock,
      AlertingConfig config, MeterRegistry registry) {
    Objects.requireNonNull(config, "config");
    List<Channel> channels = new ArrayList<>();
    if (config.mqtt() != null) {
      channels.add(new MqttChannel(config.mqtt()));
    }
    for (WebhookConfig w : config.webhooks()) {
      channels.add(new WebhookChannel(w));
    }
    ChannelSelector selector = recipient -> {
      List<String> names = new ArrayList<>();
      // every recipient has an MQTT topic; without a broker configured the rows wait in the outbox
      names.add(MqttChannel.NAME);
      for (WebhookConfig w : config.webhooks()) {
        if (w.carries(recipient.id())) {
          names.add(w.channelName());
        }
      }
      return names;
    };
    return create(dataSource, grid, clock, config, registry, channels, selector);
  }

  /**
   * Builds the module with channels of the caller's (e.g. a test double); {@code selector} decides
   * which of them carry a recipient's notifications.
   */
  public static Alerting create(DataSource dataSource, GridDirectory grid, InstantSource clock,
      AlertingConfig config, MeterRegistry registry, List<Channel> channels, ChannelSelector selector) {
    JdbcAlarmLedger ledger = new JdbcAlarmLedger(dataSource, clock, config.ledger(), registry);
    Escalator escalator = new Escalator(ledger,
        new Router(grid, config.escalation().startLevels()), new OutboxWriter(selector), config.escalation());
    OutboxDispatcher dispatcher =
        new OutboxDispatcher(dataSource, clock, channels, config.outbox(), ledger, registry);
    // once per committed transaction that wrote notifications, after every event listener (the
    // live feed): waking the outbox thread (and its query) before the live feed was told cost the
    // alarm path a context switch on a busy core, once per event; waking it for every transaction
    // cost a futex wake on the alarm writer, the outbox thread's run and its query on PostgreSQL
    // for each rule transition, nearly all of which notify nobody (a clear, a re-open before an
    // acknowledgement)
    OutboxWaker waker = new OutboxWaker(dispatcher);
    ledger.addListener(waker);
    ledger.addAfterToldListener(waker);
    EscalationScheduler scheduler = new EscalationScheduler(escalator, config.escalation(), dispatcher::wake);
    return new Alerting(ledger, escalator, scheduler, dispatcher);
  }

  /**
   * Wakes the outbox dispatcher after a batch of told events that holds an escalation event
   * ({@code notified}, {@code escalated}: actor {@link Escalator#ACTOR}). Escalation writes every
   * outbox row ({@code OutboxWriter} in a ledger transaction) together with such an event, so a
   * batch without one committed no row and the dispatcher is not woken for it (its poll, {@link
   * OutboxConfig#pollInterval()}, still runs). A class, not lambdas:
   * nothing links on the first real alarm after a start.
   */
  private static final class OutboxWaker implements Consumer<AlarmEvent>,
      Runnable {
    private final OutboxDispatcher dispatcher;
    /** An escalation event was told since the last wake. */
    private final AtomicBoolean rowsCommitted = new AtomicBoolean();

    OutboxWaker(OutboxDispatcher dispatcher) {
      this.dispatcher = dispatcher;
    }

    /** Event listener: notes an escalation event. */
    @Override
    public void accept(AlarmEvent e) {
      if (Escalator.ACTOR.equals(e.actor())) {
        rowsCommitted.set(true);
      }
    }

    /** After-told callback: wakes the dispatcher when the batch held an escalation event. */
    @Override
    public void run() {
      if (rowsCommitted.get() && rowsCommitted.getAndSet(false)) {
        dispatcher.wake();
      }
    }
  }

  /** Starts listener dispatch, escalation polling and outbox delivery. */
  public void start() {
    ledger.start();
    dispatcher.start();
    scheduler.start();
  }

  /** The alarm ledger: give it to the rule engine (apply) and the dashboard (the rest). */
  public AlarmService alarms() {
    return ledger;
  }

  /** The ledger implementation (transactions for extensions, {@code maxEventId}). */
  public JdbcAlarmLedger ledger() {
    return ledger;
  }

  /** Escalation ({@link Escalator#runDue()} takes due steps now). */
  public Escalator escalator() {
    return escalator;
  }

  /** Outbox delivery ({@link OutboxDispatcher#runOnce()} delivers due messages now). */
  public OutboxDispatcher outbox() {
    return dispatcher;
  }

  /**
   * Stops escalation polling, then delivery (a send in progress finishes; channels are closed),
   * then listener dispatch. Does not close the DataSource. Undelivered messages and pending
   * deadlines stay in the database for the next start.
   */
  @Override
  public void close() {
    scheduler.close();
    dispatcher.close();
    ledger.close();
  }
}
