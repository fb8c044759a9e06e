package io.safegrid.gateway.mqtt.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class SiteSecretAuthenticatorTest {

  private static byte[] b(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  @Test
  void outcomes() {
    var auth = new SiteSecretAuthenticator(Map.of("gas-001", "s1", "gas-002", "s2"), Set.of("gas-002"));
    assertThat(auth.authenticate("gas-001", b("s1"))).isEqualTo(AuthOutcome.OK);
    assertThat(auth.authenticate("gas-001", b("s2"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-001", b("s1 "))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-001", b("s"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-001", new byte[0])).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-001", null)).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate(null, b("s1"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-009", b("s1"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThat(auth.authenticate("gas-002", b("s2"))).isEqualTo(AuthOutcome.NOT_AUTHORIZED);
    assertThat(auth.authenticate("gas-002", b("bad"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
  }

  @Test
  void secretsAreComparedAsUtf8Bytes() {
    var auth = SiteSecretAuthenticator.of(Map.of("gauge-1", "密钥-水位"));
    assertThat(auth.authenticate("gauge-1", b("密钥-水位"))).isEqualTo(AuthOutcome.OK);
    assertThat(auth.authenticate("gauge-1", new byte[] {(byte) 0xC3, 0x28})).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    assertThatThrownBy(() -> SiteSecretAuthenticator.of(Map.of("bad", "x\uD800")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("bad");
  }

  @Test
  void aLargeSiteNeedsNoKeyDerivationPerDevice() {
    Map<String, String> secrets = new HashMap<>();
    for (int i = 1; i <= 10_000; i++) {
      secrets.put(String.format("bench-%05d", i), String.format("demo-bench-%05d", i));
    }
    var auth = SiteSecretAuthenticator.of(secrets);
    for (int i = 1; i <= 10_000; i += 999) {
      String id = String.format("bench-%05d", i);
      assertThat(auth.authenticate(id, b("demo-" + id))).isEqualTo(AuthOutcome.OK);
      assertThat(auth.authenticate(id, b("demo-bench-00000"))).isEqualTo(AuthOutcome.BAD_CREDENTIALS);
    }
  }
}
