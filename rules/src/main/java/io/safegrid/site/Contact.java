package io.safegrid.site;

/**
 * A person or desk to notify. In the shipped demo site every contact is a placeholder (no real
 * people, phone numbers {@code +86-000-...}).
 *
 * @param id recipient id, {@link Site#ID_PATTERN}, unique in the site, usable as an MQTT topic
 *     segment
 * @param name display name, e.g. "Duty officer A (placeholder)"
 * @param role the role, lower snake case, e.g. {@code duty_officer}, {@code duty_leader}, {@code
 *     secretary}, {@code group_leader}, {@code lead_household}, {@code captain}, {@code duty_desk}
 * @param phone phone number as text, or null
 */
public record Contact(String id, String name, String role, String phone) {}
