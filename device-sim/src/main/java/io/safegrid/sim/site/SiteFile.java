package io.safegrid.sim.site;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads the devices of a site file ({@code config/dongnan.yaml}) as a plain YAML tree, the way a
 * device vendor's tool would: only {@code devices[].id, type, secret, name, premises,
 * place.compound, report_interval_s}. The simulator depends on no SafeGrid module.
 */
public final class SiteFile {

  private SiteFile() {}

  /**
   * @return the devices in file order
   * @throws IOException when the file cannot be read or is not YAML
   * @throws IllegalArgumentException when a device lacks an id, type or secret
   */
  public static List<SimDevice> devices(Path file) throws IOException {
    JsonNode root = new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
    JsonNode devices = root == null ? null : root.get("devices");
    if (devices == null || !devices.isArray()) {
      throw new IllegalArgumentException(file + ": no 'devices' list");
    }
    List<SimDevice> out = new ArrayList<>();
    for (JsonNode d : devices) {
      String id = text(d, "id");
      String type = text(d, "type");
      String secret = text(d, "secret");
      if (id == null || type == null || secret == null) {
        throw new IllegalArgumentException(file + ": a device needs id, type and secret: " + d);
      }
      JsonNode place = d.get("place");
      out.add(
          new SimDevice(
              id,
              type,
              secret,
              text(d, "name") == null ? id : text(d, "name"),
              text(d, "premises"),
              place == null ? null : text(place, "compound"),
              d.path("report_interval_s").asInt(60)));
    }
    return out;
  }

  private static String text(JsonNode node, String field) {
    JsonNode v = node.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }
}
