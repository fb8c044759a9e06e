/**
 * The site: where every device is, who answers for each place, who responds, and the rule
 * parameters per device type. Pure immutable records and one indexed {@link io.safegrid.site.Site};
 * no I/O. The gateway's {@code io.safegrid.gateway.config} loads it from YAML ({@code
 * config/dongnan.yaml}, snake_case keys: a record component {@code reportIntervalS} is the YAML
 * key {@code report_interval_s}).
 *
 * <p>The five-level grid (domain.md, from the seed): sub-district working committee (街道党工委)
 * -&gt; community committee (社区党委) -&gt; residential compound branch (小区党支部) -&gt; building
 * group (楼栋党小组) -&gt; unit lead household (单元中心户). Every grid node, contact, team and
 * department has an id matching {@link io.safegrid.site.Site#ID_PATTERN}, usable as an MQTT topic
 * segment.
 */
package io.safegrid.site;
