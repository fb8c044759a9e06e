package io.safegrid.site;

/**
 * A response team: one of the 5 volunteer teams (236 volunteers in total) or the 3 militia
 * emergency rescue teams (43 members), per the seed.
 *
 * @param id recipient id, usable as an MQTT topic segment
 * @param name display name
 * @param members number of members
 * @param contact the captain (placeholder)
 */
public record Team(String id, String name, int members, Contact contact) {}
