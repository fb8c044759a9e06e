/**
 * Combination rules: alarms of several devices in one place (building, compound, community)
 * within a window give one combined alarm of higher severity.
 */
package io.safegrid.rules.combination;
