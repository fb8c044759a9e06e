package io.safegrid.sim;

import io.netty.handler.codec.mqtt.MqttVersion;
import io.safegrid.sim.hold.HoldOptions;
import io.safegrid.sim.hold.HoldRunner;
import io.safegrid.sim.link.MqttClientKind;
import io.safegrid.sim.link.Transport;
import io.safegrid.sim.link.netty.SocketTransport;
import io.safegrid.sim.load.LoadOptions;
import io.safegrid.sim.load.LoadRunner;
import io.safegrid.sim.load.LoadSummary;
import io.safegrid.sim.scenario.ScenarioRunner;
import io.safegrid.sim.scenario.ScenarioSpec;
import io.safegrid.sim.scenario.TimelineEntry;
import io.safegrid.sim.site.SiteFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * The device simulator's command line ({@code bin/safegrid sim ...}):
 *
 * <pre>
 * scenario NAME [--speed X] [--mqtt tcp://127.0.0.1:1883] [--coap coap://127.0.0.1:5683]
 *               [--site config/dongnan.yaml] [--timeline FILE] [--duration-min M] [--fault F]...
 * load --devices N --rate R --qos Q --duration S --payload-bytes B --mix v3:v5:coap
 *      [--mqtt URI] [--coap URI] [--site FILE] [--api http://...] [--token T] [--summary FILE]
 *      [--mqtt-client netty|paho] [--io-threads 2] [--io-transport auto|io_uring|epoll|nio] [--max-in-flight 16]
 *      [--probe-devices N | --probe-device ID,...] [--probe-interval-ms MS]
 *      [--probe-samples FILE] [--probe-annunciation-samples FILE]
 * hold --devices N --hold-s S [--mqtt URI] [--site FILE --id-prefix P] [--mqtt-version v3|v5] [--keepalive 60]
 *      [--io-transport auto|io_uring|epoll|nio]
 * </pre>
 *
 * Exit codes (docs/simulator.md "Exit codes"; bench scripts and {@code bin/safegrid demo} treat
 * anything but 0 as a failure):
 *
 * <ul>
 *   <li>{@link #EXIT_OK} 0: the run ended and the far end acknowledged messages (scenario, load)
 *       or devices connected (hold); also {@code --help} and {@code --version};
 *   <li>{@link #EXIT_RUN_FAILED} 1: the run failed: nothing acknowledged / no device connected, a
 *       file it names (site, scenario) missing or invalid, or any other error while running
 *       ({@code error: ...} on stderr);
 *   <li>{@link #EXIT_USAGE} 2: the command line is wrong and nothing was started: an unknown
 *       command or option, a value that is not a number, a value out of range (a negative or zero
 *       duration, rate, device count, interval ...), a probe option without {@code --api}
 *       (picocli: the message, then the usage, on stderr).
 * </ul>
 */
@Command(
    name = "safegrid-sim",
    mixinStandardHelpOptions = true,
    version = SimMain.VERSION,
    description = "Plays SafeGrid devices against a gateway or any MQTT broker.",
    subcommands = {SimMain.Scenario.class, SimMain.Load.class, SimMain.Hold.class})
public final class SimMain implements Callable<Integer> {

  /** Exit code: the run ended and did what was asked. */
  public static final int EXIT_OK = 0;

  /** Exit code: the run failed (nothing acknowledged, nothing connected, a bad file, an error). */
  public static final int EXIT_RUN_FAILED = 1;

  /** Exit code: the command line is wrong; nothing was started (picocli's usage exit code). */
  public static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;

  /** What {@code -V} / {@code --version} prints, on every command. */
  static final String VERSION = "SafeGrid device simulator 0.1";

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /**
   * Runs the command line and returns the exit code (for tests): {@link #EXIT_OK}, {@link
   * #EXIT_RUN_FAILED} or {@link #EXIT_USAGE}.
   */
  public static int run(String... args) {
    return new CommandLine(new SimMain())
        .setExecutionExceptionHandler((e, cmd, parsed) -> {
          cmd.getErr().println("error: " + e.getMessage());
          return EXIT_RUN_FAILED;
        })
        .execute(args);
  }

  @Override
  public Integer call() {
    new CommandLine(this).usage(System.out);
    return EXIT_USAGE;
  }

  /**
   * Runs {@code check}, turning the {@link IllegalArgumentException} it throws for a bad option
   * value into picocli's usage error (the message and the usage on stderr, exit code 2), so that a
   * wrong command line never starts anything.
   */
  static <T> T usageChecked(CommandSpec spec, java.util.function.Supplier<T> check) {
    try {
      return check.get();
    } catch (IllegalArgumentException e) {
      throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage(), e);
    }
  }

  /**
   * {@code parser} applied to an option's value; an {@link IllegalArgumentException} it throws
   * comes out with the option's name in front, unless its message already names it.
   */
  static <T> T parsed(String option, String value, java.util.function.Function<String, T> parser) {
    try {
      return parser.apply(value);
    } catch (IllegalArgumentException e) {
      String message = String.valueOf(e.getMessage());
      throw new IllegalArgumentException(message.contains(option) ? message : option + ": " + message, e);
    }
  }

  /** Throws picocli's usage error with {@code message} unless {@code ok}. */
  static void require(CommandSpec spec, boolean ok, String message) {
    if (!ok) {
      throw new CommandLine.ParameterException(spec.commandLine(), message);
    }
  }

  /** {@code scenario NAME}: plays the site with the scenario's timeline. */
  @Command(name = "scenario", mixinStandardHelpOptions = true, showDefaultValues = true, version = VERSION,
      description = "Play every device of the site with realistic signals and the scenario's timeline "
          + "(config/scenario-NAME.yaml unless --timeline is given).")
  static final class Scenario implements Callable<Integer> {
    @Parameters(index = "0", description = "scenario name, e.g. dongnan")
    String name;

    @Option(names = "--speed", description = "simulated seconds per real second (default: the file's)")
    Double speed;

    @Option(names = "--mqtt", defaultValue = "tcp://127.0.0.1:1883", description = "MQTT gateway or broker")
    String mqtt;

    @Option(names = "--coap", defaultValue = "coap://127.0.0.1:5683",
        description = "CoAP gateway: coap://host:port (secret in option 65003) or coaps://host:port (DTLS PSK)")
    String coap;

    @Option(names = "--site", defaultValue = "config/dongnan.yaml", description = "site file with the devices")
    Path site;

    @Option(names = "--timeline", description = "scenario file (default config/scenario-NAME.yaml)")
    Path timeline;

    @Option(names = "--duration-min", description = "simulated minutes to run (0 = until Ctrl-C; default: the file's)")
    Double durationMin;

    @Option(names = "--fault", showDefaultValue = CommandLine.Help.Visibility.NEVER, description = "extra fault NAME[:DEVICE][@MINUTE], e.g. garbage:gas-001@2; "
        + "silence, reconnect_storm, backlog_burst, duplicates, out_of_order, clock_skew, garbage, wrong_secret")
    List<String> faults = new ArrayList<>();

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      // the command line first: a wrong value is a usage error before any file is read
      require(spec, speed == null || speed >= ScenarioSpec.MIN_SPEED && speed <= ScenarioSpec.MAX_SPEED,
          "--speed must be a number from " + ScenarioSpec.MIN_SPEED + " to " + (long) ScenarioSpec.MAX_SPEED
              + " (simulated seconds per real second), was " + speed);
      require(spec, durationMin == null || durationMin >= 0 && durationMin <= ScenarioSpec.MAX_DURATION_MIN,
          "--duration-min must be a number from 0 to " + (long) ScenarioSpec.MAX_DURATION_MIN
              + " (simulated minutes; 0 = until Ctrl-C), was " + durationMin);
      for (String f : faults) {
        usageChecked(spec, () -> ScenarioSpec.parseFault(f, "-"));
      }
      Path file = timeline != null ? timeline : Path.of("config", "scenario-" + name + ".yaml");
      if (!Files.isReadable(file)) {
        throw new IllegalArgumentException("no scenario file " + file + " (give --timeline FILE)");
      }
      ScenarioSpec spec = ScenarioSpec.read(file);
      if (speed != null) {
        spec = spec.withSpeed(speed);
      }
      if (durationMin != null) {
        spec = spec.withDuration(durationMin);
      }
      var devices = SiteFile.devices(site);
      List<TimelineEntry> extra = new ArrayList<>();
      for (String f : faults) {
        extra.add(ScenarioSpec.parseFault(f, devices.get(0).id()));
      }
      ScenarioRunner runner = new ScenarioRunner(spec.withExtra(extra), devices, mqtt, coap, System.out);
      Runtime.getRuntime().addShutdownHook(new Thread(runner::stop));
      runner.run();
      if (runner.sent.get() > 0 && runner.acked.get() == 0) {
        // nothing the far end took: say so in the exit code, so scripts and CI see it
        System.err.println("scenario: no message was acknowledged (" + runner.sent.get()
            + " sent): is the gateway running at " + mqtt + " / " + coap + "?");
        return EXIT_RUN_FAILED;
      }
      return EXIT_OK;
    }
  }

  /** {@code load}: N devices at a target rate; figures to stdout and a JSON summary. */
  @Command(name = "load", mixinStandardHelpOptions = true, showDefaultValues = true, version = VERSION,
      description = "Load test: N devices publish at a target rate; measures acked msg/s, PUBACK latency "
          + "and (with --api) publish-to-alarm and publish-to-annunciation latency. Works against any MQTT broker too.")
  static final class Load implements Callable<Integer> {
    @Option(names = "--devices", defaultValue = "100", description = "simulated devices")
    int devices;

    @Option(names = "--rate", defaultValue = "1000", description = "target messages per second, all devices")
    double rate;

    @Option(names = "--qos", defaultValue = "1", description = "MQTT QoS 0..2 (CoAP: 0 = NON, else CON)")
    int qos;

    @Option(names = "--duration", defaultValue = "30", description = "seconds of publishing")
    int duration;

    @Option(names = "--payload-bytes", defaultValue = "100", description = "telemetry payload size, bytes")
    int payloadBytes;

    @Option(names = "--mix", defaultValue = "1:0:0",
        description = "weights of MQTT v3 : MQTT v5 : CoAP devices, e.g. 1:1:0 for half 3.1.1, half 5")
    String mix;

    @Option(names = "--mqtt", defaultValue = "tcp://127.0.0.1:1883", description = "MQTT gateway or broker")
    String mqtt;

    @Option(names = "--coap", defaultValue = "coap://127.0.0.1:5683", description = "CoAP gateway")
    String coap;

    @Option(names = "--site", description = "take device ids and secrets from this site file "
        + "(needed against the gateway); without it devices are load-00001.. (for a broker without auth)")
    Path site;

    @Option(names = "--api", description = "gateway HTTP base for /api/live, e.g. http://127.0.0.1:8080; "
        + "without it there is no publish-to-alarm figure")
    String api;

    @Option(names = "--token", defaultValue = "demo-viewer-token", description = "bearer token for /api/live")
    String token;

    @Option(names = "--probe-device", split = ",", showDefaultValue = CommandLine.Help.Visibility.NEVER,
        description = "device id(s) of the gas alarms used as probes, which cross 25 %%LEL (default: the site's last "
            + "--probe-devices gas alarms; these are devices, not alarm ids)")
    List<String> probeIds = new ArrayList<>();

    @Option(names = "--probe-devices", defaultValue = "1",
        description = "how many gas alarm devices serve as probes when --probe-device is not given")
    int probeDevices;

    @Option(names = "--probe-transport", defaultValue = "v3", description = "how the probe talks: v3, v5 or coap")
    String probeTransport;

    @Option(names = "--probe-interval", description = "seconds between one probe device's crossings (10 unless "
        + "--probe-interval-ms is given)")
    Integer probeIntervalS;

    @Option(names = "--probe-interval-ms", description = "ms between one probe device's crossings (overrides --probe-interval)")
    Long probeIntervalMs;

    @Option(names = "--probe-samples",
        description = "write every publish-to-alarm sample to this file: crossing ts (ms), device id, latency (µs), publish and read System.nanoTime() (ns), one per line")
    Path probeSamples;

    @Option(names = "--probe-annunciation-samples",
        description = "write every publish-to-annunciation sample (event: annunciation, before the ledger) to this file, in the columns of --probe-samples")
    Path probeAnnunciationSamples;

    @Option(names = "--mqtt-client", defaultValue = "netty",
        description = "MQTT client for the load: netty (all devices on shared event loops) or paho (4 threads per device)")
    String mqttClient;

    @Option(names = "--io-threads", defaultValue = "2", description = "Netty event loop threads")
    int ioThreads;

    @Option(names = "--io-transport", defaultValue = "${sys:safegrid.sim.transport:-auto}",
        description = "socket transport of the Netty event loops: auto (io_uring, else epoll, else nio, as the gateway), "
            + "io_uring, epoll or nio (the JDK's; a native one not available falls back)")
    String ioTransport;

    @Option(names = "--max-in-flight", defaultValue = "16",
        description = "most unacknowledged messages per device (back-pressure)")
    int maxInFlight;

    @Option(names = "--keepalive", defaultValue = "30", description = "MQTT keepalive, seconds")
    int keepalive;

    @Option(names = "--connect-concurrency", defaultValue = "64", description = "most connection handshakes at a time")
    int connectConcurrency;

    @Option(names = "--burst", defaultValue = "1",
        description = "most messages a device publishes back to back on its turn (1 = one each; more = fewer system calls)")
    int burst;

    @Option(names = "--summary", description = "write the JSON summary here")
    Path summary;

    @Option(names = "--drain", defaultValue = "10", description = "seconds to wait for outstanding acks")
    int drain;

    @Option(names = "--warmup", defaultValue = "2",
        description = "first seconds left out of the latency percentiles (messages still counted; the probe crosses from 2 s, timed after these)")
    int warmup;

    @Spec
    CommandSpec spec;

    /** The probe's options: each means nothing without {@code --api}. */
    static final List<String> PROBE_OPTIONS =
        List.of("--probe-devices", "--probe-device", "--probe-transport", "--probe-interval", "--probe-interval-ms",
            "--probe-samples", "--probe-annunciation-samples");

    @Override
    public Integer call() throws Exception {
      if (api == null) {
        // the probe times publish-to-alarm on the gateway's /api/live: without --api there is
        // none, and a probe option silently ignored would look like a measurement that ran
        for (String option : PROBE_OPTIONS) {
          if (spec.commandLine().getParseResult().hasMatchedOption(option)) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + " needs --api (the alarm "
                + "probe times publish-to-alarm on the gateway's /api/live, e.g. --api http://127.0.0.1:8080)");
          }
        }
      }
      require(spec, probeIntervalMs != null || probeIntervalS == null || probeIntervalS >= 1,
          "--probe-interval must be >= 1 s, was " + probeIntervalS);
      long intervalMs = probeIntervalMs != null ? probeIntervalMs
          : (probeIntervalS != null ? probeIntervalS : 10) * 1000L;
      LoadOptions options = usageChecked(spec, () -> new LoadOptions(devices, rate, qos, duration, payloadBytes,
          LoadOptions.parseMix(mix), mqtt, coap, site, api, token, probeIds, probeDevices,
          parsed("--probe-transport", probeTransport, Transport::parse), intervalMs, summary, drain, warmup,
          parsed("--mqtt-client", mqttClient, MqttClientKind::parse), ioThreads, maxInFlight, keepalive, connectConcurrency, burst,
          probeSamples, probeAnnunciationSamples, parsed("--io-transport", ioTransport, SocketTransport::choose)));
      LoadSummary result = new LoadRunner(options, System.out).run();
      if (result.acked() == 0) {
        // nothing the far end took (no connection, refused credentials, no CoAP server): a load
        // test that measured nothing must not look like a pass to scripts
        System.err.printf("sim load: nothing was acknowledged (connected %d of %d devices, sent %d,"
            + " refused %d, failed %d): check --mqtt/--coap, --site and the far end%n",
            result.connected(), devices, result.sent(), result.refused(), result.failed());
        return EXIT_RUN_FAILED;
      }
      return EXIT_OK;
    }
  }

  /** {@code hold}: N devices connected and idle (keepalive only) for a while. */
  @Command(name = "hold", mixinStandardHelpOptions = true, showDefaultValues = true, version = VERSION,
      description = "Connect N MQTT devices (Netty, shared event loops), publish one QoS 1 reading each, then keep "
          + "them connected with keepalive only for --hold-s seconds. Prints 'READY connected=N acked=M failed=F "
          + "connect_s=S' when the handshakes are done and 'HELD connected=K of N' at the end.")
  static final class Hold implements Callable<Integer> {
    @Option(names = "--devices", defaultValue = "1000", description = "devices to connect")
    int devices;

    @Option(names = "--hold-s", defaultValue = "30", description = "seconds to stay connected (0 = until stopped)")
    int holdS;

    @Option(names = "--mqtt", defaultValue = "tcp://127.0.0.1:1883", description = "MQTT gateway or broker")
    String mqtt;

    @Option(names = "--site", description = "take device ids and secrets from this site file "
        + "(needed against the gateway); without it devices are hold-00001.. (for a broker without auth)")
    Path site;

    @Option(names = "--id-prefix", defaultValue = "", showDefaultValue = CommandLine.Help.Visibility.NEVER,
        description = "only the site's devices whose id starts with this (default: all, in file order)")
    String idPrefix;

    @Option(names = "--mqtt-version", defaultValue = "v3", description = "MQTT version: v3 (3.1.1) or v5")
    String mqttVersion;

    @Option(names = "--keepalive", defaultValue = "60", description = "MQTT keepalive, seconds")
    int keepalive;

    @Option(names = "--io-threads", defaultValue = "2", description = "Netty event loop threads")
    int ioThreads;

    @Option(names = "--io-transport", defaultValue = "${sys:safegrid.sim.transport:-auto}",
        description = "socket transport of the Netty event loops: auto (io_uring, else epoll, else nio, as the gateway), "
            + "io_uring, epoll or nio (the JDK's; a native one not available falls back)")
    String ioTransport;

    @Option(names = "--connect-concurrency", defaultValue = "64", description = "most handshakes at a time")
    int connectConcurrency;

    @Option(names = "--connect-budget-s", defaultValue = "300", description = "stop starting handshakes after this")
    int connectBudgetS;

    @Option(names = "--no-publish", description = "do not publish the one QoS 1 reading per device")
    boolean noPublish;

    @Spec
    CommandSpec spec;

    @Override
    public Integer call() throws Exception {
      HoldOptions options = usageChecked(spec, () -> {
        MqttVersion v = switch (parsed("--mqtt-version", mqttVersion, Transport::parse)) {
          case V3 -> MqttVersion.MQTT_3_1_1;
          case V5 -> MqttVersion.MQTT_5;
          case COAP -> throw new IllegalArgumentException("hold is MQTT only: --mqtt-version v3 or v5");
        };
        return new HoldOptions(devices, holdS, mqtt, site, idPrefix, v, keepalive, ioThreads, connectConcurrency,
            connectBudgetS, !noPublish, parsed("--io-transport", ioTransport, SocketTransport::choose));
      });
      HoldRunner runner = new HoldRunner(options, System.out);
      // Ctrl-C: the HELD line still comes (the JVM waits for the hook, not for run())
      Runtime.getRuntime().addShutdownHook(new Thread(() -> runner.stopAndReport(5_000)));
      HoldRunner.Result r = runner.run();
      return r.connected() == 0 ? EXIT_RUN_FAILED : EXIT_OK;
    }
  }
}
