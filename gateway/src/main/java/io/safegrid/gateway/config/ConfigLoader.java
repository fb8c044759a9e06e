package io.safegrid.gateway.config;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonStreamContext;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.exc.InvalidFormatException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import io.safegrid.model.DeviceType;
import io.safegrid.site.Site;
import io.safegrid.site.SiteProblem;
import io.safegrid.site.SiteValidationException;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * Reads a configuration file (YAML, snake_case keys) into a {@link LoadedConfig}: the {@link Site}
 * and the {@link GatewayConfig}.
 *
 * <p>Order: the file is laid over built-in defaults ({@code defaults.yaml} next to this class),
 * mapped with Jackson (unknown fields and duplicate keys are errors), the site is validated
 * ({@link Site}), the environment overrides of the public contract are applied ({@link
 * #ENV_DB_URL} and the others), and the gateway settings are checked. Any error is a {@link
 * ConfigException} naming the file, the line and the field, e.g. {@code
 * config/dongnan.yaml:212: devices[4].type: unknown device type 'gaz_alarm'}.
 */
public final class ConfigLoader {

  /** Path of the configuration file; default {@link #DEFAULT_CONFIG}. */
  public static final String ENV_CONFIG = "SAFEGRID_CONFIG";
  /** JDBC URL; default {@link DatabaseConfig#LOCAL_URL}. */
  public static final String ENV_DB_URL = "SAFEGRID_DB_URL";
  /** Database user. */
  public static final String ENV_DB_USER = "SAFEGRID_DB_USER";
  /** Database password. */
  public static final String ENV_DB_PASSWORD = "SAFEGRID_DB_PASSWORD";
  /** MQTT port (0 = pick a free one). */
  public static final String ENV_MQTT_PORT = "SAFEGRID_MQTT_PORT";
  /** CoAP port. */
  public static final String ENV_COAP_PORT = "SAFEGRID_COAP_PORT";
  /** CoAPS (DTLS) port. */
  public static final String ENV_COAPS_PORT = "SAFEGRID_COAPS_PORT";
  /** HTTP port. */
  public static final String ENV_HTTP_PORT = "SAFEGRID_HTTP_PORT";
  /** The shipped site. */
  public static final String DEFAULT_CONFIG = "config/dongnan.yaml";

  private final ObjectMapper mapper;

  /** A loader with the snake_case, strict mapper. */
  public ConfigLoader() {
    SimpleModule module = new SimpleModule("safegrid-config");
    module.addDeserializer(DeviceType.class, new DeviceTypeDeserializer());
    this.mapper =
        YAMLMapper.builder(
                YAMLFactory.builder().enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION).build())
            .propertyNamingStrategy(PropertyNamingStrategies.SNAKE_CASE)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .addModule(module)
            .build();
  }

  /**
   * The configuration file to use: {@code cliPath} if given, else {@link #ENV_CONFIG}, else
   * {@link #DEFAULT_CONFIG}.
   */
  public static Path configPath(String cliPath, Map<String, String> env) {
    if (cliPath != null && !cliPath.isBlank()) {
      return Path.of(cliPath);
    }
    String fromEnv = env.get(ENV_CONFIG);
    return Path.of(fromEnv != null && !fromEnv.isBlank() ? fromEnv : DEFAULT_CONFIG);
  }

  /** Loads with the process environment. */
  public LoadedConfig load(Path file) {
    return load(file, System.getenv());
  }

  /**
   * Loads, validates and applies the environment overrides.
   *
   * @param file the YAML file
   * @param env environment variables (only the {@code SAFEGRID_*} ones above are read)
   * @throws ConfigException on any error, naming file, line and field
   */
  public LoadedConfig load(Path file, Map<String, String> env) {
    String name = file.toString();
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (NoSuchFileException e) {
      throw new ConfigException(
          name, 0, null, "no such file (set --config or " + ENV_CONFIG + ")", e);
    } catch (IOException e) {
      throw new ConfigException(name, 0, null, "cannot read: " + e.getMessage(), e);
    }
    return parse(name, text, env, file);
  }

  /**
   * Loads from text (for tests and tools); {@code name} is used in error messages.
   *
   * @throws ConfigException on any error
   */
  public LoadedConfig parse(String name, String text, Map<String, String> env, Path file) {
    YamlLocations locations = YamlLocations.index(text);
    ConfigDocument doc;
    try {
      JsonNode tree = mapper.readTree(text);
      if (tree == null || tree.isMissingNode() || tree.isNull()) {
        throw new ConfigException(name, 1, null, "the file is empty", null);
      }
      if (!tree.isObject()) {
        throw new ConfigException(name, 1, null, "the top level must be a mapping", null);
      }
      JsonNode merged = merge(defaults(), (ObjectNode) tree);
      doc = mapper.treeToValue(merged, ConfigDocument.class);
    } catch (JsonMappingException e) {
      String pointer = pointer(e);
      throw new ConfigException(
          name, locations.line(pointer), YamlLocations.fieldName(pointer), problem(e), e);
    } catch (JsonProcessingException e) {
      throw parseError(name, e);
    }
    if (doc.site() == null) {
      throw new ConfigException(name, 1, "site", "the site section (id, name) is missing", null);
    }
    Site site;
    try {
      site =
          new Site(
              doc.site().id(),
              doc.site().name(),
              doc.grid(),
              doc.responders(),
              doc.devices(),
              doc.rules());
    } catch (SiteValidationException e) {
      throw problems(name, locations, e.problems(), e);
    }
    GatewayConfig gateway =
        EnvOverrides.apply(
            new GatewayConfig(
                doc.ports(),
                doc.database(),
                doc.dashboard(),
                doc.storage(),
                doc.mqtt(),
                doc.retentionDays(),
                doc.emergencyNetwork(),
                doc.webhooks()),
            env);
    List<SiteProblem> gatewayProblems = GatewayConfigCheck.problems(gateway);
    if (!gatewayProblems.isEmpty()) {
      throw problems(name, locations, gatewayProblems, null);
    }
    return new LoadedConfig(file, site, gateway);
  }

  private static ConfigException problems(
      String name, YamlLocations locations, List<SiteProblem> problems, Throwable cause) {
    SiteProblem first = problems.get(0);
    String more =
        problems.size() == 1
            ? ""
            : problems.subList(1, problems.size()).stream()
                .map(
                    p ->
                        "\n  "
                            + name
                            + ":"
                            + locations.line(p.path())
                            + ": "
                            + YamlLocations.fieldName(p.path())
                            + ": "
                            + p.message())
                .collect(Collectors.joining("", "\n  and " + (problems.size() - 1) + " more:", ""));
    return new ConfigException(
        name,
        locations.line(first.path()),
        YamlLocations.fieldName(first.path()),
        first.message() + more,
        cause);
  }

  private static ConfigException parseError(String name, JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    String field = null;
    if (e.getProcessor() instanceof JsonParser p) {
      JsonStreamContext ctx = p.getParsingContext();
      if (ctx != null) {
        field = YamlLocations.fieldName(ctx.pathAsPointer().toString());
      }
    }
    String msg = e.getOriginalMessage();
    if (msg != null && msg.startsWith("Duplicate field")) {
      msg = "duplicate key " + msg.substring("Duplicate field ".length());
    }
    return new ConfigException(name, loc == null ? 0 : loc.getLineNr(), field, firstLine(msg), e);
  }

  private static String pointer(JsonMappingException e) {
    StringBuilder sb = new StringBuilder();
    for (JsonMappingException.Reference r : e.getPath()) {
      sb.append('/');
      if (r.getFieldName() != null) {
        sb.append(r.getFieldName().replace("~", "~0").replace("/", "~1"));
      } else if (r.getIndex() >= 0) {
        sb.append(r.getIndex());
      }
    }
    return sb.toString();
  }

  private static String problem(JsonMappingException e) {
    if (e instanceof UnrecognizedPropertyException u) {
      String known =
          u.getKnownPropertyIds() == null
              ? ""
              : u.getKnownPropertyIds().stream()
                  .map(String::valueOf)
                  .sorted()
                  .collect(Collectors.joining(", ", " (known fields: ", ")"));
      return "unknown field '" + u.getPropertyName() + "'" + known;
    }
    if (e instanceof InvalidFormatException f && f.getTargetType() == DeviceType.class) {
      return firstLine(f.getOriginalMessage());
    }
    if (e instanceof InvalidFormatException f) {
      return "cannot read '"
          + f.getValue()
          + "' as "
          + simpleType(f.getTargetType())
          + " ("
          + firstLine(f.getOriginalMessage())
          + ")";
    }
    return firstLine(e.getOriginalMessage());
  }

  private static String simpleType(Class<?> c) {
    return c == null ? "the expected type" : c.getSimpleName();
  }

  private static String firstLine(String s) {
    if (s == null) {
      return "invalid value";
    }
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl);
  }

  private ObjectNode defaults() {
    try (InputStream in = ConfigLoader.class.getResourceAsStream("defaults.yaml")) {
      if (in == null) {
        throw new IllegalStateException("defaults.yaml missing from the gateway jar");
      }
      return (ObjectNode) mapper.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Lays {@code over} onto {@code base}: mappings merge key by key, anything else replaces. */
  private static ObjectNode merge(ObjectNode base, ObjectNode over) {
    Iterator<Map.Entry<String, JsonNode>> it = over.fields();
    List<Map.Entry<String, JsonNode>> entries = new ArrayList<>();
    it.forEachRemaining(entries::add);
    for (Map.Entry<String, JsonNode> e : entries) {
      JsonNode b = base.get(e.getKey());
      JsonNode o = e.getValue();
      if (b != null && b.isObject() && o.isObject()) {
        merge((ObjectNode) b, (ObjectNode) o);
      } else if (b != null && b.isObject() && o.isNull()) {
        // an empty section ("storage:") keeps the defaults
      } else {
        base.set(e.getKey(), o);
      }
    }
    return base;
  }

  /** Reads {@code gas_alarm}, {@code fire_panel}, {@code river_gauge}. */
  private static final class DeviceTypeDeserializer extends JsonDeserializer<DeviceType> {
    @Override
    public DeviceType deserialize(JsonParser p, DeserializationContext ctxt) throws IOException {
      String text = p.getValueAsString();
      try {
        return DeviceType.fromWireName(text);
      } catch (IllegalArgumentException e) {
        throw InvalidFormatException.from(p, e.getMessage(), text, DeviceType.class);
      }
    }
  }
}
