/**
 * State and event rules: fire panel events (GB/T 26875.3-2011 status bits: fire, fault,
 * supervisory, shield, mains and backup power faults, reset) and a gas alarm's own state codes.
 */
package io.safegrid.rules.event;
