package io.safegrid.site;

/**
 * Grid level 1: the sub-district working committee (街道党工委), top of the grid. Escalation ends
 * here: first its duty officer, then its duty leader.
 *
 * @param id grid node id, e.g. {@code dongnan}
 * @param name display name
 * @param dutyOfficer the duty officer (watches the dashboard, acknowledges)
 * @param dutyLeader the duty leader (the last escalation step)
 */
public record SubDistrict(String id, String name, Contact dutyOfficer, Contact dutyLeader) {}
