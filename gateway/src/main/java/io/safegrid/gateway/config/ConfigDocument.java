package io.safegrid.gateway.config;

import io.safegrid.site.Device;
import io.safegrid.site.Grid;
import io.safegrid.site.Responders;
import java.util.List;
import java.util.Map;

/** The YAML document's top level, as Jackson maps it (snake_case keys). */
record ConfigDocument(
    SiteHeader site,
    Grid grid,
    Responders responders,
    List<Device> devices,
    Map<String, Map<String, Object>> rules,
    Ports ports,
    DatabaseConfig database,
    DashboardConfig dashboard,
    StorageConfig storage,
    MqttLimits mqtt,
    int retentionDays,
    EmergencyNetworkConfig emergencyNetwork,
    List<Webhook> webhooks) {}
