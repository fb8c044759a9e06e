package io.safegrid.gateway.ingest;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import io.safegrid.model.Reading;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class PayloadDecoderTest {

  private static final long NOW = 1_795_960_800_000L; // 2026-11-29T14:00:00Z
  private final PayloadDecoder decoder = new PayloadDecoder();

  private DecodedMessage telemetry(String json) {
    return decoder.decodeTelemetry("gas-001", json.getBytes(UTF_8), NOW);
  }

  @Test
  void contractExampleWithEpochMillis() {
    DecodedMessage m =
        telemetry("{\"ts\": 1764403200000, \"seq\": 42, \"values\": {\"gas_lel\": 12.5, \"battery_pct\": 87}}");
    assertThat(m.invalid()).isFalse();
    assertThat(m.rejections()).isEmpty();
    assertThat(m.readings())
        .containsExactly(
            new Reading("gas-001", "gas_lel", 1_764_403_200_000L, 12.5, 42),
            new Reading("gas-001", "battery_pct", 1_764_403_200_000L, 87, 42));
  }

  @Test
  void isoTimeWithOffsetIsTheSameInstant() {
    DecodedMessage utc = telemetry("{\"ts\": \"2026-11-29T08:00:00Z\", \"values\": {\"gas_lel\": 1}}");
    DecodedMessage beijing = telemetry("{\"ts\": \"2026-11-29T16:00:00+08:00\", \"values\": {\"gas_lel\": 1}}");
    long expected = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();
    assertThat(utc.readings().get(0).timeMillis()).isEqualTo(expected);
    assertThat(beijing.readings().get(0).timeMillis()).isEqualTo(expected);
  }

  /** Newcomer5 F7: {@code {}} is refused as having no values, not as a "values" of the wrong shape. */
  @Test
  void anObjectWithoutValuesSaysSoPlainly() {
    assertThat(telemetry("{}").error())
        .isEqualTo("no values in message: no \"values\" object, e.g. {\"values\": {\"gas_lel\": 12.5}}");
    assertThat(telemetry("{\"ts\": 1764403200000}").error()).startsWith("no values in message: no \"values\" object");
    assertThat(telemetry("{\"values\": {}}").error()).isEqualTo("no values in message");
    assertThat(telemetry("{\"values\": 3}").error())
        .isEqualTo("no usable value: \"values\" must be an object of metric name to number");
    assertThat(telemetry("[{}, {}]").error())
        .isEqualTo("no usable value: record 0: no \"values\" object; record 1: no \"values\" object");
  }

  @Test
  void missingTimeTakesReceiveTime() {
    assertThat(telemetry("{\"values\": {\"level_m\": 268.4}}").readings().get(0).timeMillis()).isEqualTo(NOW);
  }

  @Test
  void nanInfinityAndStringsRefuseOnlyTheirField() {
    DecodedMessage m =
        telemetry("{\"values\": {\"gas_lel\": NaN, \"co_ppm\": Infinity, \"battery_pct\": \"87\", \"signal_pct\": 70, \"x_v\": 1e400}}");
    assertThat(m.invalid()).isFalse();
    assertThat(m.readings()).extracting(Reading::metric).containsExactly("signal_pct");
    assertThat(m.rejections())
        .hasSize(4)
        .anySatisfy(r -> assertThat(r).startsWith("gas_lel: NaN"))
        .anySatisfy(r -> assertThat(r).startsWith("co_ppm: Infinity"))
        .anySatisfy(r -> assertThat(r).startsWith("battery_pct: the string \"87\""))
        .anySatisfy(r -> assertThat(r).startsWith("x_v:"));
  }

  @Test
  void backlogArrayKeepsGoodRecordsAndNamesTheBadOne() {
    DecodedMessage m =
        telemetry("[{\"ts\": 1764403200000, \"seq\": 1, \"values\": {\"gas_lel\": 1}},"
            + " {\"ts\": \"yesterday\", \"values\": {\"gas_lel\": 2}},"
            + " {\"ts\": 1764403203000, \"seq\": 3, \"values\": {\"gas_lel\": 3}}]");
    assertThat(m.readings()).extracting(Reading::timeMillis).containsExactly(1764403200000L, 1764403203000L);
    assertThat(m.rejections()).singleElement().asString().startsWith("record 1: ts:");
  }

  @Test
  void aTimeMoreThanADayAheadOfTheGatewayIsRefusedWithItsReason() {
    // beyond timestamptz: the database would refuse it after the PUBACK (newcomer finding P1)
    DecodedMessage far = telemetry("{\"ts\": 99999999999999999, \"values\": {\"gas_lel\": 1.4}}");
    assertThat(far.invalid()).isTrue();
    assertThat(far.error()).contains("ts: 99999999999999999 is more than 24 h after the gateway's clock");
    // storable, but it would be the device's last reading until 2200 (P2)
    DecodedMessage y2200 = telemetry("{\"ts\": \"2200-01-01T00:00:00Z\", \"values\": {\"gas_lel\": 2.2}}");
    assertThat(y2200.invalid()).isTrue();
    assertThat(y2200.error()).contains("more than 24 h after");
    DecodedMessage skewed = telemetry("{\"ts\": " + (NOW + 23 * 3_600_000L) + ", \"values\": {\"gas_lel\": 2.2}}");
    assertThat(skewed.readings()).extracting(Reading::timeMillis).containsExactly(NOW + 23 * 3_600_000L);
    DecodedMessage events = decoder.decodeEvents("fire-1", ("{\"ts\": \"2200-01-01T00:00:00Z\", \"event\": \"fire\"}").getBytes(UTF_8), NOW);
    assertThat(events.events()).as("a fire keeps its alarm: stored at its receive time (newcomer7 F24)")
        .singleElement().satisfies(e -> assertThat(e.timeMillis()).isEqualTo(NOW));
    assertThat(events.rejections()).singleElement().asString().contains("more than 24 h after")
        .endsWith("the event is stored at its receive time");
  }

  @Test
  void aKeyTwiceInOneObjectRefusesTheMessageInsteadOfTakingTheLast() {
    // {"values": low, "values": 99}: taking the last raised a critical alarm (newcomer finding P3)
    DecodedMessage m = telemetry("{\"values\": {\"gas_lel\": 1.6}, \"values\": {\"gas_lel\": 99}}");
    assertThat(m.invalid()).isTrue();
    assertThat(m.error()).isEqualTo("ambiguous JSON: the key \"values\" appears twice in one object (line 1, column 38)");
    assertThat(telemetry("{\"values\": {\"gas_lel\": 1, \"gas_lel\": 2}}").invalid()).isTrue();
  }

  @Test
  void epochSecondsAreRefusedNotStoredIn1970() {
    DecodedMessage m = telemetry("{\"ts\": 1795960000, \"values\": {\"gas_lel\": 1}}");
    assertThat(m.invalid()).isTrue();
    assertThat(m.error()).contains("looks like epoch seconds");
    DecodedMessage backlog =
        telemetry("[{\"ts\": 1795960000, \"values\": {\"gas_lel\": 1}},"
            + " {\"ts\": 1795960000000, \"values\": {\"gas_lel\": 2}}]");
    assertThat(backlog.readings()).extracting(Reading::timeMillis).containsExactly(1795960000000L);
    assertThat(backlog.rejections()).singleElement().asString().startsWith("record 0: ts: 1795960000 looks like epoch seconds");
  }

  @Test
  void garbageIsInvalidWithAReasonThatSaysWhere() {
    assertThat(telemetry("{\"values\": {\"gas_lel\": 1").error()).startsWith("not JSON").contains("line 1");
    assertThat(telemetry("{\"values\": {\"gas_lel\": 1").error())
        .as("a dead letter's reason carries no Jackson internals")
        .doesNotContain("Source").doesNotContain("StreamReadFeature").doesNotContain("REDACTED");
    assertThat(telemetry("not json").error()).startsWith("not JSON");
    assertThat(telemetry("42").error()).contains("expected a JSON object");
    assertThat(telemetry("[]").error()).isEqualTo("empty array");
    assertThat(telemetry("").error()).isEqualTo("empty payload");
    assertThat(telemetry("{\"values\": {}} {}").error()).contains("trailing data");
    assertThat(telemetry("{\"values\": {\"gas_lel\": NaN}}").error()).startsWith("no usable value: gas_lel: NaN");
  }

  /**
   * Newcomer note D4: reasons in plain words with the position, none of Jackson's wording (its
   * "was expecting (JSON String, Number (or 'NaN'/'+INF'/'-INF'), ..." suggested NaN is accepted).
   */
  @Test
  void notJsonReasonsArePlainWordsWithThePosition() {
    assertThat(telemetry("not json").error()).isEqualTo(
        "not JSON: unexpected word 'not' (a JSON value is an object, array, string, number, true, false or null)"
            + " (line 1, column 1)");
    assertThat(telemetry("{values: 1}").error())
        .isEqualTo("not JSON: unexpected character 'v', expected a key in double quotes (line 1, column 2)");
    assertThat(telemetry("{\"values\": {\"gas_lel\": 1").error())
        .isEqualTo("not JSON: the text ends before the JSON value is complete (line 1, column 25)");
    assertThat(telemetry("{\"values\" {}}").error())
        .isEqualTo("not JSON: unexpected character '{', expected ':' after the key (line 1, column 11)");
    assertThat(telemetry("{\"values\": {\"gas_lel\": 1 \"x_v\": 2}}").error())
        .isEqualTo("not JSON: unexpected character '\"', expected ',' or '}' (line 1, column 26)");
    assertThat(telemetry("[{\"values\": {\"gas_lel\": 1}}}").error()).startsWith("not JSON: unexpected '}'");
    assertThat(decoder.decodeTelemetry("gas-001", new byte[] {'{', '"', (byte) 0xFF, '"', ':', '1', '}'}, NOW).error())
        .startsWith("not JSON: bytes that are not UTF-8 text");
    assertThat(telemetry("{\"values\": {\"gas_lel\": 1}, \"text\": \"a\u0001b\"}").error())
        .startsWith("not JSON: control character U+0001 inside a string (must be escaped)");
    for (String bad : new String[] {"not json", "{values: 1}", "{\"values\": [1,}", "\u0000{}", "{\"a\":tru}",
        "[".repeat(40) + "]".repeat(40), "{\"values\":{\"gas_lel\":" + "1".repeat(80) + "}}"}) {
      assertThat(telemetry(bad).error()).as(bad)
          .matches("(not JSON|not JSON this gateway reads|ambiguous JSON): .*")
          .doesNotContain("was expecting", "NaN", "INF", "Source", "StreamRead", "REDACTED", "JSON String");
    }
  }

  /**
   * Newcomer note P4: a %LEL no gas mixture can read (below 0, above 5,000: 100 %vol propane is
   * 4,762 %LEL) is a sensor or encoding fault, refused with its reason, never a reading to alarm
   * on; the rest of the record is kept. Over the detector's 0-100 range is gas at or above its
   * lower explosive limit: accepted, so the level 2 alarm is raised.
   */
  @Test
  void aLelNoGasCanReadIsRefusedAnOverRangeLelIsAReading() {
    String why = " %LEL is outside 0-5000 %LEL, what any gas mixture can read: a sensor or encoding fault, not a reading";
    DecodedMessage huge = telemetry("{\"values\": {\"gas_lel\": 1e300, \"battery_pct\": 87}}");
    assertThat(huge.readings()).extracting(Reading::metric).containsExactly("battery_pct");
    assertThat(huge.rejections()).containsExactly("gas_lel: 1.0E300" + why);
    DecodedMessage negative = telemetry("{\"values\": {\"gas_lel\": -40}}");
    assertThat(negative.invalid()).isTrue();
    assertThat(negative.error()).isEqualTo("no usable value: gas_lel: -40" + why);
    assertThat(telemetry("{\"values\": {\"gas_lel\": 5000.01}}").invalid()).isTrue();
    assertThat(telemetry("{\"values\": {\"ch4_lel\": -0.5}}").invalid()).as("any %LEL metric").isTrue();
    assertThat(telemetry("{\"values\": {\"gas_lel\": 100.01}}").readings())
        .as("over the detector's range: gas above its LEL, alarmed on").extracting(Reading::value).containsExactly(100.01);
    assertThat(telemetry("{\"values\": {\"gas_lel\": 0, \"lpg_lel\": 100, \"ch4_lel\": 5000}}").readings()).hasSize(3);
    assertThat(telemetry("{\"values\": {\"level_m\": 1e6, \"co_ppm\": -1}}").readings())
        .as("no range for other units (domain.md gives none)").hasSize(2);
  }

  @Test
  void badMetricNamesAreRefused() {
    DecodedMessage m = telemetry("{\"values\": {\"Gas LEL\": 1, \"gas_lel\": 2}}");
    assertThat(m.readings()).extracting(Reading::metric).containsExactly("gas_lel");
    assertThat(m.rejections()).singleElement().asString().contains("metric name");
  }

  @Test
  void deepNestingIsRefusedWithoutBlowingTheStack() {
    String deep = "[".repeat(10_000) + "]".repeat(10_000);
    assertThat(telemetry(deep).invalid()).isTrue();
  }

  /**
   * The streaming path (most payloads) and the tree path (every rule, every reason) must give
   * the same readings, rejections and errors for every payload, including the ones the streaming
   * path hands over to the tree.
   */
  @Test
  void streamingAndTreeDecodersAgree() {
    String[] payloads = {
      "{\"ts\": 1764403200000, \"seq\": 42, \"values\": {\"gas_lel\": 12.5, \"battery_pct\": 87}}",
      "{\"values\": {\"gas_lel\": 1}, \"ts\": 1764403200000, \"seq\": 7}",
      "{\"ts\": \"2026-11-29T16:00:00+08:00\", \"values\": {\"gas_lel\": -0.0, \"x_v\": 1e300}}",
      "{\"ts\": null, \"seq\": null, \"values\": {\"level_m\": 268.4}, \"extra\": {\"a\": [1, {\"b\": 2}]}}",
      "[{\"ts\": 1764403200000, \"values\": {\"gas_lel\": 1}}, {\"ts\": 1764403201000, \"values\": {\"gas_lel\": 2}}]",
      "{\"values\": {\"gas_lel\": 1, \"gas_lel\": 2}}",
      "{\"ts\": 1, \"ts\": 1764403200000, \"values\": {\"gas_lel\": 1}}",
      "{\"ts\": 1764403200000.0, \"values\": {\"gas_lel\": 1}}",
      "{\"ts\": 99999999999999999999999, \"values\": {\"gas_lel\": 1}}",
      "{\"seq\": -1, \"values\": {\"gas_lel\": 1}}",
      "{\"seq\": 1.5, \"values\": {\"gas_lel\": 1}}",
      "{\"values\": {\"gas_lel\": 123456789012345678901234567890}}",
      "{\"values\": {\"gas_lel\": NaN, \"co_ppm\": 3}}",
      "{\"values\": {\"Gas\": 1, \"gas_lel\": 2}}",
      "{\"values\": {\"g\": true}}",
      "{\"values\": {}}",
      "{\"values\": []}",
      "{\"values\": {\"gas_lel\": 1}} x",
      "{\"values\": {\"gas_lel\": 1}",
      "[{\"values\": {\"gas_lel\": 1}}, 5]",
      "[{\"values\": {\"gas_lel\": 1}}, {\"values\": {}}]",
      "[]",
      "{}",
      "\"text\"",
      "{\"values\": {\"" + "a".repeat(64) + "\": 1, \"" + "a".repeat(65) + "\": 2}}",
      "{\"ts\": \"2026-11-29T08:00:00\", \"values\": {\"gas_lel\": 1}}",
      "{\"ts\": 99999999999999999, \"values\": {\"gas_lel\": 1.4}}",
      "{\"ts\": \"2200-01-01T00:00:00Z\", \"values\": {\"gas_lel\": 2.2}}",
      "{\"ts\": \"1970-01-02T00:00:00Z\", \"values\": {\"gas_lel\": 2.2}}",
      "{\"ts\": " + (NOW + 23 * 3_600_000L) + ", \"values\": {\"gas_lel\": 2.2}}",
      "{\"values\": {\"gas_lel\": 1.6}, \"values\": {\"gas_lel\": 99}}",
      "[{\"ts\": " + (NOW + 25 * 3_600_000L) + ", \"values\": {\"gas_lel\": 1}}, {\"values\": {\"gas_lel\": 2}}]",
      "{\"values\": {\"gas_lel\": 1e300, \"battery_pct\": 87}}",
      "{\"values\": {\"gas_lel\": -40}}",
      "{\"values\": {\"gas_lel\": 100, \"lpg_lel\": 0}}",
      "[{\"values\": {\"gas_lel\": 100.5}}, {\"values\": {\"gas_lel\": 3}}]",
    };
    for (String json : payloads) {
      byte[] bytes = json.getBytes(UTF_8);
      assertThat(decoder.decodeTelemetry("gas-001", bytes, NOW))
          .as(json)
          .isEqualTo(decoder.treeTelemetry("gas-001", bytes, NOW));
    }
  }

  /**
   * Newcomer6 F3: a NUL in an event's free text (NUL-padded firmware fields) must not cost the
   * fire alarm: stored with U+FFFD, and a rejection line so the payload is kept as a dead letter.
   */
  @Test
  void aNulInAnEventsTextIsStoredAsReplacementCharacterAndNoted() {
    DecodedMessage m = decoder.decodeEvents("fire-nanmen-2",
        "{\"event\":\"fire\",\"zone\":4,\"point\":4,\"text\":\"smoke\\u0000here\"}".getBytes(UTF_8), NOW);
    assertThat(m.invalid()).isFalse();
    assertThat(m.events()).singleElement().satisfies(e -> {
      assertThat(e.event()).isEqualTo("fire");
      assertThat(e.text()).isEqualTo("smoke\uFFFDhere");
    });
    assertThat(m.rejections()).singleElement().asString().startsWith("text: U+0000 stored as U+FFFD");
    DecodedMessage clean = decoder.decodeEvents("fire-nanmen-2",
        "{\"event\":\"fire\",\"text\":\"a\\u0001b\"}".getBytes(UTF_8), NOW);
    assertThat(clean.rejections()).as("other control characters are kept as they are").isEmpty();
    assertThat(clean.events().get(0).text()).isEqualTo("a\u0001b");
  }

  /** Newcomer6 F7: refusal reasons in plain words. */
  @Test
  void refusalsQuoteWhatWasSentInPlainWords() {
    assertThat(telemetry("{\"ts\":0,\"values\":{\"gas_lel\":1}}").error())
        .contains("ts: 0 is not a time").contains("e.g. 1764403200000").doesNotContain("e.g. 0000");
    assertThat(telemetry("null").error())
        .isEqualTo("expected a JSON object or an array of objects, got null");
    DecodedMessage huge = telemetry("{\"values\":{\"gas_lel\":1e999,\"battery_pct\":80}}");
    assertThat(huge.rejections()).singleElement().asString().isEqualTo("gas_lel: 1e999 is not a finite number");
  }

  @Test
  void eventsDecodeWithZoneAndPoint() {
    DecodedMessage m =
        decoder.decodeEvents(
            "fire-languang-xiangjiang",
            "{\"ts\": 1764403200000, \"event\": \"fire\", \"zone\": 10, \"point\": 2, \"text\": \"3F kitchen\"}".getBytes(UTF_8),
            NOW);
    assertThat(m.events()).singleElement().satisfies(e -> {
      assertThat(e.event()).isEqualTo("fire");
      assertThat(e.zone()).isEqualTo(10);
      assertThat(e.point()).isEqualTo(2);
      assertThat(e.text()).isEqualTo("3F kitchen");
      assertThat(e.timeMillis()).isEqualTo(1764403200000L);
    });
    assertThat(decoder.decodeEvents("x", "{\"event\": 5}".getBytes(UTF_8), NOW).invalid()).isTrue();
  }

  private DecodedMessage events(String json) {
    return decoder.decodeEvents("fire-kindergarten-4", json.getBytes(UTF_8), NOW);
  }

  /**
   * Newcomer7 F24: a fire whose zone or point is a numeric string or an integral float, or whose
   * text is not a string, is a fire: kept, read as meant, no rejection.
   */
  @Test
  void aFireWithZoneAsStringOrFloatOrTextAsNumberIsAFire() {
    DecodedMessage m = events("{\"event\":\"fire\",\"zone\":\"3\",\"point\":\" 12 \",\"text\":\"Building 2 smoke\"}");
    assertThat(m.rejections()).isEmpty();
    assertThat(m.events()).singleElement().satisfies(e -> {
      assertThat(e.event()).isEqualTo("fire");
      assertThat(e.zone()).isEqualTo(3);
      assertThat(e.point()).isEqualTo(12);
      assertThat(e.text()).isEqualTo("Building 2 smoke");
      assertThat(e.timeMillis()).isEqualTo(NOW);
    });
    DecodedMessage f = events("{\"event\":\"fire\",\"zone\":3.0,\"point\":\"7.0\",\"text\":12}");
    assertThat(f.rejections()).isEmpty();
    assertThat(f.events()).singleElement().satisfies(e -> {
      assertThat(e.zone()).isEqualTo(3);
      assertThat(e.point()).isEqualTo(7);
      assertThat(e.text()).as("a non-string text is kept as its JSON text").isEqualTo("12");
    });
    assertThat(events("{\"event\":\"fire\",\"text\":{\"floor\":3}}").events().get(0).text()).isEqualTo("{\"floor\":3}");
    assertThat(events("{\"event\":\"fire\",\"text\":true}").events().get(0).text()).isEqualTo("true");
  }

  /**
   * Newcomer7 F24: what is no zone number ("3a", 3.5, -1, 2^32, an object) costs the fire nothing:
   * the event is kept without it and the part is named, so the payload becomes a partly_refused
   * dead letter.
   */
  @Test
  void aMeaninglessZoneOrPointIsLeftOutAndNamedTheFireIsKept() {
    for (String zone : new String[] {"\"3a\"", "3.5", "-1", "4294967296", "{\"z\":3}", "\"\"", "true", "1e400"}) {
      DecodedMessage m = events("{\"event\":\"fire\",\"zone\":" + zone + ",\"point\":2}");
      assertThat(m.invalid()).as(zone).isFalse();
      assertThat(m.events()).as(zone).singleElement().satisfies(e -> {
        assertThat(e.event()).isEqualTo("fire");
        assertThat(e.zone()).isNull();
        assertThat(e.point()).isEqualTo(2);
      });
      assertThat(m.rejections()).as(zone).singleElement().asString()
          .startsWith("zone: ").contains("is not a zone number").endsWith("the event is stored without it");
    }
    DecodedMessage p = events("[{\"event\":\"fire\",\"zone\":1,\"point\":\"x\"},{\"event\":\"reset\"}]");
    assertThat(p.events()).hasSize(2);
    assertThat(p.rejections()).singleElement().asString().startsWith("record 0: point: the string \"x\"");
  }

  /**
   * Newcomer7 F24/F22: a fire with a ts the gateway cannot read, or one out of bounds, is raised on
   * its receive time and the ts is named; an event without a valid name is still refused.
   */
  @Test
  void aFireWithAnUnreadableTsIsKeptAtItsReceiveTime() {
    for (String ts : new String[] {"\"yesterday\"", "\"2026-11-30T15:19:00\"", "12", "\"1795960000\"", "[1]"}) {
      DecodedMessage m = events("{\"event\":\"fire\",\"zone\":1,\"point\":1,\"ts\":" + ts + "}");
      assertThat(m.events()).as(ts).singleElement().satisfies(e -> assertThat(e.timeMillis()).isEqualTo(NOW));
      assertThat(m.rejections()).as(ts).singleElement().asString().startsWith("ts: ")
          .endsWith("the event is stored at its receive time");
    }
    assertThat(events("{\"event\":\"FIRE!\",\"zone\":1}").invalid()).isTrue();
    assertThat(events("{\"zone\":1}").error()).contains("\"event\" must be a name");
  }

  /**
   * Newcomer7 F22: strftime's {@code %z} offset ({@code +0800}), hours only, RFC 3339's space for
   * the T, epoch ms as a string: the same instant as the strict form, on the streaming and the
   * tree path, for telemetry and events; a time without an offset is still refused.
   */
  @Test
  void offsetsAsFirmwareWritesThemAreRead() {
    long expected = Instant.parse("2026-11-29T08:00:00Z").toEpochMilli();
    for (String ts : new String[] {"\"2026-11-29T16:00:00+0800\"", "\"2026-11-29T16:00:00+08:00\"", "\"2026-11-29T16:00:00+08\"",
        "\"2026-11-29 16:00:00+08:00\"", "\"2026-11-29 16:00:00+0800\"", "\"2026-11-29 08:00:00Z\"", "\"2026-11-29t08:00:00z\"",
        "\"2026-11-29T02:30:00-0530\"", "\"" + expected + "\""}) {
      String json = "{\"ts\":" + ts + ",\"values\":{\"gas_lel\":1.5}}";
      DecodedMessage m = telemetry(json);
      assertThat(m.rejections()).as(ts).isEmpty();
      assertThat(m.readings()).as(ts).singleElement().satisfies(r -> assertThat(r.timeMillis()).isEqualTo(expected));
      assertThat(decoder.treeTelemetry("gas-001", json.getBytes(UTF_8), NOW)).as(ts).isEqualTo(m);
      DecodedMessage e = events("{\"event\":\"fire\",\"ts\":" + ts + "}");
      assertThat(e.rejections()).as(ts).isEmpty();
      assertThat(e.events().get(0).timeMillis()).as(ts).isEqualTo(expected);
    }
    assertThat(PayloadDecoder.isoMillis("2026-11-29T16:00:00.250+0800")).isEqualTo(expected + 250);
    for (String ts : new String[] {"\"2026-11-29T16:00:00\"", "\"2026-11-29T16:00:00+080\"", "\"2026-02-30T16:00:00Z\"",
        "\"2026-11-29  16:00:00Z\""}) {
      assertThat(telemetry("{\"ts\":" + ts + ",\"values\":{\"gas_lel\":1.5}}").error()).as(ts)
          .contains("is not a date and time with an offset");
    }
  }

  /**
   * Newcomer7 F23: a payload that ends in a C string's NUL (or a NUL-padded buffer, white space
   * mixed in) is read without it; a NUL elsewhere is still not JSON.
   */
  @Test
  void trailingNulBytesAreNotPartOfThePayload() {
    for (String tail : new String[] {"\u0000", "\u0000\u0000\u0000\u0000", "\n\u0000", "\u0000 \u0000\r\n"}) {
      byte[] b = ("{\"values\":{\"gas_lel\":1.5}}" + tail).getBytes(UTF_8);
      DecodedMessage m = decoder.decodeTelemetry("gas-081", b, NOW);
      assertThat(m.invalid()).isFalse();
      assertThat(m.rejections()).isEmpty();
      assertThat(m.readings()).singleElement().satisfies(r -> assertThat(r.value()).isEqualTo(1.5));
      assertThat(decoder.treeTelemetry("gas-081", b, NOW)).isEqualTo(m);
      assertThat(PayloadDecoder.nulPadded(b)).isTrue();
      assertThat(decoder.decodeEvents("fire-1", ("{\"event\":\"fire\"}" + tail).getBytes(UTF_8), NOW).events()).hasSize(1);
    }
    assertThat(PayloadDecoder.nulPadded("{\"values\":{\"gas_lel\":1.5}}\n".getBytes(UTF_8))).isFalse();
    assertThat(telemetry("{\"values\":{\"gas_lel\":1.5}}\n").invalid()).isFalse();
    assertThat(telemetry("{\"values\":{\"gas_lel\"\u0000:1.5}}").error()).startsWith("not JSON");
    assertThat(telemetry("{\"values\":{\"gas_lel\":1.5}}\u0000x").error()).startsWith("not JSON");
    assertThat(telemetry("\u0000\u0000").error()).startsWith("empty payload");
  }
}
